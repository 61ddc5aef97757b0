"""Review decisions: never lost (reruns, re-extraction, concurrent saves, torn lines), always applied."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
from review_factory import make_review_project

from kwalitatief import review
from kwalitatief.jsonio import read_jsonl
from kwalitatief.review import (
    ReviewError,
    append_decision,
    apply_decisions,
    apply_project,
    make_decision,
    read_decisions,
    training_labels,
)


def _frag(project, seq, doc="int_a"):
    return next(f for f in project["fragments"] if f["doc_id"] == doc and f["seq"] == seq)


def test_decisions_override_the_machine_and_survive_a_rerun(tmp_path):
    project = make_review_project(tmp_path, build_db=False)
    path = tmp_path / "codebook/reviews.jsonl"
    proeftuin, krap, regio = _frag(project, 1), _frag(project, 2), _frag(project, 3)
    append_decision(path, make_decision("anna", krap, "knelpunt.tijdsdruk", "reject", time="2024-01-01T10:00:00Z", has_valence=False))
    append_decision(path, make_decision("anna", proeftuin, "opinie.proeftuin", "change_valence", "gemengd",
                                        memo="ook kritisch", time="2024-01-01T10:01:00Z", has_valence=True))
    append_decision(path, make_decision("anna", regio, "doel.samenwerking_regio", "accept",
                                        time="2024-01-01T10:02:00Z", has_valence=False))
    append_decision(path, make_decision("anna", regio, "knelpunt.status", "add", time="2024-01-01T10:03:00Z", has_valence=False))
    before = path.read_bytes()
    for _ in range(2):   # the classify stage reruns: same machine codings, decisions applied again
        rows, problems = apply_project(project["merged"], tmp_path, ["doel.samenwerking_regio", "knelpunt.tijdsdruk",
                                                                     "knelpunt.status", "opinie.proeftuin"])
        assert problems == []
        got = {(r["fragment_id"], r["code"]): r for r in rows}
        assert (krap["fragment_id"], "knelpunt.tijdsdruk") not in got
        pt = got[(proeftuin["fragment_id"], "opinie.proeftuin")]
        assert (pt["valence"], pt["status"], pt["reviewer"]) == ("gemengd", "valence_changed", "anna")
        assert got[(regio["fragment_id"], "doel.samenwerking_regio")]["status"] == "accepted"
        added = got[(regio["fragment_id"], "knelpunt.status")]
        assert (added["sources"], added["status"]) == ("review", "added")
        untouched = [r for r in rows if r["fragment_id"] == _frag(project, 0, "int_b")["fragment_id"]]
        assert [r["status"] for r in untouched] == ["unreviewed"]
    assert path.read_bytes() == before   # applying never rewrites the researcher's file


def test_latest_decision_wins_per_fragment_and_code_across_reviewers(tmp_path):
    project = make_review_project(tmp_path, build_db=False)
    frag = _frag(project, 2)
    decisions = [
        make_decision("bram", frag, "knelpunt.tijdsdruk", "accept", time="2024-01-02T09:00:00Z", has_valence=False),
        make_decision("anna", frag, "knelpunt.tijdsdruk", "reject", time="2024-01-01T09:00:00Z", has_valence=False),
    ]
    rows, _ = apply_decisions(project["merged"], project["fragments"], decisions)
    row = next(r for r in rows if r["fragment_id"] == frag["fragment_id"] and r["code"] == "knelpunt.tijdsdruk")
    assert (row["status"], row["reviewer"]) == ("accepted", "bram")
    decisions.append(make_decision("anna", frag, "knelpunt.tijdsdruk", "reject", time="2024-01-03T09:00:00Z", has_valence=False))
    rows, _ = apply_decisions(project["merged"], project["fragments"], decisions)
    assert not any(r["fragment_id"] == frag["fragment_id"] and r["code"] == "knelpunt.tijdsdruk" for r in rows)


def test_torn_last_line_is_reported_and_everything_before_it_kept(tmp_path):
    project = make_review_project(tmp_path, build_db=False)
    path = tmp_path / "codebook/reviews.jsonl"
    for seq in (1, 2, 3):
        code = {1: "opinie.proeftuin", 2: "knelpunt.tijdsdruk", 3: "doel.samenwerking_regio"}[seq]
        append_decision(path, make_decision("anna", _frag(project, seq), code, "accept", has_valence=code.startswith("opinie.")))
    with open(path, "a", encoding="utf-8") as handle:   # a crash in the middle of a write
        handle.write('{"code":"knelpunt.tijdsdruk","decision":"rej')
    decisions, problems = read_decisions(path)
    assert len(decisions) == 3
    assert len(problems) == 1 and ":4:" in problems[0]["message"] and "incomplete" in problems[0]["message"]
    # the next save starts on a fresh line; the broken line stays visible, nothing is glued to it
    append_decision(path, make_decision("bram", _frag(project, 2), "knelpunt.tijdsdruk", "reject", has_valence=False))
    decisions, problems = read_decisions(path)
    assert [d.reviewer for d in decisions] == ["anna", "anna", "anna", "bram"]
    assert len(problems) == 1 and ":4:" in problems[0]["message"]


def test_malformed_lines_are_reported_with_their_line_number(tmp_path):
    path = tmp_path / "reviews.jsonl"
    good = {"time": "2024-01-01T00:00:00Z", "reviewer": "anna", "fragment_id": "d-1", "text_hash": "x",
            "code": "knelpunt.tijdsdruk", "decision": "accept"}
    path.write_text("\n".join([json.dumps(good), json.dumps({**good, "decision": "maybe"}), "[1, 2]",
                               json.dumps({**good, "reviewer": "bram"})]) + "\n", encoding="utf-8")
    decisions, problems = read_decisions(path)
    assert [d.reviewer for d in decisions] == ["anna", "bram"]
    assert [p["detail"]["line"] for p in problems] == [2, 3]
    assert "field 'decision'" in problems[0]["message"]


def _writer(args):
    path, reviewer, n = args
    frag = {"fragment_id": "doc-abc", "text": "tekst"}
    for i in range(n):
        append_decision(path, make_decision(reviewer, frag, "knelpunt.tijdsdruk",
                                            "accept" if i % 2 else "reject", memo="x" * 3000, has_valence=False))


def test_two_reviewers_saving_at_the_same_moment_lose_nothing(tmp_path):
    path = str(tmp_path / "reviews.jsonl")
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        pool.map(_writer, [(path, "anna", 150), (path, "bram", 150)])
    decisions, problems = read_decisions(path)
    assert problems == []
    assert sum(d.reviewer == "anna" for d in decisions) == 150
    assert sum(d.reviewer == "bram" for d in decisions) == 150


def test_orphaned_decisions_are_reported_with_old_text_and_kept(tmp_path):
    project = make_review_project(tmp_path, build_db=False)
    path = tmp_path / "codebook/reviews.jsonl"
    changed, stable = _frag(project, 2), _frag(project, 3)
    append_decision(path, make_decision("anna", changed, "knelpunt.tijdsdruk", "reject", has_valence=False))
    append_decision(path, make_decision("anna", stable, "doel.samenwerking_regio", "accept", has_valence=False))
    before = path.read_bytes()
    # re-extraction changed one paragraph: it gets a new id; the other fragments keep theirs
    from review_factory import DOCS

    docs = {k: list(v) for k, v in DOCS.items()}
    docs["int_a"][2] = ("R", "respondent", "De deadline was krap, maar het lukte.")
    project2 = make_review_project(tmp_path, docs, build_db=False)
    rows, problems = apply_project(project2["merged"], tmp_path)
    assert path.read_bytes() == before
    assert len(problems) == 1
    message = problems[0]["message"]
    assert "orphaned" in message and "De deadline was veel te krap" in message and ":1:" in message
    assert problems[0]["detail"]["old_text"] == changed["text"]
    got = {(r["fragment_id"], r["code"]): r for r in rows}
    assert got[(stable["fragment_id"], "doel.samenwerking_regio")]["status"] == "accepted"
    # the same text hash in a fragment that kept its id is still applied; a changed hash is orphaned too
    stale = review.Decision("2024-01-01T00:00:00Z", "anna", stable["fragment_id"], "0000", "doel.samenwerking_regio",
                            "reject", text="oud", line=9)
    _, problems = apply_decisions(project2["merged"], project2["fragments"], [stale])
    assert "has a different text now" in problems[0]["message"]


def test_reviewed_fragments_become_training_labels(tmp_path):
    project = make_review_project(tmp_path, build_db=False)
    path = tmp_path / "codebook/reviews.jsonl"
    append_decision(path, make_decision("anna", _frag(project, 2), "knelpunt.tijdsdruk", "reject", has_valence=False))
    append_decision(path, make_decision("anna", _frag(project, 1), "opinie.proeftuin", "change_valence", "negatief", has_valence=True))
    append_decision(path, make_decision("anna", _frag(project, 3), "knelpunt.status", "add", has_valence=False))
    labels = {(lab.fragment_id, lab.code): lab for lab in training_labels(path, project["fragments"])}
    assert labels[(_frag(project, 2)["fragment_id"], "knelpunt.tijdsdruk")].present is False
    assert labels[(_frag(project, 1)["fragment_id"], "opinie.proeftuin")].valence == "negatief"
    assert labels[(_frag(project, 3)["fragment_id"], "knelpunt.status")].present is True
    assert labels[(_frag(project, 3)["fragment_id"], "knelpunt.status")].origin.endswith(":3")


@pytest.mark.parametrize("kwargs, field", [
    ({"reviewer": "", "code": "knelpunt.tijdsdruk", "decision": "accept"}, "reviewer"),
    ({"reviewer": "anna", "code": "knelpunt.tijdsdruk", "decision": "maybe"}, "decision"),
    ({"reviewer": "anna", "code": "knelpunt.tijdsdruk", "decision": "accept", "valence": "positief"}, "valence"),
    ({"reviewer": "anna", "code": "opinie.proeftuin", "decision": "change_valence"}, "valence"),
])
def test_invalid_decisions_are_refused_with_the_field_named(kwargs, field):
    with pytest.raises(ReviewError, match=f"'{field}'"):
        make_decision(fragment={"fragment_id": "d-1", "text": "t"}, **kwargs,
                      has_valence=kwargs["code"].startswith("opinie."))


def test_the_classify_stage_applies_decisions_and_writes_problems(tmp_path):
    """The pipeline hook: pipeline/classify.py applies codebook/reviews.jsonl to outputs/work/codings/."""
    import subprocess
    import sys

    import yaml
    from review_factory import FAST_PARAMS
    from test_classify import ROOT, make_project, synthetic_examples

    frags = make_project(tmp_path, synthetic_examples(n=40, rare=2))
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(FAST_PARAMS), encoding="utf-8")
    run = lambda: subprocess.run([sys.executable, str(ROOT / "pipeline/classify.py")], cwd=tmp_path,  # noqa: E731
                                 capture_output=True, text=True, timeout=120)
    first = run()
    assert first.returncode == 0, first.stderr
    merged = list(read_jsonl(tmp_path / "outputs/work/codings"))
    target = merged[0]
    frag = next(f for f in frags if f["fragment_id"] == target["fragment_id"])
    path = tmp_path / "codebook/reviews.jsonl"
    append_decision(path, make_decision("anna", frag, target["code"], "reject", has_valence=target["code"].startswith("opinie.")))
    append_decision(path, make_decision("anna", {"fragment_id": "gone-1", "text": "weg"}, "knelpunt.status", "add", has_valence=False))
    second = run()
    assert second.returncode == 0, second.stderr
    after = {(r["fragment_id"], r["code"]) for r in read_jsonl(tmp_path / "outputs/work/codings")}
    assert (target["fragment_id"], target["code"]) not in after
    problems = list(read_jsonl(tmp_path / "outputs/work/problems_review.jsonl"))
    assert len(problems) == 1 and "gone-1" in problems[0]["message"]
    assert "1 review labels" in second.stderr


def test_reading_a_missing_file_means_no_decisions(tmp_path):
    assert read_decisions(Path(tmp_path / "none.jsonl")) == ([], [])
