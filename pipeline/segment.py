"""Stage segment: pseudonymised documents to fragments (the coding units) with lemmas and offsets."""

from __future__ import annotations

import logging
from dataclasses import asdict

from _common import register, run_stage, setup

from kwalitatief.jsonio import atomic_write_text, read_json
from kwalitatief.paths import CACHE, FRAGMENTS, PSEUDONYMISED_DIR
from kwalitatief.segment import segment_corpus_jsonl

log = logging.getLogger("kwalitatief.segment")


def main() -> None:
    args, params = setup(__doc__)
    reg = register(params)
    metas = {d.doc_id: asdict(d) for d in reg.documents}
    docs = [read_json(PSEUDONYMISED_DIR / f"{d.doc_id}.json") for d in reg.documents
            if (PSEUDONYMISED_DIR / f"{d.doc_id}.json").exists()]
    settings = {**params.get("segment", {}), **params.get("nlp", {})}
    texts, stats = segment_corpus_jsonl(docs, metas, settings, workers=args.workers, cache_dir=CACHE)
    atomic_write_text(FRAGMENTS, "".join(texts))
    log.info("%d fragments (%d codable) from %d documents; cache: %d reused, %d new",
             stats["fragments"], stats["codable"], len(docs), stats["cache_hits"], stats["cache_misses"])


if __name__ == "__main__":
    run_stage(main)
