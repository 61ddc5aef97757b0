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


# --- the fast path of the fallback pipeline gives exactly what the spaCy pipeline gives -------------

REPO = Path(__file__).resolve().parents[1]
TRICKY = [
    'Hij zei: "Nee." Dat klopt... Echt?! Ja.',
    "Wat?!? Nou... ja. 'Goed,' zei ze. (Echt waar.) En toen?",
    "De regio's, de cultuurregio’s en de BIS-aanvragen; o.a. de gemeente e.d. t.b.v. het Rijk.",
    "Het budget steeg van € 1.250.000,- naar 3,5 mln. (ca. 12 %) in 2021-2022. Dat is 1.5x zoveel.",
    "Proeftuinen, samenwerkingsverbanden en kunst- en cultuurinstellingen.  Twee spaties.\nNieuwe regel.",
    "Zo'n 't Hof-achtig iets; m'n idee: d.w.z. 'n paar... Klaar!",
    "  Spaties vooraf en achteraf.   ",
    "Nr. 3 van art. 12 lid 2 sub b. Dhr. Jansen en mevr. De Vries (PvdA) reageerden.",
    "?! . ... !!",
    "Geen leesteken aan het eind",
    "e-mail: info@voorbeeld.nl, www.voorbeeld.nl/pad?x=1. 06-12345678 - zeker!",
    "I: En het reflectiemoment?\n\nR: Dat vond ik ongemakkelijk… Maar goed.",
    "‘Ja’, zei hij. “Nee!” — riep zij. »Misschien.« Einde.",
    "Ééntje, twééën; café’s, ideeën, naïef. ÉÉN ZIN. Dát.",
    ".",
    "a",
]


def _demo_texts() -> list[str]:
    """The demo transcripts (corpus/transcripts, when present) and the sources of the demo documents."""
    paths = [*sorted((REPO / "corpus" / "transcripts").glob("*.txt")),
             *sorted((REPO / "corpus" / "build" / "docx_src").glob("*.txt")),
             *sorted((REPO / "corpus" / "build" / "pdf_text").glob("*.md"))]
    texts = []
    for path in paths:
        data = path.read_bytes()
        try:
            texts.append(data.decode("utf-8"))
        except UnicodeDecodeError:  # a demo transcript is deliberately in cp1252
            texts.append(data.decode("cp1252"))
    return texts


def test_fast_path_gives_the_tokens_lemmas_and_sentences_of_the_spacy_pipeline() -> None:
    from kwalitatief.nlp import FALLBACK_NAME, fallback_annotator, token_rows

    nlp = load_nlp(FALLBACK_NAME)
    fast = fallback_annotator(nlp)
    assert fast is not None
    documents = _demo_texts()
    assert documents, "no demo texts under corpus/"
    paragraphs = [p for doc in documents for p in doc.split("\n\n")]
    texts = [*TRICKY, *documents, *paragraphs]
    expected = [token_rows(doc) for doc in nlp.pipe(texts)]
    got = list(fast.pipe(texts))
    for text, want, have in zip(texts, expected, got):
        assert have == want, text[:200]
    assert sum(len(sents) > 1 for _, sents in got) > len(TRICKY) // 2  # the texts do have sentences


def test_fast_path_fragments_equal_the_spacy_pipeline_fragments(tmp_path: Path, monkeypatch) -> None:
    from kwalitatief import nlp as nlp_module
    from kwalitatief import segment
    from kwalitatief.ingest import Block, Extracted
    from kwalitatief.nlp import FALLBACK_NAME

    nlp = load_nlp(FALLBACK_NAME)
    register = load_register(make_corpus(tmp_path))
    metas = {d.doc_id: asdict(d) for d in register.documents}
    docs = [(Extracted.from_dict(d), metas[d["doc_id"]]) for d in extract_corpus(register).documents]
    text = "\n\n".join([*TRICKY, *_demo_texts()[:3]])
    blocks, start = [], 0
    for part in text.split("\n\n"):
        blocks.append(Block(start, start + len(part), "paragraph"))
        start += len(part) + 2
    extra = Extracted("tricky", text, "txt", blocks)
    docs.append((extra, {**docs[0][1], "doc_id": "tricky", "doc_type": "overig"}))
    for unit in ("sentence", "paragraph", "turn"):
        unit_for = {"default": unit}
        fast = segment.segment_documents(docs, nlp, unit_for)
        with monkeypatch.context() as patch:
            patch.setattr(nlp_module, "fallback_annotator", lambda nlp: None)
            slow = segment.segment_documents(docs, nlp, unit_for)
        assert fast == slow, unit
        assert any(f["doc_id"] == "tricky" for f in fast)


def test_fast_path_is_only_for_the_fallback_pipeline() -> None:
    import spacy

    from kwalitatief.nlp import FALLBACK_NAME, fallback_annotator

    assert fallback_annotator(load_nlp(FALLBACK_NAME)) is not None
    model = spacy.blank("nl")  # e.g. a real model: other components, another name
    model.add_pipe("sentencizer")
    model.meta["kwal_model"] = "nl_core_news_sm-3.8.0"
    assert fallback_annotator(model) is None
    changed = spacy.blank("nl")
    changed.add_pipe("lemmatizer", config={"mode": "lookup"})
    changed.add_pipe("sentencizer", config={"punct_chars": [";"]})
    changed.add_pipe("sentencizer", name="extra")
    changed.initialize()
    changed.meta["kwal_model"] = FALLBACK_NAME
    assert fallback_annotator(changed) is None


def test_a_text_with_unicode_line_separators_is_one_fragment_per_paragraph_from_cache_and_fresh(
        tmp_path: Path) -> None:
    from kwalitatief.ingest import Block, Extracted
    from kwalitatief.jsonio import read_jsonl
    from kwalitatief.segment import segment_corpus_jsonl

    # U+2028, U+0085 and a form feed inside a paragraph: JSON keeps them raw, splitlines() would cut there
    text = "Eerste alinea\u2028met een regelscheiding\x85 en\x0c meer.\n\nTweede alinea."
    doc = Extracted("pdf_x", text, "pdf", [Block(0, text.index("\n\n"), "paragraph"),
                                           Block(text.index("Tweede"), len(text), "paragraph")]).to_dict()
    meta = {"doc_id": "pdf_x", "doc_type": "beleidsdocument", "region": "Zwolle", "respondent_id": ""}
    settings = {"unit": {"default": "paragraph"}, "model": "blank:nl+lookup"}
    fresh, _ = segment_corpus([doc], {"pdf_x": meta}, settings, cache_dir=tmp_path)
    cached, stats = segment_corpus([doc], {"pdf_x": meta}, settings, cache_dir=tmp_path)
    assert stats["cache_hits"] == 1
    assert [f["text"] for f in fresh] == [text[:text.index("\n\n")], "Tweede alinea."]
    assert cached == fresh
    texts, _ = segment_corpus_jsonl([doc], {"pdf_x": meta}, settings, cache_dir=tmp_path)
    (tmp_path / "fragments.jsonl").write_text("".join(texts), encoding="utf-8")
    assert list(read_jsonl(tmp_path / "fragments.jsonl")) == fresh
