"""Provenance: every input has its own hash in the run record, and the record is reproducible."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kwalitatief.provenance import build_date, input_hashes, package_versions, run_provenance, write_run_log

PARAMS = {"corpus": {"manifest": "corpus/manifest.csv", "respondents": "corpus/respondents.csv",
                     "regions": "corpus/regions.csv"},
          "pseudonymise": {"list": "corpus/pseudonyms.csv"}, "nlp": {"model": "nl_core_news_sm"}}
FILES = {
    "params": "params.yaml",
    "register": "corpus/respondents.csv",
    "codebook": "codebook/codebook.yaml",
    "lexicon": "codebook/lexicon/valence.tsv",
    "conclusions": "codebook/conclusions.yaml",
    "annotations": "codebook/annotations/team.jsonl",
    "reviews": "codebook/reviews.jsonl",
    "pseudonyms": "corpus/pseudonyms.csv",
    "code": "src/kwalitatief/stage.py",
}


def _project(root: Path) -> None:
    for rel in list(FILES.values()) + ["corpus/manifest.csv", "corpus/regions.csv", "study.yaml",
                                       "pipeline/segment.py"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"content of {rel}\n", encoding="utf-8")


def test_changing_each_input_changes_only_its_own_hash(tmp_path):
    _project(tmp_path)
    before = input_hashes(PARAMS, tmp_path)
    assert set(before) == {f"hash_{k}" for k in FILES}
    changes = {**{name: [rel] for name, rel in FILES.items()},
               "register": ["corpus/respondents.csv", "corpus/manifest.csv", "corpus/regions.csv", "study.yaml"],
               "code": ["src/kwalitatief/stage.py", "pipeline/segment.py"]}
    for name, rels in changes.items():
        for rel in rels:
            path = tmp_path / rel
            old = path.read_text(encoding="utf-8")
            path.write_text(old + "one more line\n", encoding="utf-8")
            after = input_hashes(PARAMS, tmp_path)
            changed = {k for k in before if before[k] != after[k]}
            assert changed == {f"hash_{name}"}, f"changing {rel} changed {changed}"
            path.write_text(old, encoding="utf-8")
            assert input_hashes(PARAMS, tmp_path) == before
    # a new annotation file and a removed study declaration count too
    (tmp_path / "codebook/annotations/more.jsonl").write_text("{}\n", encoding="utf-8")
    assert input_hashes(PARAMS, tmp_path)["hash_annotations"] != before["hash_annotations"]
    (tmp_path / "codebook/annotations/more.jsonl").unlink()
    (tmp_path / "study.yaml").unlink()
    assert {k for k, v in input_hashes(PARAMS, tmp_path).items() if v != before[k]} == {"hash_register"}


def test_the_record_is_reproducible_and_names_the_result_shaping_packages(tmp_path, monkeypatch):
    _project(tmp_path)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = run_provenance(PARAMS, tmp_path, n_codings=3)
    assert first == run_provenance(PARAMS, tmp_path, n_codings=3)
    assert "date" not in first and "code_revision" not in first       # nothing from the clock or from git
    versions = package_versions("nl_core_news_sm")
    import sklearn
    import spacy

    assert versions["version_scikit-learn"] == sklearn.__version__ and versions["version_spacy"] == spacy.__version__
    for dist in ("spacy-lookups-data", "deduce", "pypdfium2", "pdfplumber", "nl_core_news_sm"):
        assert f"version_{dist}" in first
    (tmp_path / "params.yaml").write_text("classify: {merge_policy: intersection}\n", encoding="utf-8")
    assert run_provenance(PARAMS, tmp_path, n_codings=3)["fingerprint"] != first["fingerprint"]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert run_provenance(PARAMS, tmp_path)["date"] == build_date() == "2023-11-14T22:13:20+00:00"


def test_the_run_log_has_the_wall_clock_and_the_same_fingerprint(tmp_path):
    _project(tmp_path)
    (tmp_path / "outputs").mkdir()
    entry = write_run_log("2026-12-01T10:00:00+00:00", ["segment", "report"], PARAMS, tmp_path)
    write_run_log("2026-12-01T11:00:00+00:00", [], PARAMS, tmp_path)
    saved = json.loads((tmp_path / "outputs/run.json").read_text(encoding="utf-8"))
    history = [json.loads(x) for x in (tmp_path / "outputs/runs.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [h["started"] for h in history] == ["2026-12-01T10:00:00+00:00", "2026-12-01T11:00:00+00:00"]
    assert saved["started"] == "2026-12-01T11:00:00+00:00" and saved["finished"] >= saved["started"]
    assert entry["fingerprint"] == run_provenance(PARAMS, tmp_path)["fingerprint"] == saved["fingerprint"]
    assert history[0]["stages_run"] == ["segment", "report"]


def test_the_run_log_takes_the_reports_record_when_there_is_a_database(tmp_path):
    import sqlite_utils

    from kwalitatief import store

    _project(tmp_path)
    record = run_provenance(PARAMS, tmp_path, corpus_hash="abc", n_codings=7)
    (tmp_path / "outputs").mkdir()
    store.write_run(sqlite_utils.Database(tmp_path / "outputs/kwalitatief.db"), record)
    entry = write_run_log("2026-12-01T10:00:00+00:00", [], PARAMS, tmp_path)
    assert entry["fingerprint"] == record["fingerprint"] and entry["corpus_hash"] == "abc"
    assert entry["n_codings"] == "7" and "code_revision" in entry


def test_the_analyse_stage_depends_on_every_input_the_report_hashes():
    """Otherwise DVC would not rerun the report when, say, only params.yaml's comments changed, and the
    header would show a stale hash."""
    import yaml

    root = Path(__file__).parents[1]
    params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    deps = [Path(d) for d in yaml.safe_load((root / "dvc.yaml").read_text(encoding="utf-8"))["stages"]["analyse"]["deps"]]
    from kwalitatief.provenance import CODE_GLOBS, input_groups

    wanted = [p for paths in input_groups(params).values() for p in paths if (root / p).exists()]
    wanted += [Path(g.split("*")[0].rstrip("/")) for g in CODE_GLOBS]
    for path in wanted:
        assert any(path == d or d in path.parents for d in deps), f"{path} is not a dependency of the analyse stage (its report step)"
