"""The corpus register stops the run before any work, listing every problem with its line."""

import csv
from pathlib import Path

import pytest
from corpus_factory import MANIFEST_FIELDS, make_corpus

from kwalitatief.corpus import RegisterError, load_register


def _append_rows(manifest: Path, rows: list[dict]) -> None:
    with open(manifest, "a", newline="", encoding="utf-8") as handle:
        csv.DictWriter(handle, fieldnames=MANIFEST_FIELDS).writerows(rows)


def _row(**overrides: str) -> dict:
    row = {"doc_id": "x", "path": "transcripts/int_1.txt", "doc_type": "transcript", "region": "Twente",
           "respondent_id": "R1", "date": "", "title": ""}
    row.update(overrides)
    return row


def test_valid_register_loads(tmp_path: Path) -> None:
    register = load_register(make_corpus(tmp_path))
    assert [d.doc_id for d in register.documents] == ["int_1", "int_2", "profiel_twente"]


@pytest.mark.parametrize("row, expected", [
    (_row(doc_id="a", path="transcripts/ontbreekt.txt"), "line 5: file 'transcripts/ontbreekt.txt' not found"),
    (_row(doc_id="b", path="../geheim.txt"), "line 5: path '../geheim.txt' lies outside"),
    (_row(doc_id="int_1"), "line 5: duplicate doc_id 'int_1' (first on line 2)"),
    (_row(doc_id="c", region="Atlantis"), "line 5: unknown region 'Atlantis'"),
    (_row(doc_id="d", respondent_id="R99"), "line 5: unknown respondent 'R99'"),
    (_row(doc_id="e", doc_type="roman"), "line 5: unknown doc_type 'roman'"),
])
def test_each_manifest_error_is_named_with_its_line(tmp_path: Path, row: dict, expected: str) -> None:
    corpus = make_corpus(tmp_path)
    (tmp_path / "geheim.txt").write_text("I: x\n\nR: y\n", encoding="utf-8")
    _append_rows(corpus / "manifest.csv", [row])
    with pytest.raises(RegisterError) as info:
        load_register(corpus)
    assert any(expected in p for p in info.value.problems), info.value.problems


def test_all_problems_are_listed_at_once(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    _append_rows(corpus / "manifest.csv", [_row(doc_id="a", region="Atlantis"), _row(doc_id="b", doc_type="roman")])
    with pytest.raises(RegisterError) as info:
        load_register(corpus)
    assert len(info.value.problems) == 2
    assert "line 5" in info.value.problems[0] and "line 6" in info.value.problems[1]


def test_missing_manifest_column_is_reported(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    (corpus / "manifest.csv").write_text("doc_id,path\nx,transcripts/int_1.txt\n", encoding="utf-8")
    with pytest.raises(RegisterError, match="missing column"):
        load_register(corpus)
