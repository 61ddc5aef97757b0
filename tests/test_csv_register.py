"""Register CSVs are read strictly: separators, field counts and encodings, each problem with its line."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest
from corpus_factory import MANIFEST_FIELDS, make_corpus

from kwalitatief.corpus import RegisterError, load_register
from kwalitatief.pseudonymise import read_table


def _problems(corpus: Path) -> list[str]:
    with pytest.raises(RegisterError) as info:
        load_register(corpus)
    return info.value.problems


def test_an_unquoted_comma_in_a_title_is_an_error_not_a_truncated_row(tmp_path):
    """Red-team step: the row was cut after the comma and `kwal check` passed."""
    corpus = make_corpus(tmp_path)
    with open(corpus / "manifest.csv", "a", encoding="utf-8") as handle:
        handle.write("int_3,transcripts/int_1.txt,transcript,Twente,R1,2022-03-05,Interview gemeente Enschede, wethouder\n")
    [problem] = _problems(corpus)
    assert "manifest.csv line 5: 8 fields, but the header has 7: a comma inside a value?" in problem
    assert 'double quotes' in problem


def test_a_row_with_too_few_fields_is_an_error_with_its_line(tmp_path):
    corpus = make_corpus(tmp_path)
    with open(corpus / "manifest.csv", "a", encoding="utf-8") as handle:
        handle.write("int_3,transcripts/int_1.txt,transcript,Twente\n\nint_4,transcripts/int_1.txt\n")
    problems = _problems(corpus)
    assert [p.split(": ", 1)[0].rsplit("/", 1)[1] for p in problems] == ["manifest.csv line 5", "manifest.csv line 7"]
    assert "4 fields, but the header has 7" in problems[0] and "2 fields" in problems[1]


def _semicolon_copy(source: Path, target: Path) -> None:
    """What Excel with Dutch regional settings saves: `;`, quoted where needed, CRLF, a BOM."""
    with open(source, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    with open(target, "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, delimiter=";", lineterminator="\r\n").writerows(rows)


def test_a_semicolon_separated_register_is_read_like_the_comma_one(tmp_path):
    corpus = make_corpus(tmp_path / "a")
    expected = load_register(corpus)
    for name in ("manifest.csv", "respondents.csv", "regions.csv"):   # regions hold 'Enschede; Hengelo'
        _semicolon_copy(corpus / name, corpus / f"{name}.tmp")
        (corpus / f"{name}.tmp").replace(corpus / name)
    assert (corpus / "regions.csv").read_text(encoding="utf-8-sig").count(";") > 20
    register = load_register(corpus)
    assert register.documents == expected.documents
    assert register.regions == expected.regions and register.respondents == expected.respondents
    assert read_table(corpus / "respondents.csv") == expected.respondents   # `kwal pseudonymise` reads it too


def _libreoffice(tmp_path: Path, source: Path, options: str) -> Path:
    """Convert a CSV with LibreOffice Calc (options: separator, quote, charset as LibreOffice numbers them)."""
    out = tmp_path / f"lo-{options.replace(',', '_')}"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                    "--infilter=CSV:44,34,76,1", "--convert-to", f"csv:Text - txt - csv (StarCalc):{options}",
                    "--outdir", str(out), str(source)], check=True, capture_output=True, timeout=120)
    return out / source.name


needs_calc = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice Calc (soffice) not installed")


@needs_calc
def test_libreoffice_semicolon_and_cp1252_exports_are_read_or_refused_with_the_line(tmp_path):
    """Files written by LibreOffice Calc, not by us: a `;` export is read; a Windows-1252 export is refused
    naming the line and column of the first non-UTF-8 byte."""
    corpus = make_corpus(tmp_path)
    with open(corpus / "manifest.csv", "a", encoding="utf-8", newline="") as handle:
        csv.DictWriter(handle, fieldnames=MANIFEST_FIELDS).writerow(
            {"doc_id": "int_3", "path": "transcripts/int_1.txt", "doc_type": "transcript", "region": "Twente",
             "respondent_id": "R1", "date": "", "title": "Café Noord; één gesprek, ’s avonds"})
    expected = load_register(corpus)
    source = tmp_path / "manifest.csv"
    shutil.copy(corpus / "manifest.csv", source)

    semicolon = _libreoffice(tmp_path, source, "59,34,76,1")          # `;`, quote ", UTF-8
    assert semicolon.read_text(encoding="utf-8").splitlines()[0].count(";") == 6
    shutil.copy(semicolon, corpus / "manifest.csv")
    assert [d.title for d in load_register(corpus).documents] == [d.title for d in expected.documents]

    windows = _libreoffice(tmp_path, source, "44,34,1,1")             # `,`, quote ", Windows-1252
    shutil.copy(windows, corpus / "manifest.csv")
    [problem] = _problems(corpus)
    assert "manifest.csv line 5, column" in problem and "not UTF-8" in problem and "Café Noord" in problem


def test_a_cp1252_manifest_names_line_and_column(tmp_path):
    corpus = make_corpus(tmp_path)
    text = (corpus / "manifest.csv").read_text(encoding="utf-8").replace("Interview 2", "Interview één")
    (corpus / "manifest.csv").write_bytes(text.encode("cp1252"))
    [problem] = _problems(corpus)
    assert "manifest.csv line 3, column" in problem and "byte 0xe9 is not UTF-8" in problem
    assert "Interview één" in problem and "save the file as UTF-8" in problem


def test_a_utf16_register_file_gets_a_hint(tmp_path):
    corpus = make_corpus(tmp_path)
    text = (corpus / "respondents.csv").read_text(encoding="utf-8")
    (corpus / "respondents.csv").write_bytes(text.encode("utf-16"))
    problems = _problems(corpus)
    assert any("respondents.csv: the file is UTF-16" in p and "CSV UTF-8" in p for p in problems), problems
    assert len(problems) < 5   # no flood of follow-on errors


def test_missing_columns_show_what_was_found(tmp_path):
    corpus = make_corpus(tmp_path)
    (corpus / "respondents.csv").write_text("respondent|respondent_type\nR1|gemeente\n", encoding="utf-8")
    problems = _problems(corpus)
    assert any("line 1: missing column(s) respondent_id" in p and "found: respondent|respondent_type" in p
               for p in problems)
