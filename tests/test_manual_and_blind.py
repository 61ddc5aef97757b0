"""Manual coding counts (an annotation is a coding and wins over the machine) and blind double coding never
changes the codings (its decisions are agreement data, kept apart by their mode)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kwalitatief.classifier.examples import Annotation
from kwalitatief.manual import apply_annotations, manual_codings
from kwalitatief.review import (ReviewError, append_decisions, apply_decisions, latest_per_reviewer,
                                make_decision, read_decisions)

CODES = ["a.een", "a.twee", "b.oordeel"]
FRAG = {"fragment_id": "d-1", "doc_id": "d", "text": "Een fragment."}
OTHER = {"fragment_id": "d-2", "doc_id": "d", "text": "Nog een fragment."}


def machine(fid: str, code: str, valence: str | None = None) -> dict:
    return {"fragment_id": fid, "code": code, "valence": valence, "sources": "rule", "rule_id": f"{code}.r",
            "evidence": "x", "start": 0, "end": 3, "score": None, "status": "unreviewed",
            "codebook_version": "cb", "model_version": None}


def ann(codes: dict, coder: str, line: int) -> Annotation:
    return Annotation("d", FRAG["text"], codes, coder, f"ann.jsonl:{line}")


def test_an_annotation_is_a_coding_and_wins_over_the_machine() -> None:
    rows = [machine("d-1", "a.een"), machine("d-1", "a.twee"), machine("d-2", "a.twee")]
    manual = manual_codings([(ann({"a.een": None, "b.oordeel": "negatief"}, "Fenna", 1), FRAG)], CODES)
    out = {(r["fragment_id"], r["code"]): r for r in apply_annotations(rows, manual, "cb")}
    assert out[("d-1", "a.een")]["sources"] == "annotation" and out[("d-1", "a.een")]["reviewer"] == "Fenna"
    assert out[("d-1", "a.een")]["rule_id"] == "a.een.r"          # the machine's explanation is kept
    assert ("d-1", "a.twee") not in out                              # the annotation says: not this code
    added = out[("d-1", "b.oordeel")]
    assert (added["sources"], added["status"], added["valence"]) == ("annotation", "annotated", "negatief")
    assert out[("d-2", "a.twee")]["sources"] == "rule"               # fragments nobody annotated stay


def test_two_coders_who_disagree_leave_that_code_to_the_machine() -> None:
    rows = [machine("d-1", "a.een"), machine("d-1", "a.twee")]
    pairs = [(ann({"a.een": None}, "Fenna", 1), FRAG), (ann({"a.een": None, "a.twee": None}, "Bram", 2), FRAG)]
    out = {(r["fragment_id"], r["code"]): r for r in apply_annotations(rows, manual_codings(pairs, CODES))}
    assert out[("d-1", "a.een")]["reviewer"] == "Bram, Fenna"
    assert out[("d-1", "a.twee")]["sources"] == "rule"              # contested: the machine's coding stays


def _decisions(tmp_path: Path, made: list) -> list:
    path = tmp_path / "reviews.jsonl"
    append_decisions(path, made)
    decisions, problems = read_decisions(path)
    assert problems == []
    return decisions


def test_blind_decisions_leave_the_merged_codings_unchanged(tmp_path: Path) -> None:
    rows = [machine("d-1", "a.een"), machine("d-2", "a.twee")]
    accepted = make_decision("anna", FRAG, "a.een", "accept", time="2024-01-01T10:00:00Z", has_valence=False)
    blind = [make_decision("bram", FRAG, "a.een", "reject", time="2024-01-02T10:00:00Z", has_valence=False,
                           mode="blind"),
             make_decision("bram", OTHER, "a.twee", "reject", time="2024-01-02T10:01:00Z", has_valence=False,
                           mode="blind"),
             make_decision("bram", OTHER, "b.oordeel", "add", "positief", time="2024-01-02T10:02:00Z",
                           has_valence=True, mode="blind")]
    decisions = _decisions(tmp_path, [accepted, *blind])
    assert [d.mode for d in decisions] == ["review", "blind", "blind", "blind"]
    without_blind, _ = apply_decisions(rows, [FRAG, OTHER], [accepted], CODES)
    with_blind, _ = apply_decisions(rows, [FRAG, OTHER], decisions, CODES)
    assert with_blind == without_blind
    assert {(r["fragment_id"], r["code"], r["status"]) for r in with_blind} == {
        ("d-1", "a.een", "accepted"), ("d-2", "a.twee", "unreviewed")}
    # the blind decisions are still there for agreement
    assert latest_per_reviewer(decisions)[("bram", "d-1", "a.een")].decision == "reject"


def test_an_adjudication_in_review_mode_counts(tmp_path: Path) -> None:
    rows = [machine("d-1", "a.een")]
    decisions = _decisions(tmp_path, [
        make_decision("bram", FRAG, "a.een", "reject", time="2024-01-02T10:00:00Z", has_valence=False,
                      mode="blind"),
        make_decision("team", FRAG, "a.een", "reject", time="2024-01-03T10:00:00Z", has_valence=False,
                      memo="besloten na vergelijking")])
    out, _ = apply_decisions(rows, [FRAG], decisions, CODES)
    assert out == []


def test_an_unknown_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReviewError, match="'mode'"):
        make_decision("anna", FRAG, "a.een", "accept", has_valence=False, mode="stiekem")
    path = tmp_path / "reviews.jsonl"
    path.write_text('{"time": "t", "reviewer": "a", "fragment_id": "d-1", "code": "a.een", "decision": "accept", '
                    '"mode": "stiekem"}\n', encoding="utf-8")
    decisions, problems = read_decisions(path)
    assert decisions == [] and "field 'mode' is 'stiekem'" in problems[0]["message"]


def test_the_run_summary_names_codes_without_any_coding(tmp_path: Path) -> None:
    import sqlite_utils

    from kwalitatief.summary import summarise_outputs

    db = sqlite_utils.Database(tmp_path / "kwalitatief.db")
    db["codes"].insert_all([{"code": c, "label": c} for c in CODES])
    db["codings"].insert_all([machine("d-1", "a.een")])
    text = summarise_outputs(tmp_path)
    assert "2 code(s) got no coding anywhere: a.twee, b.oordeel" in text
