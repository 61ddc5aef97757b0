"""Incremental reruns and parallel runs: per-document caches in extract, segment and code.

A rerun with nothing changed does no work; editing one document redoes only that document; editing the
codebook redoes the coding; 1 and 2 workers give identical results.
"""

from dataclasses import asdict
from pathlib import Path

import pytest
from corpus_factory import make_corpus

from kwalitatief.codebook import load_codebook
from kwalitatief.coding import code_corpus
from kwalitatief.corpus import load_register
from kwalitatief.ingest import extract_corpus
from kwalitatief.segment import segment_corpus

CODEBOOK = Path(__file__).resolve().parents[1] / "codebook" / "codebook.yaml"
SETTINGS = {"unit": {"transcript": "paragraph", "default": "paragraph"}, "model": "blank:nl+lookup"}
MODEL = "blank:nl+lookup"


def _run(corpus: Path, cache: Path, codebook, workers: int = 1) -> dict:
    register = load_register(corpus)
    metas = {d.doc_id: asdict(d) for d in register.documents}
    extraction = extract_corpus(register, workers=workers, cache_dir=cache)
    fragments, seg = segment_corpus(extraction.documents, metas, SETTINGS, workers=workers, cache_dir=cache)
    codings, code = code_corpus(fragments, codebook, MODEL, workers=workers, cache_dir=cache)
    return {"documents": extraction.documents, "fragments": fragments, "codings": codings,
            "extract": (extraction.cache_hits, extraction.cache_misses),
            "segment": (seg["cache_hits"], seg["cache_misses"]), "code": (code["cache_hits"], code["cache_misses"])}


@pytest.fixture(scope="module")
def codebook():
    return load_codebook(CODEBOOK)


def test_rerun_with_nothing_changed_does_no_work(tmp_path: Path, codebook) -> None:
    corpus, cache = make_corpus(tmp_path), tmp_path / "cache"
    first = _run(corpus, cache, codebook)
    assert first["extract"] == (0, 3) and first["segment"] == (0, 3)
    assert first["code"][0] == 0 and first["code"][1] >= 2
    second = _run(corpus, cache, codebook)
    assert second["extract"] == (3, 0)
    assert second["segment"] == (3, 0)
    assert second["code"] == (first["code"][1], 0)
    assert second["codings"] == first["codings"] and second["fragments"] == first["fragments"]


def test_editing_one_transcript_redoes_only_that_transcript(tmp_path: Path, codebook) -> None:
    corpus, cache = make_corpus(tmp_path), tmp_path / "cache"
    first = _run(corpus, cache, codebook)
    path = corpus / "transcripts" / "int_1.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nR: De samenwerking in de regio moet echt beter.\n",
                    encoding="utf-8")
    second = _run(corpus, cache, codebook)
    assert second["extract"] == (2, 1)
    assert second["segment"] == (2, 1)
    assert second["code"][1] == 1
    changed = {f["doc_id"] for f in second["fragments"]} - {None}
    assert {f["fragment_id"] for f in second["fragments"] if f["doc_id"] != "int_1"} == \
        {f["fragment_id"] for f in first["fragments"] if f["doc_id"] != "int_1"}
    assert "int_1" in changed
    assert any("samenwerking in de regio moet echt beter" in f["text"] for f in second["fragments"])


def test_editing_the_codebook_recodes_but_does_not_resegment(tmp_path: Path, codebook) -> None:
    corpus, cache = make_corpus(tmp_path), tmp_path / "cache"
    first = _run(corpus, cache, codebook)
    edited = tmp_path / "codebook"
    edited.mkdir()
    (edited / "codebook.yaml").write_text(CODEBOOK.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    lexicon = CODEBOOK.parent / "lexicon"
    (edited / "lexicon").symlink_to(lexicon, target_is_directory=True)
    other = load_codebook(edited / "codebook.yaml")
    assert other.version != codebook.version
    second = _run(corpus, cache, other)
    assert second["segment"] == (3, 0)
    assert second["code"] == (0, first["code"][1])
    assert second["codings"] == first["codings"]   # a comment changes no coding


def test_one_and_two_workers_give_identical_results(tmp_path: Path, codebook) -> None:
    corpus = make_corpus(tmp_path)
    one = _run(corpus, None, codebook, workers=1)
    two = _run(corpus, None, codebook, workers=2)
    for key in ("documents", "fragments", "codings"):
        assert one[key] == two[key], key
    assert any(rows for rows in one["codings"])


def test_balanced_groups_spread_large_documents_and_keep_item_order() -> None:
    from kwalitatief.parallel import balanced_groups, map_documents, ungroup

    sizes = [1] * 40 + [100] * 6          # six long documents at the end of the manifest
    groups = balanced_groups(sizes, 4)
    assert sorted(i for g in groups for i in g) == list(range(len(sizes)))
    totals = [sum(sizes[i] for i in g) for g in groups]
    assert max(totals) - min(totals) <= 100 and max(totals) < 300
    assert ungroup(groups, [[i * 10 for i in g] for g in groups], len(sizes)) == [i * 10 for i in range(len(sizes))]
    assert map_documents(abs, [-i for i in range(46)], 2, sizes=sizes) == list(range(46))


def test_a_stage_rewrites_only_changed_per_document_files_and_removes_stale_ones(tmp_path: Path) -> None:
    import os

    from kwalitatief.jsonio import read_json, write_json_dir

    folder = tmp_path / "pseudonymised"
    assert write_json_dir(folder, {"a": {"text": "een"}, "b": {"text": "twee"}, "c": {"text": "drie"}}) == 3
    for path in folder.iterdir():   # an old modification time, so a rewrite would show
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    written = write_json_dir(folder, {"a": {"text": "een"}, "b": {"text": "twee, bewerkt"}})
    assert written == 1
    assert sorted(p.name for p in folder.iterdir()) == ["a.json", "b.json"]   # c is gone
    assert (folder / "a.json").stat().st_mtime_ns == 1_000_000_000          # unchanged: not rewritten
    assert (folder / "b.json").stat().st_mtime_ns != 1_000_000_000
    assert read_json(folder / "b.json") == {"text": "twee, bewerkt"}


def test_token_rows_are_read_only_when_asked_for_and_rebuilt_when_their_cache_entry_is_gone(tmp_path: Path) -> None:
    import shutil

    from kwalitatief.segment import segment_entries

    corpus, cache = make_corpus(tmp_path), tmp_path / "cache"
    register = load_register(corpus)
    metas = {d.doc_id: asdict(d) for d in register.documents}
    docs = extract_corpus(register).documents
    first, _ = segment_entries(docs, metas, SETTINGS, cache_dir=cache)
    expected = [e.rows() for e in first]
    assert all(rows and all("tokens" in f for f in rows) for rows in expected)
    assert all('"tokens"' not in e.published for e in first)   # the published fragments hold no token rows
    shutil.rmtree(cache / "segment_tokens")
    again, stats = segment_entries(docs, metas, SETTINGS, cache_dir=cache)
    assert stats["cache_hits"] == len(docs) and [e.published for e in again] == [e.published for e in first]
    assert [e.rows() for e in again] == expected
    assert len(list((cache / "segment_tokens").glob("*.json"))) == len(docs)


@pytest.mark.slow
def test_prepare_and_classify_after_edits_write_the_files_of_a_run_from_scratch(tmp_path: Path) -> None:
    """Through the stages' own entry points (a second study: studies/mantelzorg): after an edit that brings in
    a new name (which another interview mentions by surname alone) and after an edit of the codebook, every file
    of prepare and classify is byte for byte that of ``rm -rf outputs`` and a run from scratch; the unchanged
    documents' work (name search, segmenting, classifier codings, the model) is reused."""
    import os
    import shutil
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "src"), os.environ.get("PYTHONPATH", "")])}
    study = tmp_path / "mantelzorg"
    subprocess.run([sys.executable, "-m", "kwalitatief.cli", "init", str(study)], cwd=tmp_path, env=env,
                   check=True, capture_output=True)
    shutil.copytree(root / "studies" / "mantelzorg", study, dirs_exist_ok=True)

    def stages() -> str:
        logs = ""
        for stage in ("prepare", "classify"):
            done = subprocess.run([sys.executable, f"pipeline/{stage}.py"], cwd=study, env=env, capture_output=True,
                                  text=True, timeout=600)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            logs += done.stdout + done.stderr
        return logs

    def outputs() -> dict[str, bytes]:
        skip = ("cache", "run.json", "kwalitatief.db", ".gitkeep")
        return {str(p.relative_to(study / "outputs")): p.read_bytes() for p in sorted((study / "outputs").rglob("*"))
                if p.is_file() and not any(part in skip for part in p.relative_to(study / "outputs").parts)}

    transcripts = sorted((study / "corpus" / "transcripts").glob("*.txt"))
    first, other = transcripts[0], transcripts[1]
    other.write_text(other.read_text(encoding="utf-8").rstrip("\n") + "\n\nR: Wiersma zei dat ook al.\n",
                     encoding="utf-8")
    stages()
    first.write_text(first.read_text(encoding="utf-8").rstrip("\n")
                     + "\n\nR: Ik heb het met mevrouw Hendrika Wiersma besproken, dat moet beter.\n", encoding="utf-8")
    logs = stages()
    import re

    # the new name changes the corpus' names: every interview is searched again; the edited one and the one
    # naming her are segmented again, the other documents are not
    assert re.search(r"name search: 0 reused, \d+ new", logs), logs
    assert re.search(r"fragments .* cache: \d+ reused, 2 new", logs), logs
    assert re.search(r"cache: \d+ reused, 2 new documents; model (reused|trained)", logs), logs
    edited = outputs()
    pseudonymised = (study / "outputs" / "work" / "pseudonymised" / f"{other.stem}.json").read_text(encoding="utf-8")
    assert "Wiersma" not in pseudonymised, "the new name is found in the interview that names her by surname only"
    codebook = study / "codebook" / "codebook.yaml"
    codebook.write_text(codebook.read_text(encoding="utf-8") + "\n# an edit of the codebook\n", encoding="utf-8")
    stages()
    codebook_edited = outputs()
    shutil.rmtree(study / "outputs")
    stages()
    fresh = outputs()
    assert codebook_edited.keys() == fresh.keys()
    assert [name for name in fresh if codebook_edited[name] != fresh[name]] == []
    assert any(name.startswith("work/pseudonymised/") for name in fresh) and "metrics.json" in fresh
    # and the outputs after the transcript edit are those of that corpus: only the codebook comment differs
    assert {name for name in fresh if edited.get(name) != fresh[name]} <= {
        name for name in fresh if name.startswith(("work/codings", "model/", "metrics", "plots/", "work/problems"))}


@pytest.mark.slow
def test_kwal_run_after_an_edit_leaves_the_files_of_unchanged_documents_untouched(tmp_path: Path) -> None:
    """DVC deletes a stage's outputs before running it unless they persist: the per-document folders of
    prepare and classify persist, so the files of documents that did not change keep their inode and
    modification time (DVC's state cache knows them; nothing is rewritten or hashed again)."""
    import os
    import shutil
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "src"), os.environ.get("PYTHONPATH", "")])}

    def kwal(*args: str, cwd: Path) -> None:
        done = subprocess.run([sys.executable, "-m", "kwalitatief.cli", *args], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    study = tmp_path / "mantelzorg"
    kwal("init", str(study), cwd=tmp_path)
    shutil.copytree(root / "studies" / "mantelzorg", study, dirs_exist_ok=True)
    kwal("run", cwd=study)
    transcripts = sorted((study / "corpus" / "transcripts").glob("*.txt"))
    edited, kept = transcripts[0].stem, transcripts[-1].stem
    folders = ["private/extracted", "work/pseudonymised", "work/fragments", "work/codings_rule",
               "work/codings_classifier", "work/codings"]

    def files(doc_id: str) -> dict[str, tuple[int, int]]:
        out = {}
        for folder in folders:
            for path in (study / "outputs" / folder).glob(f"{doc_id}.json*"):
                out[str(path)] = (path.stat().st_ino, path.stat().st_mtime_ns)
        return out

    before_kept, before_edited = files(kept), files(edited)
    assert len(before_kept) >= 4 and len(before_edited) >= 4
    transcripts[0].write_text(transcripts[0].read_text(encoding="utf-8").rstrip("\n")
                              + "\n\nR: Daar wil ik nog iets aan toevoegen over de zorg.\n", encoding="utf-8")
    kwal("run", cwd=study)
    assert files(kept) == before_kept
    changed = {path for path, stat in files(edited).items() if before_edited.get(path) != stat}
    assert any("/fragments/" in path for path in changed) and any("/extracted/" in path for path in changed)
