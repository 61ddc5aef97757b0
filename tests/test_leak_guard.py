"""Fail closed on privacy (issue 13, findings 1, 3 and 8): the red-team steps as tests, on a small study
run through `kwal run` (DVC and every stage) in a scratch project.

- an annotation whose fragment changed, an orphaned review decision and a manifest title all hold a
  name: the problems table, the report and documents.title quote them pseudonymised;
- a corrupt entry of the pseudonymisation cache is recomputed (and logged), never published as is;
- the leak guard ends every run, also one where nothing changed, and stops it on a planted leak;
- `kwal purge-leaks` repairs a missed name: outputs, caches, reviews.jsonl and annotations;
- outputs/private/ is 0700 with files 0600.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_pseudonymise_leaks import _synthetic_corpus

from kwalitatief.cache import DocumentCache, dict_with, list_of
from kwalitatief.jsonio import read_jsonl
from kwalitatief.keyscan import KeyIndex
from kwalitatief.leakguard import LeakError, guard, scan_outputs

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

# The paragraph of int_1 as an annotator copied it before the transcript was edited ('een' -> 'een senior').
OLD_PARAGRAPH = ("De proeftuin was een senior impuls voor de samenwerking in Twente. Wethouder Gerrit-Jan Oldenkamp "
                 "van Enschede was er vanaf het begin bij, samen met Sanne de Haan.")
MISSED = "Kwibus"     # a nickname no name list knows: the detector misses it until it is on the list


def _kwal(project: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "kwalitatief.cli", *args], cwd=project, env=env, text=True,
                          capture_output=True, timeout=timeout)


def _make_project(root: Path) -> Path:
    corpus = _synthetic_corpus(root)
    manifest = (corpus / "manifest.csv").read_text(encoding="utf-8")
    (corpus / "manifest.csv").write_text(manifest.replace("Interview 2", "Interview met Hendrik Wolters"),
                                         encoding="utf-8")
    transcript = corpus / "transcripts" / "int_2.txt"
    transcript.write_text(transcript.read_text(encoding="utf-8").replace(
        "Sanne de Haan zei dat ook.", f"Sanne de Haan zei dat ook, en {MISSED} ook."), encoding="utf-8")
    (corpus / "pseudonyms.csv").write_text("term,action,kind,note\n", encoding="utf-8")
    shutil.copytree(ROOT / "pipeline", root / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    codebook = root / "codebook"
    shutil.copytree(ROOT / "codebook", codebook, ignore=shutil.ignore_patterns("annotations", "reviews.jsonl"))
    (codebook / "conclusions.yaml").write_text("conclusions: []\n", encoding="utf-8")
    (codebook / "reviews.jsonl").write_text("", encoding="utf-8")
    (codebook / "annotations").mkdir()
    (codebook / "annotations" / "a.jsonl").write_text(
        json.dumps({"doc_id": "int_1", "text": OLD_PARAGRAPH, "codes": [], "coder": "T"}, ensure_ascii=False) + "\n"
        + json.dumps({"doc_id": "int_2", "text": "Wat OCW ermee wilde, is nooit duidelijk geworden. Sanne de Haan "
                                                 f"zei dat ook, en {MISSED} ook.", "codes": [],
                      "coder": "T"}, ensure_ascii=False) + "\n", encoding="utf-8")
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["workers"] = 1
    params["nlp"]["model"] = "blank:nl+lookup"
    (root / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    shutil.copy(ROOT / "dvc.yaml", root / "dvc.yaml")
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=root, check=True)
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = _make_project(tmp_path_factory.mktemp("study"))
    first = _kwal(root, "run")
    assert first.returncode == 0, first.stdout + first.stderr
    fragments = list(read_jsonl(root / "outputs/work/fragments"))
    # an orphaned decision whose recorded text holds a name (and a live one on the fragment with the nickname)
    nick = next(f for f in fragments if MISSED in f["text"])
    decisions = [
        {"time": "2026-01-01T10:00:00Z", "reviewer": "A", "fragment_id": "int_1-000000000000", "text_hash": "x",
         "text": "Wethouder Gerrit-Jan Oldenkamp was er vanaf het begin bij.", "code": "opinie.proeftuin",
         "valence": "positief", "decision": "add", "memo": None},
        {"time": "2026-01-01T10:01:00Z", "reviewer": "A", "fragment_id": nick["fragment_id"],
         "text_hash": nick["text_hash"], "text": nick["text"], "code": "knelpunt.financiering", "valence": None,
         "decision": "add", "memo": None},
    ]
    (root / "codebook/reviews.jsonl").write_text("".join(json.dumps(d) + "\n" for d in decisions), encoding="utf-8")
    second = _kwal(root, "run")
    assert second.returncode == 0, second.stdout + second.stderr
    return root


def _db(project: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(project / "outputs/kwalitatief.db") as conn:
        return conn.execute(sql).fetchall()


def test_problems_and_titles_quote_names_pseudonymised(project: Path) -> None:
    messages = [m for (m,) in _db(project, "select message from problems")]
    unmatched = [m for m in messages if "no fragment of 'int_1' has this text" in m]
    orphan = [m for m in messages if "orphaned decision" in m]
    assert unmatched and orphan, messages
    for message in unmatched + orphan:
        assert "Gerrit" not in message and "Oldenkamp" not in message and "Sanne" not in message
    assert "Wethouder [PE" in unmatched[0] and "Wethouder [PERSOON-" in orphan[0]
    report = (project / "outputs/report.html").read_text(encoding="utf-8")
    assert "Oldenkamp" not in report and "Wolters" not in report
    titles = dict(_db(project, "select doc_id, title from documents"))
    assert "Wolters" not in titles["int_2"] and titles["int_2"].startswith("Interview met [PERSOON-")
    assert scan_outputs(project) == []


def test_every_run_ends_with_the_leak_guard_and_a_planted_leak_stops_it(project: Path) -> None:
    clean = _kwal(project, "run")
    assert clean.returncode == 0 and "Nothing changed" in clean.stdout and "Leak guard: none of the" in clean.stdout
    planted = project / "outputs/exports/planted.csv"     # e.g. a table someone exported by hand
    planted.parent.mkdir(exist_ok=True)
    planted.write_text("code,quote\nknelpunt.x,gesprek met Sanne de Haan\n", encoding="utf-8")
    try:
        stopped = _kwal(project, "run")
        assert stopped.returncode == 3
        assert "leak guard" in stopped.stderr and "outputs/exports/planted.csv" in stopped.stderr
        assert "Sanne" not in stopped.stderr     # the message names the tag, never the original
        with pytest.raises(LeakError, match=r"planted\.csv"):
            guard(project)
    finally:
        planted.unlink()
    # and inside the database the guard names the table and column
    with sqlite3.connect(project / "outputs/kwalitatief.db") as conn:
        original = conn.execute("select title from documents where doc_id = 'int_2'").fetchone()[0]
        conn.execute("update documents set title = 'Interview met Hendrik Wolters' where doc_id = 'int_2'")
    try:
        with pytest.raises(LeakError, match=r"kwalitatief\.db: documents\.title"):
            guard(project)
    finally:
        with sqlite3.connect(project / "outputs/kwalitatief.db") as conn:
            conn.execute("update documents set title = ? where doc_id = 'int_2'", (original,))


def test_a_corrupt_pseudonymisation_cache_entry_is_recomputed_never_published(project: Path) -> None:
    before = (project / "outputs/work/pseudonymised/int_1.json").read_bytes()
    entries = sorted((project / "outputs/private/cache/pseudonymise").glob("*.json"))
    assert entries
    for entry in entries:
        entry.write_text("{}", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    run = subprocess.run([sys.executable, "pipeline/prepare.py"], cwd=project, env=env, text=True,
                         capture_output=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "detection cache: 0 reused" in run.stderr
    assert run.stderr.count("is unusable (not a cache entry of this version); recomputing it") == len(entries)
    assert (project / "outputs/work/pseudonymised/int_1.json").read_bytes() == before
    assert "Oldenkamp" not in before.decode("utf-8")


def test_a_cache_entry_of_the_wrong_shape_or_checksum_is_a_logged_miss(tmp_path: Path, caplog) -> None:
    cache = DocumentCache(tmp_path, "extract", shape=dict_with(ok=dict))
    cache.put("k", {"ok": {"text": "x"}})
    assert cache.get("k") == {"ok": {"text": "x"}}
    path = tmp_path / "extract" / "k.json"
    header, body = path.read_text().split("\n", 1)
    path.write_text(header + "\n" + body.replace('"x"', '"y"'))           # same shape, changed content
    assert cache.get("k") is None and "checksum mismatch" in caplog.text and not path.exists()
    DocumentCache(tmp_path, "extract").put("k", ["a", "list"])              # valid entry, wrong shape
    assert cache.get("k") is None and "not the shape" in caplog.text
    spans = DocumentCache(tmp_path, "p", shape=list_of(dict_with(start=int, end=int)))
    spans.put("s", [{"start": "0", "end": 3}])
    assert spans.get("s") is None and spans.bad == 1


def test_outputs_private_is_only_readable_by_its_owner(project: Path) -> None:
    private = project / "outputs/private"
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    for path in private.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_purge_leaks_repairs_a_missed_name_everywhere(project: Path) -> None:
    fragments = "".join(p.read_text(encoding="utf-8") for p in (project / "outputs/work/fragments").glob("*.jsonl"))
    assert MISSED in fragments                 # the premise: the detector missed the nickname
    with open(project / "corpus/pseudonyms.csv", "a", encoding="utf-8") as handle:
        handle.write(f"{MISSED},replace,persoon,a nickname\n")
    stale = _kwal(project, "run")              # the stale copies (caches) are found and the run stops
    assert stale.returncode != 0 and "leak guard" in stale.stdout + stale.stderr
    reviews_before = (project / "codebook/reviews.jsonl").read_text(encoding="utf-8").splitlines()

    repaired = _kwal(project, "purge-leaks")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "codebook/reviews.jsonl: the text of 2 line(s) pseudonymised" in repaired.stdout
    assert "codebook/annotations/a.jsonl: the text of 2 line(s) pseudonymised" in repaired.stdout
    reviews = [json.loads(line) for line in (project / "codebook/reviews.jsonl").read_text().splitlines()]
    assert MISSED not in json.dumps(reviews) and "Oldenkamp" not in json.dumps(reviews)
    assert "[PERSOON-" in reviews[1]["text"]
    for old, new in zip(map(json.loads, reviews_before), reviews):     # the decisions themselves unchanged
        assert {k: v for k, v in old.items() if k not in ("text", "fragment_id", "text_hash")} == \
               {k: v for k, v in new.items() if k not in ("text", "fragment_id", "text_hash")}
    backups = list((project / "outputs/private/backup").rglob("reviews.jsonl"))
    assert len(backups) == 1 and MISSED in backups[0].read_text(encoding="utf-8")
    # the decision follows its (now pseudonymised) fragment and is still applied
    applied = _db(project, f"select code from codings where fragment_id = '{reviews[1]['fragment_id']}' "
                           "and status in ('added', 'accepted')")   # 'accepted' where the machine coded it too
    assert applied == [("knelpunt.financiering",)]
    assert scan_outputs(project) == []
    index = KeyIndex([{"tag": "[X]", "original": MISSED, "doc_id": ""}])
    for path in (project / ".dvc/cache").rglob("*"):
        if path.is_file():
            assert not index.find(path.read_bytes().decode("utf-8", "ignore")), path
    again = _kwal(project, "run")
    assert again.returncode == 0 and "Nothing changed" in again.stdout, again.stdout + again.stderr


def test_the_key_index_matches_whole_words_and_spares_common_words() -> None:
    rows = [{"tag": "[PERSOON-1]", "original": "Sanne de Haan", "doc_id": "a"},
            {"tag": "[PERSOON-2]", "original": "Ken", "doc_id": "a"},
            {"tag": "[PERSOON-3]", "original": "Bakker", "doc_id": "a"},
            {"tag": "[EMAIL-1]", "original": "s.dehaan@x.nl", "doc_id": "a"}]
    guard_index = KeyIndex(rows)
    found = lambda text: [h.tag for h in guard_index.find(text)]  # noqa: E731
    assert found("met SANNE  de\nhaan gesproken") == ["[PERSOON-1]"]
    assert found("ik ken de bakker") == [] and found("Ken je dat? Bakker zei het.") == []
    assert found("met Ken Bakker") == ["[PERSOON-2]", "[PERSOON-3]"]
    assert found("Sanne de Haanstra, s.dehaan@x.nl.") == ["[EMAIL-1]"]
    strict = KeyIndex(rows, strict=True)
    assert strict.redact("Ik ken Sanne de Haan, de bakker.") == "Ik [PERSOON-2] [PERSOON-1], de [PERSOON-3]."


def test_an_export_that_holds_an_original_is_removed_and_refused(tmp_path: Path, monkeypatch) -> None:
    import zipfile

    from kwalitatief.cli import _guard_export

    key = tmp_path / "outputs/private/pseudonym_key.csv"
    key.parent.mkdir(parents=True)
    key.write_text("tag,original,doc_id\n[PERSOON-1],Sanne de Haan,int_1\n", encoding="utf-8")
    export = tmp_path / "study.qdpx"
    with zipfile.ZipFile(export, "w") as archive:   # a reviewer's memo naming someone, as QDA-XML escapes it
        archive.writestr("project.qde", "<Note>memo: gesprek met Sanne&#32;de Haan</Note>")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        _guard_export(export)
    assert stopped.value.code == 3 and not export.exists()
    clean = tmp_path / "clean.qdpx"
    with zipfile.ZipFile(clean, "w") as archive:
        archive.writestr("project.qde", "<Note>memo: gesprek met [PERSOON-1]</Note>")
    _guard_export(clean)
    assert clean.exists()


def test_a_wrong_shape_entry_in_the_extract_cache_is_re_extracted_not_a_type_error(tmp_path: Path, caplog) -> None:
    from corpus_factory import make_corpus

    from kwalitatief.corpus import load_register
    from kwalitatief.ingest import extract_corpus

    register = load_register(make_corpus(tmp_path))
    cache_dir = tmp_path / "outputs/private/cache"
    first = extract_corpus(register, cache_dir=cache_dir)
    entries = sorted((cache_dir / "extract").glob("*.json"))
    writer = DocumentCache(cache_dir, "extract")          # well-formed entries (checksum fine) of the wrong shape
    for i, entry in enumerate(entries):
        writer.put(entry.stem, [{"ok": 3}, {"ok": {"text": 1}}, {"error": None}][i % 3])
    again = extract_corpus(register, cache_dir=cache_dir)
    assert again.documents == first.documents and again.problems == first.problems
    assert again.cache_hits == 0 and again.cache_misses == len(entries)
    assert caplog.text.count("is unusable (not the shape this stage stores)") == len(entries)
    assert extract_corpus(register, cache_dir=cache_dir).cache_hits == len(entries)


def test_review_problems_quote_decisions_pseudonymised_before_cutting_them(tmp_path: Path) -> None:
    from kwalitatief.review import apply_project

    key = tmp_path / "outputs/private/pseudonym_key.csv"
    key.parent.mkdir(parents=True)
    key.write_text("tag,original,doc_id\n[PERSOON-1],Gerrit-Jan Oldenkamp,int_1\n", encoding="utf-8")
    name = "Gerrit-Jan Oldenkamp"
    orphan = {"time": "2026-01-01T10:00:00Z", "reviewer": "A", "fragment_id": "int_1-000000000000",
              "text_hash": "x", "text": "proeftuin " * 14 + f"{name} zei het.", "code": "opinie.proeftuin",
              "decision": "accept"}
    torn = json.dumps({**orphan, "text": "proeftuin " * 7 + f"{name} zei het"})[:-10]
    # the premise: cut where the snippets are cut (160 and 200 characters), the name would be half there
    assert "Gerrit" in " ".join(orphan["text"].split())[:159] and name not in orphan["text"][:159]
    assert "Gerrit" in torn[:200] and name not in torn[:200]
    reviews = tmp_path / "codebook/reviews.jsonl"
    reviews.parent.mkdir()
    reviews.write_text(json.dumps(orphan) + "\n" + torn, encoding="utf-8")
    _, problems = apply_project([], tmp_path, fragments=[])
    assert len(problems) == 2
    text = json.dumps(problems, ensure_ascii=False)
    assert "Gerrit" not in text and "Olden" not in text and "[PERSOON-1]" in text


def test_the_guard_rereads_only_files_changed_since_a_clean_scan(tmp_path: Path) -> None:
    key = tmp_path / "outputs/private/pseudonym_key.csv"
    key.parent.mkdir(parents=True)
    key.write_text("tag,original,doc_id\n[PERSOON-1],Sanne de Haan,int_1\n", encoding="utf-8")
    report = tmp_path / "outputs/report.md"
    report.write_text("met [PERSOON-1] gesproken\n", encoding="utf-8")
    assert guard(tmp_path) == 1
    record = json.loads((tmp_path / "outputs/private/leakguard_clean.json").read_text())
    assert list(record["files"]) == [str(report)]
    report.write_text("met Sanne de Haan gesproken\n", encoding="utf-8")   # changed: read again
    with pytest.raises(LeakError, match=r"report\.md"):
        guard(tmp_path)
    with pytest.raises(LeakError):                                      # a leak is never recorded as clean
        guard(tmp_path)
    report.write_text("met [PERSOON-1] gesproken\n", encoding="utf-8")
    guard(tmp_path)
    key.write_text("tag,original,doc_id\n[PERSOON-1],Sanne de Haan,int_1\n[PERSOON-2],gesproken,int_1\n")
    os.utime(report, ns=(record["files"][str(report)][1],) * 2)          # same file, but a new key: read again
    with pytest.raises(LeakError):
        guard(tmp_path)


def test_a_model_file_that_no_longer_loads_is_scanned_as_raw_strings(tmp_path):
    """A stale pickle (written by older code, its classes moved) must not crash the guard: it is scanned
    as the strings its bytes hold (fail closed)."""
    import joblib
    import pytest

    from kwalitatief.keyscan import KeyIndex
    from kwalitatief.leakguard import scan_paths

    import pickle
    import sys
    import types

    stale = tmp_path / "model.joblib"
    old = types.ModuleType("kwal_stale_module")        # a module of older code, since moved away
    exec("class Featurizer:\n    pass", old.__dict__)
    old.Featurizer.__module__ = "kwal_stale_module"
    sys.modules["kwal_stale_module"] = old
    try:
        stale.write_bytes(pickle.dumps(("Sietske Hoekstra", "samenwerking", old.Featurizer()), protocol=4))
    finally:
        del sys.modules["kwal_stale_module"]
    with pytest.raises(ModuleNotFoundError):
        joblib.load(stale)
    index = KeyIndex([{"tag": "[PERSOON-1]", "original": "Sietske Hoekstra", "doc_id": "d1"}])
    leaks = scan_paths(index, [stale])
    assert [leak.tag for leak in leaks] == ["[PERSOON-1]"]


def test_which_key_words_are_dutch_is_looked_up_once_per_key(tmp_path: Path, monkeypatch) -> None:
    """A rerun that changed nothing does not read spaCy's lemma tables again; another key does, and the
    guard still spares the Dutch words of the key that the lookup found."""
    import kwalitatief.keyscan as keyscan

    calls: list[list[str]] = []
    real = keyscan.dutch_words

    def counted(candidates):
        words = sorted(candidates)
        calls.append(words)
        return real(words)

    monkeypatch.setattr(keyscan, "dutch_words", counted)
    key = tmp_path / "outputs/private/pseudonym_key.csv"
    key.parent.mkdir(parents=True)
    key.write_text("tag,original,doc_id\n[PERSOON-1],Bakker,int_1\n", encoding="utf-8")
    report = tmp_path / "outputs/report.md"
    report.write_text("de bakker zei het\n", encoding="utf-8")   # the word, not the name: no leak
    assert guard(tmp_path) == 1 and guard(tmp_path) == 1
    assert calls == [["bakker"]]
    key.write_text("tag,original,doc_id\n[PERSOON-1],Bakker,int_1\n[PERSOON-2],Visser,int_1\n", encoding="utf-8")
    assert guard(tmp_path) == 2
    assert calls == [["bakker"], ["bakker", "visser"]]
    report.write_text("toen zei Bakker het\n", encoding="utf-8")   # the name, capitalised, mid-sentence
    with pytest.raises(LeakError):
        guard(tmp_path)


def test_a_name_that_turns_up_by_chance_in_a_figures_base64_is_no_leak(tmp_path: Path) -> None:
    """A figure is embedded in the report as base64 (and cached as such): a short original between a "+" and a
    "/" of it is chance, not a name anyone can read; the same name in the report's text is still a leak."""
    import base64
    import random

    key = tmp_path / "outputs/private/pseudonym_key.csv"
    key.parent.mkdir(parents=True)
    key.write_text("tag,original,doc_id\n[PERSOON-1],Bas,int_1\n", encoding="utf-8")
    noise = base64.b64encode(random.Random(7).randbytes(3000)).decode("ascii")
    payload = noise[:1500] + "+Bas/" + noise[1500:]
    report = tmp_path / "outputs/report.html"
    report.write_text(f'<p>met [PERSOON-1] gesproken</p><img src="data:image/png;base64,{payload}">',
                      encoding="utf-8")
    cached = tmp_path / "outputs/cache/figures/heatmap_regions-0123.txt"
    cached.parent.mkdir(parents=True)
    cached.write_text(payload, encoding="utf-8")
    assert guard(tmp_path) == 1
    report.write_text(f'<p>met Bas gesproken</p><img src="data:image/png;base64,{payload}">', encoding="utf-8")
    with pytest.raises(LeakError, match=r"report\.html"):
        guard(tmp_path)
