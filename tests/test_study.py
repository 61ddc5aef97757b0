"""The study's declarations (study.yaml, codebook categories): validated with file and line, and the register
is checked against them, naming the declared values."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus_factory import MANIFEST_FIELDS, STUDY_YAML, make_corpus, write_csv, write_study

from kwalitatief.codebook import parse_codebook
from kwalitatief.corpus import RegisterError, load_register
from kwalitatief.study import parse_study


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_a_valid_study_declares_labels_population_and_terms(tmp_path: Path) -> None:
    study, problems = parse_study(write_study(tmp_path))
    assert problems == []
    assert study.title == "Teststudie"
    assert study.respondent_label("culturele_instelling") == "culturele instelling"
    assert study.doc_type_plural("profiel") == "regioprofielen"
    assert study.kind("transcript") == "transcript" and study.kind("profiel") == "document"
    assert study.population(["Twente", "geen", "Zeeland"]) == ["Twente", "Zeeland"]
    assert study.region_groups == {"regionaal": "in een regio", "geen": "buiten een regio", "landelijk": "landelijk"}
    assert study.protected_terms == ("OCW", "BIS")


@pytest.mark.parametrize("old, new, needle, expected", [
    ("  fonds: fonds\n", "  fonds: {plural: fondsen}\n", "fonds:", "respondent_types 'fonds' needs a Dutch label"),
    ("  fonds: fonds\n", "  fonds: {label: fonds, meervoud: fondsen}\n", "fonds:", "unknown field 'meervoud'"),
    ("  transcript: {label: interview, plural: interviews, transcript: true}\n",
     "  transcript: {label: interview, transcript: ja}\n", "transcript:", "transcript is true"),
    ("title: Teststudie\n", "title: ''\n", "title:", "'title' is missing or empty"),
    ("protected_terms: [OCW, BIS]\n", "protected_terms: OCW\n", "protected_terms", "must be a list"),
    ("  outside: {geen: buiten een regio, landelijk: landelijk}\n", "  outside: [geen, landelijk]\n", "outside",
     "regions.outside maps each region value"),
    ("regions:\n", "regio:\n", "regio:", "unknown key 'regio'"),
])
def test_declaration_errors_name_file_and_line(tmp_path: Path, old: str, new: str, needle: str,
                                                expected: str) -> None:
    text = STUDY_YAML.replace(old, new)
    assert text != STUDY_YAML
    path = write_study(tmp_path, text)
    study, problems = parse_study(path)
    assert study is None
    line = _line_of(text, needle)
    assert any(p.startswith(f"{path}:{line}:") and expected in p for p in problems), problems


def test_a_missing_study_says_how_to_make_one(tmp_path: Path) -> None:
    _, problems = parse_study(tmp_path / "study.yaml")
    assert "not found" in problems[0] and "kwal init" in problems[0]


def test_undeclared_types_are_refused_with_the_declared_ones(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    with open(corpus / "respondents.csv", "a", encoding="utf-8") as handle:
        handle.write("R3,wijkteam,Wijkteam Noord,Twente\n")
    with open(corpus / "manifest.csv", "a", encoding="utf-8") as handle:
        handle.write("plan,transcripts/int_1.txt,beleidsplan,Twente,,2022-01-01,Plan\n")
    with pytest.raises(RegisterError) as info:
        load_register(corpus)
    problems = info.value.problems
    study = tmp_path / "study.yaml"
    assert (f"{corpus / 'respondents.csv'} line 4: unknown respondent_type 'wijkteam'; declared in {study}: "
            "gemeente, provincie, culturele_instelling, fonds.") in problems
    assert (f"{corpus / 'manifest.csv'} line 5: unknown doc_type 'beleidsplan'; declared in {study}: "
            "transcript, profiel.") in problems


def test_outside_values_need_no_row_and_are_not_in_the_population(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    rows = [r for r in __import__("csv").DictReader(open(corpus / "regions.csv", encoding="utf-8"))
            if r["region"] not in ("geen", "landelijk")]
    write_csv(corpus / "regions.csv", rows)
    with open(corpus / "respondents.csv", "a", encoding="utf-8") as handle:
        handle.write("R3,fonds,Een fonds,landelijk\n")
    register = load_register(corpus)
    assert register.population == ["Twente", "Zeeland"]
    assert register.region_names == ["Twente", "Zeeland", "geen", "landelijk"]
    with open(corpus / "respondents.csv", "a", encoding="utf-8") as handle:
        handle.write("R4,fonds,Nog een fonds,nergens\n")
    with pytest.raises(RegisterError, match="unknown region 'nergens'"):
        load_register(corpus)


def test_an_interview_type_needs_a_respondent(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    with open(corpus / "manifest.csv", "a", encoding="utf-8") as handle:
        handle.write("int_x,transcripts/int_1.txt,transcript,Twente,,2022-01-01,X\n")
    with pytest.raises(RegisterError, match="doc_type 'transcript' is an interview .* needs a respondent_id"):
        load_register(corpus)


CODEBOOK = """\
negators: [niet]
categories:
  - id: barriere
    label: Barrières
    valence: false
    codes:
      - id: barriere.wachtlijst
        label: Wachtlijst
        definition: Wachten op hulp.
        include: [Wachttijd voor hulp.]
        exclude: [Wachten in het algemeen.]
        examples: [De wachtlijst is lang., We wachten al maanden op een plek.]
        rules: [{id: barriere.wachtlijst.r, match: [wachtlijst]}]
  - id: oordeel
    label: Oordelen
    valence: ja
    codes: []
  - id: Oplossing
    codes: []
"""


def test_categories_declare_label_and_valence_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "codebook.yaml"
    path.write_text(CODEBOOK, encoding="utf-8")
    codebook, problems = parse_codebook(path)
    assert codebook is None
    assert f"{path}:{_line_of(CODEBOOK, 'valence: ja')}: category 'oordeel': valence is true" in "\n".join(problems)
    assert any(f"{path}:{_line_of(CODEBOOK, 'id: Oplossing')}: category id 'Oplossing'" in p for p in problems)
    assert any("category 'Oplossing' needs a Dutch 'label'" in p for p in problems)


def test_a_study_without_valence_needs_no_lexicon(tmp_path: Path) -> None:
    text = CODEBOOK.split("  - id: oordeel")[0]
    path = tmp_path / "codebook.yaml"
    path.write_text(text, encoding="utf-8")
    codebook, problems = parse_codebook(path)
    assert problems == []
    assert codebook.valenced_codes == frozenset() and codebook.categories == {"barriere": "Barrières"}
