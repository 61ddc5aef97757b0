"""The SQLite database researchers query: registers, documents, fragments and everything derived."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlite_utils

FRAGMENT_TYPES: dict[str, type] = {
    "fragment_id": str, "doc_id": str, "seq": int, "respondent_id": str, "role": str, "speaker": str,
    "timestamp": str, "page": int, "start": int, "end": int, "codable": int, "text": str, "lemmas": str,
    "text_hash": str,
}


def _cell(value: Any) -> Any:
    """A value as sqlite-utils stores it: lists and dicts as JSON text."""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=repr, ensure_ascii=False)
    return value


def insert_rows(db: sqlite_utils.Database, table: str, columns: dict[str, type], rows: Iterable[dict[str, Any]],
                pk: str | None = None, foreign_keys: list[tuple[str, str, str]] | None = None,
                replace: bool = False, rowids: bool = False) -> None:
    """Create ``table`` (sqlite-utils' schema for ``columns``) and insert ``rows`` in one ``executemany``
    (with ``rowids``, each row's ``rowid`` too).

    The same table and values as ``insert_all``, for the large tables: sqlite-utils inspects every value of
    every row, which took most of the report stage on a corpus of 50,000 fragments.
    """
    db[table].create(columns, pk=pk, foreign_keys=foreign_keys or [], if_not_exists=True)
    names = ["rowid", *columns] if rowids else list(columns)
    sql = "INSERT {}INTO [{}] ({}) VALUES ({})".format(
        "OR REPLACE " if replace else "", table, ", ".join(f"[{n}]" for n in names), ", ".join("?" * len(names)))
    db.conn.executemany(sql, ([_cell(row.get(n)) for n in names] for row in rows))


def open_database(path: str | Path, fresh: bool = False) -> sqlite_utils.Database:
    """Open (or with ``fresh`` recreate) the database file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fresh:
        path.unlink(missing_ok=True)
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA foreign_keys = ON")
    return db


def integer_columns(rows: list[dict[str, Any]]) -> dict[str, type]:
    """The columns whose non-empty values are all whole numbers (e.g. inhabitants), typed ``int``."""
    keys = list(dict.fromkeys(k for row in rows for k in row))
    out: dict[str, type] = {}
    for key in keys:
        values = [str(row.get(key)).strip() for row in rows if row.get(key) not in (None, "")]
        if values and all(v.lstrip("-").isdigit() for v in values):
            out[key] = int
    return out


def write_registers(db: sqlite_utils.Database, regions: list[dict[str, Any]],
                    respondents: list[dict[str, Any]]) -> None:
    """Tables ``regions`` and ``respondents``; a register column whose filled cells are all whole numbers is
    an integer column."""
    db["regions"].insert_all(regions, pk="region", replace=True, columns=integer_columns(regions) or None)
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


def write_fragments(db: sqlite_utils.Database, fragments: Iterable[dict[str, Any]], rowids: bool = False) -> None:
    """Table ``fragments`` with full-text search on the text (``rowids``: the rows carry their rowid)."""
    insert_rows(db, "fragments", FRAGMENT_TYPES, fragments, pk="fragment_id", replace=True, rowids=rowids,
                foreign_keys=[("doc_id", "documents", "doc_id"), ("respondent_id", "respondents", "respondent_id")])
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


CODING_COLUMNS = {
    "fragment_id": str, "code": str, "valence": str, "source": str, "rule_id": str, "evidence": str,
    "start": int, "end": int, "score": float, "threshold": float, "features": str,
    "codebook_version": str, "model_version": str,
}
MERGED_COLUMNS = {
    "fragment_id": str, "code": str, "valence": str, "sources": str, "rule_id": str, "evidence": str,
    "start": int, "end": int, "score": float, "status": str, "reviewer": str,
    "codebook_version": str, "model_version": str,
}


def write_codings(db: sqlite_utils.Database, table: str, rows: Iterable[dict[str, Any]],
                  merged: bool = False, rowids: bool = False) -> None:
    """A codings table: ``codings`` (merged, what analyses use) or ``codings_machine`` (per source)."""
    insert_rows(db, table, MERGED_COLUMNS if merged else CODING_COLUMNS, rows, rowids=rowids,
                foreign_keys=[("fragment_id", "fragments", "fragment_id")])
    db[table].create_index(["fragment_id"], if_not_exists=True)
    db[table].create_index(["code"], if_not_exists=True)


def build_database(path: str | Path, *, regions: list[dict[str, Any]], respondents: list[dict[str, Any]],
                   documents: list[dict[str, Any]], fragments: Iterable[dict[str, Any]],
                   problems: Iterable[dict[str, Any]], provenance: dict[str, Any],
                   codings: Iterable[dict[str, Any]] | None = None,
                   machine_codings: Iterable[dict[str, Any]] | None = None,
                   tables: dict[str, Any] | None = None) -> sqlite_utils.Database:
    """Write the whole database afresh from the stage artefacts.

    ``tables`` maps further table names to pandas DataFrames (aggregates, conclusions, agreement ...).
    """
    db = open_database(path, fresh=True)
    # a fresh file that is rebuilt from the artefacts on any failure: no rollback journal, no fsync per batch
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    with db.conn:
        write_registers(db, regions, respondents)
        write_documents(db, documents)
        write_fragments(db, fragments)
        if machine_codings is not None:
            write_codings(db, "codings_machine", machine_codings)
        if codings is not None:
            write_codings(db, "codings", codings, merged=True)
        write_problems(db, problems)
        write_run(db, provenance)
        write_tables(db, tables or {})
    db.execute("PRAGMA journal_mode = DELETE")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("VACUUM")
    return db


def write_tables(db: sqlite_utils.Database, tables: dict[str, Any]) -> None:
    """Further tables, each from a pandas DataFrame or a list of row dicts (aggregates, conclusions,
    agreement ...): a new table is one more entry, its columns those of its rows."""
    for name, frame in tables.items():
        records = frame.to_dict(orient="records") if hasattr(frame, "to_dict") else list(frame)
        if records:
            db[name].insert_all(records, alter=True)


def fragment_counts(fragments: Iterable[dict[str, Any]]) -> dict[str, int]:
    """doc_id -> number of fragments."""
    counts: dict[str, int] = {}
    for fragment in fragments:
        counts[fragment["doc_id"]] = counts.get(fragment["doc_id"], 0) + 1
    return counts


def document_rows(register: Any, extracted: dict[str, dict[str, Any]], problems: list[dict[str, Any]],
                  counts: dict[str, int], source_hashes: dict[str, str]) -> list[dict[str, Any]]:
    """Manifest rows with extraction facts: status (ok/error), pages, characters, fragments (``counts``,
    :func:`fragment_counts`), source hash."""
    errors = {p["doc_id"]: p["message"] for p in problems if p.get("stage") == "extract"}
    rows = []
    for doc in register.documents:
        info = extracted.get(doc.doc_id, {})
        rows.append({
            "doc_id": doc.doc_id, "path": doc.path, "doc_type": doc.doc_type, "region": doc.region,
            "respondent_id": doc.respondent_id or None, "date": doc.date, "title": doc.title,
            "status": "error" if doc.doc_id in errors else "ok", "error": errors.get(doc.doc_id),
            "source_type": info.get("source_type"), "encoding": info.get("encoding"),
            "n_pages": info.get("n_pages"), "n_chars": len(info.get("text", "")) if info else None,
            "n_fragments": counts.get(doc.doc_id, 0), "source_sha256": source_hashes.get(doc.doc_id),
        })
    return rows
