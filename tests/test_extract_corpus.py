"""A broken document among good ones is recorded as a problem; the others are still extracted."""

from pathlib import Path

from corpus_factory import make_corpus

from kwalitatief.corpus import load_register
from kwalitatief.ingest import extract_corpus


def test_corrupt_pdf_among_good_documents(tmp_path: Path) -> None:
    register = load_register(make_corpus(tmp_path, with_corrupt_pdf=True))
    result = extract_corpus(register, workers=2)
    assert [d["doc_id"] for d in result.documents] == ["int_1", "int_2", "profiel_twente"]
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert problem["doc_id"] == "kapot" and "corrupt" in problem["message"]


def test_empty_file_is_a_problem(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    (corpus / "transcripts" / "int_2.txt").write_bytes(b"")
    result = extract_corpus(load_register(corpus))
    assert [p["doc_id"] for p in result.problems] == ["int_2"]
    assert "empty" in result.problems[0]["message"]


def test_cache_reuses_unchanged_documents(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    cache = tmp_path / "cache"
    first = extract_corpus(load_register(corpus), cache_dir=cache)
    assert (first.cache_hits, first.cache_misses) == (0, 3)
    (corpus / "transcripts" / "int_1.txt").write_text("I: Vraag?\n\nR: Nieuw antwoord.\n", encoding="utf-8")
    second = extract_corpus(load_register(corpus), cache_dir=cache)
    assert (second.cache_hits, second.cache_misses) == (2, 1)
    assert second.documents[1:] == first.documents[1:]
