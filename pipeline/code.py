"""Stage code: every codable fragment coded by the codebook's explainable rules."""

from __future__ import annotations

import logging
import sys

from _common import run_stage, setup

from kwalitatief.codebook import CodebookError, load_codebook
from kwalitatief.jsonio import read_jsonl, write_jsonl, write_problems
from kwalitatief.paths import CACHE, CODINGS_RULE, FRAGMENTS, problems_file
from kwalitatief.rules import PatternError
from kwalitatief.coding import code_corpus

log = logging.getLogger("kwalitatief.code")


def main() -> None:
    args, params = setup(__doc__)
    settings = params.get("code", {}) or {}
    path = settings.get("codebook", "codebook/codebook.yaml")
    try:
        codebook = load_codebook(path)
    except CodebookError as exc:
        sys.exit("error: the codebook has problems (run `kwal check`):\n" + "\n".join(exc.problems))
    model = (params.get("nlp") or {}).get("model", "nl_core_news_sm")
    fragments = list(read_jsonl(FRAGMENTS))
    codable = [f for f in fragments if f.get("codable")]
    problems = [{"stage": "code", "doc_id": f["doc_id"], "severity": "warning",
                 "message": f"fragment {f['fragment_id']} has no tokens; not coded",
                 "detail": "rerun the segment stage"} for f in codable if not f.get("tokens")]
    try:
        # per document: cached (an unchanged document with an unchanged codebook is not coded again), parallel
        results, stats = code_corpus(fragments, codebook, model, bool(settings.get("question_context", True)),
                                     workers=args.workers, cache_dir=CACHE)
    except PatternError as exc:
        sys.exit(f"error: {path}: {exc} (run `kwal check`)")
    rows = []
    for fragment, codings in zip(codable, results):
        for row in codings:
            rows.append({"fragment_id": fragment["fragment_id"], **row,
                         "codebook_version": codebook.version, "model_version": None})
    rows.sort(key=lambda r: (r["fragment_id"], r["code"]))
    write_jsonl(CODINGS_RULE, rows)
    write_problems(problems_file("code"), problems)
    log.info("%d rule codings for %d of %d codable fragments (codebook %s); cache: %d reused, %d new", len(rows),
             len({r["fragment_id"] for r in rows}), len(codable), codebook.version, stats["cache_hits"],
             stats["cache_misses"])


if __name__ == "__main__":
    run_stage(main)
