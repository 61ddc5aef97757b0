"""The SQLite database researchers query: registers, documents, fragments and everything derived."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlite_utils

FRAGMENT_COLUMNS = ("fragment_id", "doc_id", "seq", "respondent_id", "role", "speaker", "timestamp",
                    "page", "start", "end", "codable", "text", "lemmas", "text_hash")


def open_database(path: str | Path, fresh: bool = False) -> sqlite_utils.Database:
    """Open (or with ``fresh`` recreate) the database file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fresh:
        path.unlink(missing_ok=True)
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA foreign_keys = ON")
    return db


def write_registers(db: sqlite_utils.Database, regions: list[dict[str, Any]],
                    respondents: list[dict[str, Any]]) -> None:
    """Tables ``regions`` and ``respondents``."""
    db["regions"].insert_all(regions, pk="region", replace=True,
                             columns={"inhabitants_2021": int} if regions else None)
    db["respondents"].insert_all(respondents, pk="respondent_id", replace=True,
                                 foreign_keys=[("region", "regions", "region")])
    db["respondents"].create_index(["respondent_type"], if_not_exists=True)
    db["respondents"].create_index(["region"], if_not_exists=True)


def write_documents(db: sqlite_utils.Database, documents: Iterable[dict[str, Any]]) -> None:
    """Table ``documents``: manifest rows plus extraction facts (status ok or error)."""
    rows = [{**d, "respondent_id": d.get("respondent_id") or None} for d in documents]
    db["documents"].insert_all(
        rows, pk="doc_id", replace=True, alter=True,
        columns={"n_pages": int, "n_chars": int, "n_fragments": int},
        foreign_keys=[("region", "regions", "region"), ("respondent_id", "respondents", "respondent_id")],
    )
    for column in ("doc_type", "region", "respondent_id"):
        db["documents"].create_index([column], if_not_exists=True)


def write_fragments(db: sqlite_utils.Database, fragments: Iterable[dict[str, Any]]) -> None:
    """Table ``fragments`` with full-text search on the text."""
    rows = ({k: f.get(k) for k in FRAGMENT_COLUMNS} for f in fragments)
    db["fragments"].insert_all(
        rows, pk="fragment_id", replace=True, batch_size=2000,
        columns={"page": int, "timestamp": str, "speaker": str, "respondent_id": str, "codable": int},
        foreign_keys=[("doc_id", "documents", "doc_id"), ("respondent_id", "respondents", "respondent_id")],
    )
    for column in ("doc_id", "respondent_id", "codable"):
        db["fragments"].create_index([column], if_not_exists=True)
    if not db["fragments_fts"].exists():
        db["fragments"].enable_fts(["text"], create_triggers=True, tokenize="unicode61 remove_diacritics 2")


def write_problems(db: sqlite_utils.Database, problems: Iterable[dict[str, Any]]) -> None:
    """Table ``problems``: everything a stage could not do, with the reason."""
    rows = [{"stage": p.get("stage"), "doc_id": p.get("doc_id"), "severity": p.get("severity", "warning"),
             "message": p.get("message"), "detail": p.get("detail")} for p in problems]
    db["problems"].insert_all(rows, columns={"stage": str, "doc_id": str, "severity": str,
                                             "message": str, "detail": str})


def write_run(db: sqlite_utils.Database, provenance: dict[str, Any]) -> None:
    """Table ``run``: the provenance of this build (codebook version, model, corpus hash, ...)."""
    db["run"].insert_all([{"key": k, "value": str(v)} for k, v in sorted(provenance.items())],
                         pk="key", replace=True)
