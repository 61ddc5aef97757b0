"""Stage extract: every document of the manifest to cleaned text with structure and pages."""

from __future__ import annotations

import logging

from _common import register, run_stage, setup

from kwalitatief import ingest
from kwalitatief.jsonio import write_json_dir, write_problems
from kwalitatief.paths import EXTRACTED_DIR, PRIVATE, problems_file

log = logging.getLogger("kwalitatief.extract")


def main() -> None:
    args, params = setup(__doc__)
    reg = register(params)
    results = ingest.extract_corpus(reg, workers=args.workers, cache_dir=PRIVATE / "cache")  # the cache holds original text
    write_json_dir(EXTRACTED_DIR, {result["doc_id"]: result for result in results.documents})
    pages = sum(result.get("n_pages") or 0 for result in results.documents)
    write_problems(problems_file("extract"), results.problems)
    log.info("extracted %d of %d documents (%d PDF pages); cache: %d reused, %d new",
             len(results.documents), len(reg.documents), pages, results.cache_hits, results.cache_misses)
    for problem in results.problems:
        log.warning("%s: %s", problem["doc_id"], problem["message"])


if __name__ == "__main__":
    run_stage(main)
