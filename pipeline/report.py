"""Stage report: assemble the SQLite database from all artefacts and render the report."""

from __future__ import annotations

import logging
from pathlib import Path

from _common import register, setup

from kwalitatief import store
from kwalitatief.config import file_sha256
from kwalitatief.jsonio import read_json, read_jsonl
from kwalitatief.paths import DATABASE, EXTRACTED_DIR, FRAGMENTS, WORK
from kwalitatief.provenance import corpus_hash, provenance

log = logging.getLogger("kwalitatief.report")


def _rows(path: Path) -> list[dict]:
    return list(read_jsonl(path)) if path.exists() else []


def main() -> None:
    args, params = setup(__doc__)
    reg = register(params)
    problems = [p for path in sorted(WORK.glob("problems_*.jsonl")) for p in read_jsonl(path)]
    extracted = {}
    for doc in reg.documents:
        path = EXTRACTED_DIR / f"{doc.doc_id}.json"
        if path.exists():
            data = read_json(path)
            extracted[doc.doc_id] = {k: data.get(k) for k in ("source_type", "encoding", "n_pages", "text")}
    fragments = [{k: v for k, v in f.items() if k not in ("tokens", "sents")} for f in read_jsonl(FRAGMENTS)]
    hashes = {doc.doc_id: file_sha256(doc.source(reg.corpus_dir)) for doc in reg.documents}
    manifest = Path(params.get("corpus", {}).get("manifest", "corpus/manifest.csv"))
    facts = {"corpus_hash": corpus_hash(hashes, manifest.read_bytes()), "n_documents": len(reg.documents)}
    db = store.build_database(
        DATABASE,
        regions=reg.regions, respondents=reg.respondents,
        documents=store.document_rows(reg, extracted, problems, fragments, hashes),
        fragments=fragments, problems=problems, provenance=provenance(**facts),
    )
    log.info("wrote %s: %d documents, %d fragments, %d problems", DATABASE,
             db["documents"].count, db["fragments"].count, db["problems"].count)


if __name__ == "__main__":
    main()
