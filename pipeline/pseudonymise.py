"""Stage pseudonymise: names, e-mail, phone numbers and addresses in transcripts to consistent tags.

Reads outputs/private/extracted/*.json, the corpus register and the researcher's list
(corpus/pseudonyms.csv); writes outputs/work/pseudonymised/<doc_id>.json for every extracted document
(unchanged, with replacements [], where the doc_type is not configured) and the key to
outputs/private/pseudonym_key.csv (never to outputs/work, the database, the exports or the report).
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import asdict, replace
from importlib.metadata import version

from _common import register, run_stage, setup

from kwalitatief import pseudonymise as ps
from kwalitatief.cache import DocumentCache, dict_with, list_of, source_fingerprint
from kwalitatief.keyscan import KeyIndex
from kwalitatief.jsonio import atomic_write_text, read_json, write_json, write_json_dir, write_problems
from kwalitatief.paths import (EXTRACTED_DIR, PRIVATE, PSEUDONYM_KEY, PSEUDONYMISED_DIR, PSEUDONYMISED_REGISTER,
                              problems_file)

log = logging.getLogger("kwalitatief.pseudonymise")


def _spans_match(spans: list[dict], text: str) -> bool:
    """Every cached span lies in the text and still covers the string it was found as."""
    return all(0 <= s["start"] < s["end"] <= len(text) and text[s["start"]:s["end"]] == s["text"] for s in spans)


def main() -> None:
    started = time.perf_counter()
    args, params = setup(__doc__)
    reg = register(params)
    try:
        settings = ps.Settings.from_params(params.get("pseudonymise"))
        if "doc_types" not in (params.get("pseudonymise") or {}):   # default: study.yaml's interview types
            settings = replace(settings, doc_types=reg.study.transcript_types)
        plist = ps.load_pseudonym_list(settings.list_path)
    except (ValueError, ps.PseudonymListError) as exc:
        sys.exit(f"error: {exc}")
    vocab = ps.build_vocabulary(reg.regions, reg.respondents, plist, settings, reg.study.protected_terms)
    doc_types = {d.doc_id: d.doc_type for d in reg.documents}
    docs = [read_json(EXTRACTED_DIR / f"{d.doc_id}.json") for d in reg.documents
            if (EXTRACTED_DIR / f"{d.doc_id}.json").exists()]

    # Detection per document is cached (deduce needs seconds to load; skip it when nothing changed).
    # The cached spans hold original names, so the cache lives under outputs/private/. A document is
    # published only with a fresh detection or a verified one: an entry must pass its checksum, have the
    # shape of a list of spans, and every span must still be the text at its offsets; else it is redone.
    cache = DocumentCache(PRIVATE / "cache", "pseudonymise",
                          shape=list_of(dict_with(start=int, end=int, kind=str, text=str, source=str)))
    fingerprint = [source_fingerprint(ps), version("deduce")]   # our code and deduce's lists and rules
    detected: dict[str, list[ps.Span]] = {}
    keys: dict[str, str] = {}
    for doc in docs:
        if doc_types.get(doc["doc_id"]) not in settings.doc_types:
            continue
        key = cache.key(fingerprint, doc["text"], ps.speaker_names(doc.get("turns", [])),
                        [list(vocab.always), sorted(vocab.keep), sorted(vocab.protected)], settings.use_deduce)
        keys[doc["doc_id"]] = key
        hit = cache.get(key, check=lambda spans, text=doc["text"]: _spans_match(spans, text))
        if hit is not None:
            detected[doc["doc_id"]] = [ps.Span(**span) for span in hit]
    result = ps.pseudonymise_corpus(docs, doc_types, vocab, settings, detected, args.workers)
    for doc_id, key in keys.items():
        if doc_id not in detected:
            spans = result.detected.get(doc_id)
            if spans is not None:
                cache.put(key, [asdict(s) for s in spans])

    write_json_dir(PSEUDONYMISED_DIR, {doc["doc_id"]: doc for doc in result.documents})
    atomic_write_text(PSEUDONYM_KEY, ps.key_csv(result.key))
    labels = ps.register_labels(reg.respondents, [asdict(d) for d in reg.documents], result.key, settings)
    # a name of the key in a manifest title reaches the database by its tag only
    redactor = KeyIndex(result.key, strict=True)
    for doc in reg.documents:
        title = redactor.redact(labels["titles"].get(doc.doc_id, doc.title), doc.doc_id)
        if title != doc.title:
            labels["titles"][doc.doc_id] = title
    write_json(PSEUDONYMISED_REGISTER, labels)
    write_problems(problems_file("pseudonymise"), result.problems)
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(result.counts.items())) or "nothing"
    log.info("pseudonymised %d of %d documents (%s replaced; %d tags); detection cache: %d reused, %d new; %.1f s",
             sum(1 for d in result.documents if d["replacements"] or doc_types.get(d["doc_id"]) in settings.doc_types),
             len(result.documents), counts, len({r["tag"] for r in result.key}), cache.hits, cache.misses,
             time.perf_counter() - started)
    log.info("the key is in %s: keep it private (see README, 'Pseudonymisation and the key')", PSEUDONYM_KEY)
    for problem in result.problems:
        log.warning("%s: %s", problem["doc_id"], problem["message"])


if __name__ == "__main__":
    run_stage(main)
