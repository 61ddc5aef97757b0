"""Stage prepare: every document of the manifest extracted, pseudonymised, cut into fragments and rule-coded,
in one process.

Each step writes one file per document (unchanged files are not rewritten, so DVC hashes only what changed)
and caches its per-document work, so an edited transcript is redone alone:

1. extract: cleaned text, paragraphs, pages and speaker turns -> outputs/private/extracted/<doc_id>.json
   (original text: outputs/private/ only)
2. pseudonymise: names, e-mail, phone numbers and addresses in transcripts to consistent tags over the whole
   corpus -> outputs/work/pseudonymised/<doc_id>.json; the key to outputs/private/pseudonym_key.csv only
3. segment: fragments with lemmas and offsets -> outputs/work/fragments/<doc_id>.jsonl
4. code: the codebook's explainable rules -> outputs/work/codings_rule/<doc_id>.jsonl
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import asdict, replace
from typing import Any

from _common import register, run_stage, setup, summary

from kwalitatief import paths
from kwalitatief.corpus import Register
from kwalitatief.jsonio import (atomic_write_text, jsonl_text, write_json, write_json_dir, write_problems,
                                write_text_dir)

log = logging.getLogger("kwalitatief.prepare")


def extract(reg: Register, workers: int) -> list[dict[str, Any]]:
    """Step 1; returns the extracted documents (manifest order)."""
    from kwalitatief import ingest

    results = ingest.extract_corpus(reg, workers=workers, cache_dir=paths.PRIVATE / "cache")  # original text
    write_json_dir(paths.EXTRACTED_DIR, {result["doc_id"]: result for result in results.documents})
    write_problems(paths.problems_file("extract"), results.problems)
    log.info("extracted %d of %d documents (%d PDF pages); cache: %d reused, %d new", len(results.documents),
             len(reg.documents), sum(r.get("n_pages") or 0 for r in results.documents), results.cache_hits,
             results.cache_misses)
    for problem in results.problems:
        log.warning("%s: %s", problem["doc_id"], problem["message"])
    return results.documents


def pseudonymise(reg: Register, params: dict[str, Any], docs: list[dict[str, Any]], workers: int
                 ) -> list[dict[str, Any]]:
    """Step 2 over the whole corpus (a name found in one document is replaced in all, tags are numbered in
    manifest order); returns the pseudonymised documents (unchanged, with replacements [], where the doc_type
    is not configured). A document that fails is left out of all later steps."""
    from importlib.metadata import version

    from kwalitatief import pseudonymise as ps
    from kwalitatief.cache import DocumentCache, dict_with, list_of, source_fingerprint
    from kwalitatief.keyscan import KeyIndex

    started = time.perf_counter()
    try:
        settings = ps.Settings.from_params(params.get("pseudonymise"))
        if "doc_types" not in (params.get("pseudonymise") or {}):   # default: study.yaml's interview types
            settings = replace(settings, doc_types=reg.study.transcript_types)
        plist = ps.load_pseudonym_list(settings.list_path)
    except (ValueError, ps.PseudonymListError) as exc:
        sys.exit(f"error: {exc}")
    vocab = ps.build_vocabulary(reg.regions, reg.respondents, plist, settings, reg.study.protected_terms)
    doc_types = {d.doc_id: d.doc_type for d in reg.documents}
    # Detection per document is cached (deduce needs seconds to load; skip it when nothing changed).
    # The cached spans hold original names, so the cache lives under outputs/private/. A document is
    # published only with a fresh detection or a verified one: an entry must pass its checksum, have the
    # shape of a list of spans, and every span must still be the text at its offsets; else it is redone.
    span_shape = list_of(dict_with(start=int, end=int, kind=str, text=str, source=str))
    cache = DocumentCache(paths.PRIVATE / "cache", "pseudonymise", shape=span_shape)
    # and so is the search for the corpus' names in each document: redone for a document only when its
    # text, its own names or the set of names found anywhere in the corpus changed
    spread_cache = DocumentCache(paths.PRIVATE / "cache", "pseudonymise_spread", shape=span_shape)
    fingerprint = [source_fingerprint(ps, ps.name_rules), version("deduce")]   # our code, deduce's lists and rules
    detected: dict[str, list[ps.Span]] = {}
    keys: dict[str, str] = {}
    for doc in docs:
        if doc_types.get(doc["doc_id"]) not in settings.doc_types:
            continue
        key = cache.key(fingerprint, doc["text"], ps.speaker_names(doc.get("turns", [])),
                        [list(vocab.always), sorted(vocab.keep), sorted(vocab.protected)], settings.use_deduce)
        keys[doc["doc_id"]] = key
        hit = cache.get(key, check=lambda spans, text=doc["text"]: ps.spans_match(spans, text))
        if hit is not None:
            detected[doc["doc_id"]] = [ps.Span(**span) for span in hit]
    result = ps.pseudonymise_corpus(docs, doc_types, vocab, settings, detected, workers, spread_cache, fingerprint)
    for doc_id, key in keys.items():
        if doc_id not in detected and result.detected.get(doc_id) is not None:
            cache.put(key, [s.as_dict() for s in result.detected[doc_id]])

    write_json_dir(paths.PSEUDONYMISED_DIR, {doc["doc_id"]: doc for doc in result.documents})
    atomic_write_text(paths.PSEUDONYM_KEY, ps.key_csv(result.key))
    labels = ps.register_labels(reg.respondents, [asdict(d) for d in reg.documents], result.key, settings)
    # a name of the key in a manifest title reaches the database by its tag only
    redactor = KeyIndex(result.key, strict=True)
    for doc in reg.documents:
        title = redactor.redact(labels["titles"].get(doc.doc_id, doc.title), doc.doc_id)
        if title != doc.title:
            labels["titles"][doc.doc_id] = title
    write_json(paths.PSEUDONYMISED_REGISTER, labels)
    write_problems(paths.problems_file("pseudonymise"), result.problems)
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(result.counts.items())) or "nothing"
    log.info("pseudonymised %d of %d documents (%s replaced; %d tags); detection cache: %d reused, %d new; "
             "name search: %d reused, %d new; %.1f s",
             sum(1 for d in result.documents if d["replacements"] or doc_types.get(d["doc_id"]) in settings.doc_types),
             len(result.documents), counts, len({r["tag"] for r in result.key}), cache.hits, cache.misses, spread_cache.hits, spread_cache.misses,
             time.perf_counter() - started)
    log.info("the key is in %s: keep it private (see README, 'Pseudonymisation and the key')", paths.PSEUDONYM_KEY)
    for problem in result.problems:
        log.warning("%s: %s", problem["doc_id"], problem["message"])
    return result.documents


def segment(reg: Register, params: dict[str, Any], docs: list[dict[str, Any]], workers: int) -> list[Any]:
    """Step 3; returns per document its :class:`kwalitatief.segment.Segmented` entry."""
    from kwalitatief.segment import segment_entries

    metas = {d.doc_id: asdict(d) for d in reg.documents}
    settings = {**params.get("segment", {}), **params.get("nlp", {})}
    entries, stats = segment_entries(docs, metas, settings, workers=workers, cache_dir=paths.CACHE)
    write_text_dir(paths.FRAGMENTS, {e.doc_id: e.published for e in entries if e.published}, ".jsonl")
    log.info("%d fragments (%d codable) from %d documents; cache: %d reused, %d new",
             stats["fragments"], stats["codable"], len(docs), stats["cache_hits"], stats["cache_misses"])
    return entries


def code(params: dict[str, Any], entries: list[Any], workers: int) -> int:
    """Step 4; returns the number of rule codings."""
    from kwalitatief.codebook import CodebookError, load_codebook
    from kwalitatief.coding import code_documents
    from kwalitatief.rules import PatternError

    settings = params.get("code", {}) or {}
    path = settings.get("codebook", "codebook/codebook.yaml")
    try:
        codebook = load_codebook(path)
    except CodebookError as exc:
        sys.exit("error: the codebook has problems (run `kwal check`):\n" + "\n".join(exc.problems))
    model = (params.get("nlp") or {}).get("model", "nl_core_news_sm")
    jobs = [(e.doc_id, e.key, e.rows) for e in entries]
    try:
        # per document: cached (an unchanged document with an unchanged codebook is not coded again), parallel
        coded, stats = code_documents(jobs, codebook, model, bool(settings.get("question_context", True)),
                                      workers=workers, cache_dir=paths.CACHE)
    except PatternError as exc:
        sys.exit(f"error: {path}: {exc} (run `kwal check`)")
    texts: dict[str, str] = {}
    problems: list[dict[str, Any]] = []
    n_rows = n_fragments = 0
    for e in entries:
        result = coded[e.doc_id]
        rows = [{"fragment_id": fid, **row, "codebook_version": codebook.version, "model_version": None}
                for fid, codings in zip(result["ids"], result["rows"]) for row in codings]
        rows.sort(key=lambda r: (r["fragment_id"], r["code"]))
        texts[e.doc_id] = jsonl_text(rows)
        n_rows += len(rows)
        n_fragments += len({r["fragment_id"] for r in rows})
        problems += [{"stage": "code", "doc_id": e.doc_id, "severity": "warning",
                      "message": f"fragment {fid} has no tokens; not coded", "detail": "rerun the segment stage"}
                     for fid in result.get("untokenised", [])]
    write_text_dir(paths.CODINGS_RULE, {doc_id: text for doc_id, text in texts.items() if text}, ".jsonl")
    write_problems(paths.problems_file("code"), problems)
    log.info("%d rule codings for %d of %d codable fragments (codebook %s); cache: %d reused, %d new", n_rows,
             n_fragments, sum(e.codable for e in entries), codebook.version, stats["cache_hits"],
             stats["cache_misses"])
    return n_rows


def main() -> None:
    args, params = setup(__doc__)
    reg = register(params)
    docs = pseudonymise(reg, params, extract(reg, args.workers), args.workers)   # the originals: not kept
    entries = segment(reg, params, docs, args.workers)
    n_codings = code(params, entries, args.workers)
    summary("%d documents, %d fragments, %d rule codings", len(docs), sum(e.fragments for e in entries), n_codings)


if __name__ == "__main__":
    run_stage(main)
