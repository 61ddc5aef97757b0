"""The demo run end to end (`make run` / `kwal run` outputs): every claim carries its source, robustness, flip
point and refutability, and the database's numbers recompute from its own codings table."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml

from kwalitatief.robustness import VARIANTS

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "outputs"


@pytest.fixture(scope="module")
def run():
    if not (OUT / "conclusions.json").exists() or not (OUT / "kwalitatief.db").exists():
        pytest.skip("no outputs/conclusions.json yet: run `kwal run` first")
    data = json.loads((OUT / "conclusions.json").read_text(encoding="utf-8"))
    claims = yaml.safe_load((ROOT / "codebook" / "conclusions.yaml").read_text(encoding="utf-8"))["conclusions"]
    if [c["id"] for c in claims] != [r["id"] for r in data["conclusions"]]:
        pytest.skip("outputs/conclusions.json predates codebook/conclusions.yaml: run `kwal run` first")
    db = sqlite3.connect(OUT / "kwalitatief.db")
    yield data, claims, db
    db.close()


def test_every_claim_has_source_robustness_flip_point_and_refutability(run):
    data, claims, _ = run
    for r in data["conclusions"]:
        assert r["source"], r["id"]
        variants = r["robustness"]["variants"]
        assert [v["variant"] for v in variants] == list(VARIANTS)
        configured = [v for v in variants if v["configured"]]
        assert len(configured) == 1 and configured[0]["variant"] == data["merge_policy"]
        assert (configured[0]["n_matching"], configured[0]["n_population"], configured[0]["verdict"]) == \
            (r["n_matching"], r["n_population"], r["verdict"])
        share = r["robustness"]["bootstrap"]["share_same_verdict"]
        assert share is None or 0.0 <= share <= 1.0
        assert r["robustness"]["flagged"] == bool(r["robustness"]["depends_on"] or
                                                  (share is not None and share < data["robustness"]["stable_share"]))
        if r["verdict"] != "te weinig gegevens" and r["flip"].get("count") is not None:
            q_holds_now = r["verdict"] == "ondersteund"
            assert 0 <= r["flip"]["count"] <= r["n_population"]
            assert r["flip"]["margin"] == abs(r["flip"]["count"] - r["n_matching"]) > 0
            assert ("klopt bij" if q_holds_now else "faalt bij") in r["flip"]["text"]
        assert r["refutation"]["refutable"] in (True, False, None)
    report = (OUT / "report.md").read_text(encoding="utf-8")
    assert "## Hangt het oordeel af van een keuze?" in report
    assert report.count("- Kantelpunt: ") == report.count("- Robuustheid: **") == len(data["conclusions"])


def _real_regions(db) -> set[str]:
    return {r for (r,) in db.execute("select region from regions where in_population = 1")}


def test_region_and_respondent_counts_recompute_from_the_codings_table(run):
    """A second count straight from `codings` ⋈ `fragments` ⋈ `documents` / `respondents`, for every claim
    without valence: the matching units and the population are the database's own."""
    data, claims, db = run
    real = _real_regions(db)
    n_respondents = db.execute("select count(*) from respondents").fetchone()[0]
    checked = 0
    for c, r in zip(claims, data["conclusions"]):
        if c.get("valence") or c.get("compare_to") or c.get("population") not in ("alle", None):
            continue
        doc_types = c.get("doc_types") or [t for (t,) in db.execute("select distinct doc_type from documents")]
        marks = ",".join("?" * len(doc_types))
        rows = db.execute(f"""
            select coalesce(p.region, d.region), f.respondent_id from codings k
            join fragments f on f.fragment_id = k.fragment_id join documents d on d.doc_id = f.doc_id
            left join respondents p on p.respondent_id = coalesce(f.respondent_id, d.respondent_id)
            where k.code = ? and d.doc_type in ({marks})""", [c["code"], *doc_types]).fetchall()
        if c["unit"] == "region":
            expected, total = sorted({reg for reg, _ in rows if reg in real}), len(real)
        elif c["unit"] == "respondent":
            expected, total = sorted({rid for _, rid in rows if rid}), n_respondents
        else:
            continue
        stored = db.execute("select matching_units, n_population, n_matching from conclusions where conclusion_id = ?",
                            [c["id"]]).fetchone()
        assert (sorted(filter(None, stored[0].split("; "))), stored[1], stored[2]) == (expected, total, len(expected)), c["id"]
        checked += 1
    assert checked >= 5


def test_robustness_units_and_refutation_tables_agree_with_the_claims(run):
    data, _, db = run
    for r in data["conclusions"]:
        variants = db.execute("select variant, n_matching, verdict from conclusion_robustness where conclusion_id = ? "
                              "and variant != 'bootstrap'", [r["id"]]).fetchall()
        assert [(v["variant"], v["n_matching"], v["verdict"]) for v in r["robustness"]["variants"]] == variants
        matches = db.execute("select coalesce(sum(matches), 0) from conclusion_units where conclusion_id = ?",
                             [r["id"]]).fetchone()[0]
        assert matches == r["n_matching"], r["id"]
        other = db.execute("select count(*) from conclusion_refutation where conclusion_id = ? and same_verdict = 0 "
                           "and verdict != 'te weinig gegevens'", [r["id"]]).fetchone()[0]
        if r["verdict"] != "te weinig gegevens":
            assert other == r["refutation"]["codes_other_verdict"]
            assert bool(other) == r["refutation"]["refutable"]


def test_the_configured_variant_is_exactly_the_codings_the_classify_stage_wrote(run, monkeypatch):
    """The variants are rebuilt from the rule and classifier codings, the annotations and the reviews; for the
    configured merge policy that must give codings.jsonl (measured by hand for the other policies: setting
    classify.merge_policy to intersection, rules_only or classifier and rerunning classify wrote exactly the
    variant's codings)."""
    from kwalitatief import paths
    from kwalitatief.classify import project_annotations
    from kwalitatief.codebook import load_codebook
    from kwalitatief.config import load_params
    from kwalitatief.jsonio import read_jsonl
    from kwalitatief.manual import manual_codings
    from kwalitatief.review import apply_project
    from kwalitatief.robustness import variant_codings

    data, _, _ = run
    monkeypatch.chdir(ROOT)
    params = load_params(ROOT / "params.yaml")
    codebook = load_codebook(paths.CODEBOOK)
    full = list(read_jsonl(paths.FRAGMENTS, drop=("tokens", "sents")))
    pairs = project_annotations(".", codebook, full)[1]
    trained = json.loads((paths.MODEL_DIR / "model.json").read_text(encoding="utf-8"))["trained_codes"]
    variant = variant_codings(data["merge_policy"], list(read_jsonl(paths.CODINGS_RULE)),
                              list(read_jsonl(paths.CODINGS_CLASSIFIER)), trained, params["classify"]["valence_from"],
                              manual_codings(pairs, codebook.code_ids),
                              lambda rows: apply_project(rows, codes=codebook.code_ids, fragments=full)[0])

    def key(rows):
        return sorted((r["fragment_id"], r["code"], r.get("valence") or "") for r in rows)

    assert key(variant) == key(read_jsonl(paths.CODINGS))


def test_the_analyse_stage_writes_the_same_files_with_one_worker_and_with_two(tmp_path):
    """With two workers the aggregate step and the merge-policy variants run in forked processes: the
    aggregates, conclusions and report must be those of the serial run (and of `kwal run`'s)."""
    import shutil
    import subprocess
    import sys

    if not (OUT / "conclusions.json").exists():
        pytest.skip("no outputs/conclusions.json yet: run `kwal run` first")
    results = {}
    for workers in (1, 2):
        project = tmp_path / f"w{workers}"
        project.mkdir()
        for name in ("study.yaml", "params.yaml", "corpus", "codebook"):
            (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, project / name)
        shutil.copytree(OUT, project / "outputs", ignore=shutil.ignore_patterns("cache", "kwalitatief.db"))
        done = subprocess.run([sys.executable, str(ROOT / "pipeline" / "analyse.py"), "--workers", str(workers)],
                              cwd=project, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        out = project / "outputs"
        results[workers] = {p.relative_to(out).as_posix(): p.read_bytes()
                            for p in [out / "conclusions.json", out / "aggregates.xlsx", out / "report.md",
                                      *sorted((out / "aggregates").iterdir())]}
    assert results[1] == results[2]
    assert results[2]["conclusions.json"] == (OUT / "conclusions.json").read_bytes()
