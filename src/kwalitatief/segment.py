"""Cutting extracted documents into fragments, the units researchers code, with stable ids."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .ingest import Extracted

if TYPE_CHECKING:   # spaCy loads only where text is segmented (review and report import text_hash)
    from spacy.language import Language

UNITS = ("sentence", "paragraph", "turn")


def fragment_id(doc_id: str, text: str, occurrence: int = 0) -> str:
    """A fragment id from its document and content: the same text in the same document keeps its id."""
    norm = " ".join(text.split())
    digest = hashlib.sha1(f"{doc_id}\x1f{norm}\x1f{occurrence}".encode("utf-8")).hexdigest()[:12]
    return f"{doc_id}-{digest}"


def text_hash(text: str) -> str:
    """Hash of a fragment's text (whitespace-normalised), used to detect changed fragments."""
    return hashlib.sha1(" ".join(text.split()).encode("utf-8")).hexdigest()[:16]


@dataclass
class Span:
    start: int
    end: int
    role: str
    speaker: str | None
    timestamp: str | None
    page: int | None
    codable: bool
    turn: int | None = None


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def document_spans(doc: Extracted, unit: str) -> list[Span]:
    """The character spans of a document's fragments for the chosen unit (before sentence splitting)."""
    if unit not in UNITS:
        raise ValueError(f"unknown segmentation unit '{unit}'; use one of {', '.join(UNITS)}")
    spans: list[Span] = []
    for block in doc.blocks:
        if block.kind == "preamble":
            continue
        if block.kind == "turn":
            turn = doc.turns[block.turn]
            if unit == "turn" and spans and spans[-1].turn == block.turn:
                spans[-1].end = block.end
                continue
            span = Span(block.start, block.end, turn.role, turn.speaker, turn.timestamp,
                        doc.page_at(block.start), turn.role == "respondent", block.turn)
        else:
            role = "kop" if block.kind == "heading" else "tekst"
            span = Span(block.start, block.end, role, None, None,
                        block.page if block.page is not None else doc.page_at(block.start),
                        block.kind != "heading")
        spans.append(span)
    return spans


def segment_documents(docs: Iterable[tuple[Extracted, dict[str, Any]]], nlp: Language,
                      unit_for: dict[str, str], batch_size: int = 256,
                      min_chars: int = 1) -> list[dict[str, Any]]:
    """Fragments of many documents, lemmatised with ``nlp.pipe`` in batches.

    ``docs`` yields (extracted document, manifest row as dict); ``unit_for`` maps a doc_type to
    sentence, paragraph or turn (key ``default`` for the rest).
    """
    pending: list[tuple[dict[str, Any], Span, Extracted]] = []
    for doc, meta in docs:
        unit = unit_for.get(meta["doc_type"], unit_for.get("default", "paragraph"))
        for span in document_spans(doc, unit):
            start, end = _trim(doc.text, span.start, span.end)
            if end - start >= min_chars:
                span.start, span.end = start, end
                pending.append(({**meta, "_unit": unit}, span, doc))

    texts = (doc.text[span.start:span.end] for _, span, doc in pending)
    by_sentence = (meta["_unit"] == "sentence" for meta, _, _ in pending)
    fragments: list[dict[str, Any]] = []
    for (meta, span, doc), pieces in zip(pending, _pieces(nlp, texts, by_sentence, batch_size)):
        for rel_start, rel_end, tokens, sents in pieces:
            start, end = _trim(doc.text, span.start + rel_start, span.start + rel_end)
            if end <= start:
                continue
            shift = start - (span.start + rel_start)
            if shift:
                tokens = [[o - shift, n, lemma] for o, n, lemma in tokens]
            fragments.append({
                "doc_id": doc.doc_id,
                "text": doc.text[start:end],
                "start": start,
                "end": end,
                "page": doc.page_at(start) if doc.pages else span.page,
                "role": span.role,
                "speaker": span.speaker,
                "timestamp": span.timestamp,
                "codable": span.codable,
                "respondent_id": meta.get("respondent_id") or None,
                "tokens": tokens,
                "sents": sents,
                "lemmas": " ".join(lemma for _, _, lemma in tokens if lemma.strip()),
            })
    return assign_ids(fragments)


Piece = tuple[int, int, list[list], list[int]]  # start, end (within the text), token rows, sentence starts


def _pieces(nlp: Language, texts: Iterable[str], by_sentence: Iterable[bool],
            batch_size: int) -> Iterator[list[Piece]]:
    """Per text: the whole text, or (``by_sentence``) each sentence, with its token rows.

    With the fallback pipeline, ``FallbackAnnotator`` gives the same rows as ``nlp.pipe`` + ``token_rows``
    faster (it skips the per-token Python of the lemmatizer and sentencizer); any other pipeline runs as it is.
    """
    from .nlp import fallback_annotator, token_rows

    fast = fallback_annotator(nlp)
    if fast is None:
        for parsed, sentences in zip(nlp.pipe(texts, batch_size=batch_size), by_sentence):
            if sentences:
                yield [(s.start_char, s.end_char, *token_rows(s.as_doc())) for s in parsed.sents]
            else:
                yield [(0, len(parsed.text), *token_rows(parsed))]
        return
    texts = list(texts)
    for text, sentences, (tokens, sents) in zip(texts, by_sentence, fast.pipe(texts)):
        if not sentences:
            yield [(0, len(text), tokens, sents)]
            continue
        pieces = []
        for first, stop in zip(sents, [*sents[1:], len(tokens)]):  # as Doc.sents + Span.as_doc()
            rel_start = tokens[first][0]
            rel_end = tokens[stop - 1][0] + tokens[stop - 1][1]
            rows = [[o - rel_start, n, lemma] for o, n, lemma in tokens[first:stop]]
            pieces.append((rel_start, rel_end, rows, [0]))
        yield pieces


def assign_ids(fragments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give every fragment its stable id, its text hash and its sequence number within the document."""
    seen: dict[tuple[str, str], int] = {}
    seq: dict[str, int] = {}
    for frag in fragments:
        key = (frag["doc_id"], " ".join(frag["text"].split()))
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        frag["fragment_id"] = fragment_id(frag["doc_id"], frag["text"], occurrence)
        frag["text_hash"] = text_hash(frag["text"])
        frag["seq"] = seq.get(frag["doc_id"], 0)
        seq[frag["doc_id"]] = frag["seq"] + 1
    return fragments


# --------------------------------------------------------------------------------------------
# The corpus: per document, cached, in parallel
# --------------------------------------------------------------------------------------------

def _segment_job(job: tuple[dict[str, Any], dict[str, Any], dict[str, str], str, int, int]) -> list[dict[str, Any]]:
    from .nlp import load_nlp

    doc_dict, meta, unit_for, model, batch_size, min_chars = job
    nlp = load_nlp(model)
    return segment_documents([(Extracted.from_dict(doc_dict), meta)], nlp, unit_for, batch_size, min_chars)


def _jsonl(frags: list[dict[str, Any]], drop: tuple[str, ...] = ()) -> str:
    """Fragments as JSON lines (:func:`jsonio.dumps`), without the keys ``drop``."""
    from .jsonio import dumps

    if drop:
        return "".join(dumps({k: v for k, v in f.items() if k not in drop}) + "\n" for f in frags)
    return "".join(dumps(f) + "\n" for f in frags)


def _segment_texts_job(job: tuple[dict[str, Any], dict[str, Any], dict[str, str], str, int, int]
                       ) -> tuple[str, str, int, int]:
    """:func:`_segment_job` as the texts the stage keeps: (published JSON lines, JSON lines with token rows,
    fragments, codable fragments). Made in the worker: sending a document's token rows back as Python
    objects cost the stage's process more than writing them as JSON here."""
    frags = _segment_job(job)
    return (_jsonl(frags, PUBLISHED_DROP), _jsonl(frags), len(frags), sum(1 for f in frags if f.get("codable")))


def segment_corpus(docs: list[dict[str, Any]], metas: dict[str, dict[str, Any]], settings: dict[str, Any],
                   workers: int | None = 1, cache_dir: Any = None, executor: str = "process"
                   ) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Fragments of all documents (in manifest order); unchanged documents come from the cache."""
    import orjson

    texts, stats = segment_corpus_jsonl(docs, metas, settings, workers, cache_dir, executor)
    # split at "\n" only: JSON escapes it inside strings, but not U+2028 and the like that splitlines() cuts at
    return [orjson.loads(line) for text in texts for line in text.split("\n") if line], stats


def segment_corpus_jsonl(docs: list[dict[str, Any]], metas: dict[str, dict[str, Any]], settings: dict[str, Any],
                         workers: int | None = 1, cache_dir: Any = None, executor: str = "process"
                         ) -> tuple[list[str], dict[str, int]]:
    """Per document (manifest order) its fragments as JSON lines, as ``write_jsonl`` writes them.

    Returns (texts, {cache_hits, cache_misses, fragments, codable}); see :func:`segment_entries`.
    """
    entries, stats = segment_entries(docs, metas, settings, workers, cache_dir, executor)
    return [e.jsonl for e in entries], stats


@dataclass
class Segmented:
    """One document's fragments: ``published`` without token rows (what the pipeline's per-document fragment
    files hold) and, read only when asked for, ``jsonl`` with them; ``key``, the segment cache key that
    determines both."""

    doc_id: str
    key: str
    published: str
    fragments: int
    codable: int
    load: Callable[[], str] = field(repr=False, default=lambda: "")

    @cached_property
    def jsonl(self) -> str:
        """The fragments with their token rows as JSON lines."""
        return self.load()

    def rows(self) -> list[dict[str, Any]]:
        """The fragments with their token rows."""
        import orjson

        # split at "\n" only: JSON escapes it inside strings, but not U+2028 and the like that splitlines() cuts at
        return [orjson.loads(line) for line in self.jsonl.split("\n") if line]


PUBLISHED_DROP = ("tokens", "sents")   # token rows stay in the cache: only rule coding reads them


def segment_entries(docs: list[dict[str, Any]], metas: dict[str, dict[str, Any]], settings: dict[str, Any],
                    workers: int | None = 1, cache_dir: Any = None, executor: str = "process"
                    ) -> tuple[list[Segmented], dict[str, int]]:
    """Per document (manifest order) its fragments, unchanged documents from the cache.

    The cache holds the JSON lines, so an unchanged document is copied through without parsing its
    fragments; the token rows are a cache entry of their own, read only when the document is coded again
    (an edited codebook), not on every run. Returns (entries, {cache_hits, cache_misses, fragments, codable}).
    """
    import sys

    from . import nlp as nlp_module
    from .cache import DocumentCache, dict_with, source_fingerprint
    from .nlp import installed_model_name, load_nlp
    from .parallel import map_documents

    unit_for = {"default": "paragraph", **settings.get("unit", {})}
    model = settings.get("model", "nl_core_news_sm")
    batch_size = int(settings.get("batch_size", 256))
    min_chars = int(settings.get("min_chars", 1))
    resolved_model = installed_model_name(model)   # the pipeline itself loads only if a document is new
    code = source_fingerprint(sys.modules[__name__], nlp_module)
    cache = DocumentCache(cache_dir, "segment", shape=dict_with(published=str, fragments=int, codable=int))
    tokens = DocumentCache(cache_dir, "segment_tokens", shape=lambda value: isinstance(value, str))

    def job(doc: dict[str, Any]) -> tuple:
        return doc, metas[doc["doc_id"]], unit_for, model, batch_size, min_chars

    def loader(doc: dict[str, Any], key: str) -> Callable[[], str]:
        def load() -> str:
            text = tokens.get(key)
            if text is None:   # the entry was removed: segment the document again (the same result)
                text = _jsonl(_segment_job(job(doc)))
                tokens.put(key, text)
            return text
        return load

    results: dict[str, Segmented] = {}
    todo: list[tuple[dict[str, Any], str]] = []
    for doc in docs:
        key = cache.key(doc, metas[doc["doc_id"]], unit_for, resolved_model, batch_size, min_chars, code)
        hit = cache.get(key)
        if hit is not None:
            results[doc["doc_id"]] = Segmented(doc["doc_id"], key, **hit, load=loader(doc, key))
        else:
            todo.append((doc, key))
    if len(todo) > 1:
        load_nlp(model)   # once, before the workers fork (they share it)
    jobs = [job(doc) for doc, _ in todo]
    # batches of documents balanced by length (the few long PDFs must not share one worker's batch)
    outputs = map_documents(_segment_texts_job, jobs, workers, executor,
                            sizes=[len(j[0].get("text", "")) for j in jobs], label="segment")
    for (doc, key), (published, text, n_fragments, n_codable) in zip(todo, outputs):
        entry = {"published": published, "fragments": n_fragments, "codable": n_codable}
        cache.put(key, entry)
        tokens.put(key, text)
        results[doc["doc_id"]] = Segmented(doc["doc_id"], key, **entry, load=lambda text=text: text)
    entries = [results[doc["doc_id"]] for doc in docs]
    return entries, {"cache_hits": cache.hits, "cache_misses": cache.misses,
                     "fragments": sum(e.fragments for e in entries), "codable": sum(e.codable for e in entries)}


def document_of(fragment_id: str) -> str:
    """The doc_id of a fragment id (``<doc_id>-<12 hex digits>``, :func:`fragment_id`)."""
    return fragment_id.rsplit("-", 1)[0]
