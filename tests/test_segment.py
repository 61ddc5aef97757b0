"""Fragments: units, stable ids, offsets and provenance."""

from dataclasses import asdict
from pathlib import Path

from corpus_factory import make_corpus

from kwalitatief.corpus import load_register
from kwalitatief.ingest import extract_corpus
from kwalitatief.nlp import load_nlp
from kwalitatief.segment import fragment_id, segment_corpus

SETTINGS = {"unit": {"transcript": "paragraph", "default": "paragraph"}, "model": "nl_core_news_sm"}


def _fragments(corpus: Path, settings: dict = SETTINGS, **kwargs) -> list[dict]:
    register = load_register(corpus)
    extraction = extract_corpus(register)
    metas = {d.doc_id: asdict(d) for d in register.documents}
    fragments, _ = segment_corpus(extraction.documents, metas, settings, **kwargs)
    return fragments


def test_respondent_paragraphs_are_codable_and_interviewer_turns_are_context(tmp_path: Path) -> None:
    fragments = [f for f in _fragments(make_corpus(tmp_path)) if f["doc_id"] == "int_1"]
    assert [(f["role"], f["codable"]) for f in fragments] == [
        ("interviewer", False), ("respondent", True), ("respondent", True),
        ("interviewer", False), ("respondent", True)]
    assert fragments[2]["text"] == "Maar de financiering stopt en er is geen toekomstperspectief."
    assert all(f["respondent_id"] == "R1" for f in fragments)


def test_offsets_point_back_into_the_extracted_text(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    register = load_register(corpus)
    texts = {d["doc_id"]: d["text"] for d in extract_corpus(register).documents}
    for fragment in _fragments(corpus):
        assert texts[fragment["doc_id"]][fragment["start"]:fragment["end"]] == fragment["text"]
        for offset, length, _ in fragment["tokens"]:
            assert fragment["text"][offset:offset + length].strip()


def test_pdf_fragments_keep_their_page(tmp_path: Path) -> None:
    fragments = [f for f in _fragments(make_corpus(tmp_path)) if f["doc_id"] == "profiel_twente"]
    assert [f["page"] for f in fragments] == [1, 1, 2]
    assert "BIS-aanvragen" in fragments[2]["text"]


def test_ids_are_stable_across_reruns_and_other_documents_changes(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    first = {f["fragment_id"]: f["text"] for f in _fragments(corpus)}
    assert {f["fragment_id"]: f["text"] for f in _fragments(corpus)} == first
    transcript = corpus / "transcripts" / "int_1.txt"
    transcript.write_text(transcript.read_text(encoding="utf-8").replace("ongemakkelijk", "lastig"),
                          encoding="utf-8")
    second = {f["fragment_id"]: f["text"] for f in _fragments(corpus)}
    changed = set(first) ^ set(second)
    assert len(changed) == 2  # the edited fragment's old and new id, nothing else
    assert all(fid.startswith("int_1-") for fid in changed)


def test_id_depends_on_document_and_content() -> None:
    assert fragment_id("a", "tekst") == fragment_id("a", "  tekst ")
    assert fragment_id("a", "tekst") != fragment_id("b", "tekst")
    assert fragment_id("a", "tekst", 0) != fragment_id("a", "tekst", 1)


def test_sentence_and_turn_units(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    by_sentence = [f for f in _fragments(corpus, {**SETTINGS, "unit": {"transcript": "sentence"}})
                   if f["doc_id"] == "int_1" and f["role"] == "respondent"]
    by_turn = [f for f in _fragments(corpus, {**SETTINGS, "unit": {"transcript": "turn"}})
               if f["doc_id"] == "int_1" and f["role"] == "respondent"]
    assert by_sentence[0]["text"] == "De proeftuin was een enorme impuls voor de samenwerking in Twente."
    assert len(by_sentence) == 4
    assert len(by_turn) == 2 and by_turn[0]["text"].endswith("geen toekomstperspectief.")


def test_fallback_pipeline_lemmatises() -> None:
    doc = load_nlp("nl_core_news_sm")("De proeftuinen en samenwerkingsverbanden")
    assert [t.lemma_ for t in doc][1:] == ["proeftuin", "en", "samenwerkingsverband"]


def test_one_and_two_workers_give_identical_fragments(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    assert _fragments(corpus, workers=1) == _fragments(corpus, workers=2)
