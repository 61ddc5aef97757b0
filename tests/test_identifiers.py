"""Identifiers that become file names or keys are validated; per-document files never leave their folder."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from corpus_factory import MANIFEST_FIELDS, REGIONS, make_corpus

from kwalitatief import ingest
from kwalitatief.corpus import RegisterError, load_register
from kwalitatief.identifiers import UnsafePathError, contained_file, id_problem, name_problem
from kwalitatief.jsonio import write_json_dir


def _append(path: Path, fields: list[str], row: dict) -> None:
    with open(path, "a", newline="", encoding="utf-8") as handle:
        csv.DictWriter(handle, fieldnames=fields).writerow(row)


def _manifest_row(doc_id: str, path: str = "transcripts/int_1.txt") -> dict:
    return {"doc_id": doc_id, "path": path, "doc_type": "transcript", "region": "Twente", "respondent_id": "R1",
            "date": "", "title": "t"}


@pytest.mark.parametrize("doc_id", ["../../../corpus/evil", "gemeente/r03b", "int 1", "int_1.v2", "..",
                                    "-rf", "C:\\temp\\x", "int\u00e9", "x" * 101])
def test_a_doc_id_that_is_not_a_safe_identifier_is_refused_with_its_line_and_the_rule(tmp_path, doc_id):
    corpus = make_corpus(tmp_path)
    _append(corpus / "manifest.csv", MANIFEST_FIELDS, _manifest_row(doc_id))
    with pytest.raises(RegisterError) as info:
        load_register(corpus)
    [problem] = info.value.problems
    assert "manifest.csv line 5: doc_id" in problem and "letters A-Z and a-z, digits 0-9, '_' and '-'" in problem


def test_doc_ids_that_differ_only_in_case_are_refused(tmp_path):
    corpus = make_corpus(tmp_path)
    _append(corpus / "manifest.csv", MANIFEST_FIELDS, _manifest_row("INT_1", "transcripts/int_2.txt"))
    with pytest.raises(RegisterError) as info:
        load_register(corpus)
    assert any("line 5: doc_id 'INT_1' differs from 'int_1' (line 2) only in case" in p
               for p in info.value.problems), info.value.problems


def test_respondent_ids_and_region_names_are_validated(tmp_path):
    corpus = make_corpus(tmp_path)
    _append(corpus / "respondents.csv", ["respondent_id", "respondent_type", "organisation", "region"],
            {"respondent_id": "../R3", "respondent_type": "gemeente", "organisation": "x", "region": "Twente"})
    _append(corpus / "regions.csv", list(REGIONS[0]), {**REGIONS[0], "region": "Noord/Zuid"})
    with pytest.raises(RegisterError) as info:
        load_register(corpus)
    text = "\n".join(info.value.problems)
    assert "respondents.csv line 4: respondent_id '../R3' is not a valid identifier" in text
    assert "regions.csv line 6: region 'Noord/Zuid' is not a valid name" in text


@pytest.mark.parametrize("name", ["We the North", "025 Arnhem-Nijmegen", "Fryslân", "Noord-Holland (Noord)",
                                  "geen"])
def test_real_region_names_are_accepted(name):
    assert name_problem(name) is None


@pytest.mark.parametrize("name", ["Noord/Zuid", "a;b", "x\ty", " Twente", "Twente ", "two  spaces", "..", ""])
def test_unsafe_region_names_are_refused(name):
    assert name_problem(name)


def test_the_demo_register_is_valid():
    root = Path(__file__).resolve().parents[1] / "corpus"
    register = load_register(root)
    assert all(id_problem(d.doc_id) is None for d in register.documents)


def test_a_per_document_file_cannot_leave_its_folder(tmp_path):
    folder = tmp_path / "outputs" / "private" / "extracted"
    for name in ("../../../corpus/evil", "gemeente/r03b", "..", ""):
        with pytest.raises(UnsafePathError):
            write_json_dir(folder, {"ok": {}, name: {"text": "origineel"}})
    assert not (tmp_path / "corpus").exists() and list(folder.iterdir()) == []   # nothing was written
    (tmp_path / "elsewhere").mkdir()
    (folder / "link.json").symlink_to(tmp_path / "elsewhere" / "x.json")   # a symlink out is refused too
    with pytest.raises(UnsafePathError, match="outside"):
        contained_file(folder, "link")
    with pytest.raises(UnsafePathError, match="outside"):   # and so does every stage writing its folder
        write_json_dir(folder, {"int_1": {"a": 1}, "link": {"text": "origineel"}})
    assert not (tmp_path / "elsewhere" / "x.json").exists() and not (folder / "int_1.json").exists()
    (folder / "link.json").unlink()
    assert write_json_dir(folder, {"int_1": {"a": 1}}) == 1 and (folder / "int_1.json").exists()


def test_extract_stage_with_an_evil_doc_id_writes_nothing_outside_outputs(tmp_path, monkeypatch):
    """The red-team step: `kwal run` wrote the original transcript to corpus/evil.json. The register now
    stops it, and even a register that bypassed validation cannot write outside the folder."""
    corpus = make_corpus(tmp_path)
    register = load_register(corpus)
    evil = register.documents[0].__class__(**{**register.documents[0].__dict__, "doc_id": "../../corpus/evil"})
    register.documents = [evil]
    results = ingest.extract_corpus(register)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnsafePathError):
        write_json_dir(Path("outputs/private/extracted"), {r["doc_id"]: r for r in results.documents})
    assert not (corpus / "evil.json").exists() and not (tmp_path / "corpus" / "evil.json").exists()


def test_kwal_check_refuses_the_red_team_manifest_rows(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from kwalitatief.cli import main

    corpus = make_corpus(tmp_path)
    _append(corpus / "manifest.csv", MANIFEST_FIELDS, _manifest_row("../../../corpus/evil"))
    _append(corpus / "manifest.csv", MANIFEST_FIELDS, _manifest_row("gemeente/r03b", "transcripts/int_2.txt"))
    (tmp_path / "params.yaml").write_text("corpus:\n  dir: corpus\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--codebook", "missing.yaml"])
    assert result.exit_code == 1
    assert "line 5: doc_id '../../../corpus/evil' is not a valid identifier" in result.stderr
    assert "line 6: doc_id 'gemeente/r03b' is not a valid identifier" in result.stderr
