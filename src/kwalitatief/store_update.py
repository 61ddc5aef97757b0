"""Updating the database in place: the rows of changed documents only, everything small rewritten.

The large tables (fragments, codings, codings_machine) are built from per-document artefact files
(``outputs/work/<folder>/<doc_id>.jsonl``). The table ``run_inputs`` records, per table and document, the
hash of the files its rows came from, and the layout's fingerprint. A run compares them with the files now:
a document whose files changed gets its rows deleted and inserted again, the others are left alone; the
small tables (registers, documents, problems, run, aggregates, conclusions, ...) are dropped and written
again. A database without ``run_inputs``, of another layout, that cannot be read, or where most documents
changed is rebuilt from scratch (into a new file that replaces the old one). Both ways give the same tables
(tests/test_incremental_db.py compares them table by table).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from . import store
from .jsonio import loads


INPUTS = "run_inputs"          # (artefact, doc_id, sha256): what the per-document rows were built from
LAYOUT = "layout"              # the artefact of the row holding the fingerprint of this module and store's
REBUILD_SHARE = 0.5            # more documents changed than this share: a fresh build is faster


@dataclass(frozen=True)
class PerDocument:
    """A table whose rows come from one file per document in each of ``folders`` (in this order)."""

    table: str
    folders: tuple[Path, ...]
    write: Callable[[sqlite_utils.Database, Iterable[dict[str, Any]]], None]
    delete_sql: str            # deletes the rows of the documents in temp table changed_docs(doc_id)


def _delete_by_fragment(table: str) -> str:
    """The rows of a codings table whose fragments (still in the fragments table: rows are deleted in the
    reverse order of the tables) belong to a changed document."""
    return (f"DELETE FROM [{table}] WHERE fragment_id IN (SELECT fragment_id FROM fragments "
            "WHERE doc_id IN (SELECT doc_id FROM temp.changed_docs))")


def per_document_tables(fragments: Path, codings: Path, rule: Path, classifier: Path) -> list[PerDocument]:
    """The database's per-document tables and the artefact folders they are built from, in the order they
    are created (a table after those its foreign keys refer to)."""
    return [
        PerDocument("fragments", (fragments,), store.write_fragments,
                    "DELETE FROM fragments WHERE doc_id IN (SELECT doc_id FROM temp.changed_docs)"),
        PerDocument("codings_machine", (rule, classifier),
                    lambda db, rows: store.write_codings(db, "codings_machine", rows),
                    _delete_by_fragment("codings_machine")),
        PerDocument("codings", (codings,), lambda db, rows: store.write_codings(db, "codings", rows, merged=True),
                    _delete_by_fragment("codings")),
    ]


def row_counts(folder: Path) -> dict[str, int]:
    """doc_id -> rows in ``folder/<doc_id>.jsonl`` (one row a line), without parsing them."""
    if not folder.is_dir():
        return {}
    return {p.stem: sum(1 for line in p.read_bytes().split(b"\n") if line.strip())
            for p in sorted(folder.glob("*.jsonl"))}


@dataclass
class Update:
    """What :func:`update_database` did: ``rebuilt`` (a fresh file) or the documents updated per table."""

    rebuilt: bool
    changed: dict[str, int] = field(default_factory=dict)


def _file_hashes(folders: Sequence[Path]) -> dict[str, str]:
    """doc_id -> hash of its files in ``folders`` (a document without a file in one folder counts as empty)."""
    names: set[str] = set()
    for folder in folders:
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.jsonl"))
    out = {}
    for name in sorted(names):
        digest = hashlib.sha256()
        for folder in folders:
            path = folder / f"{name}.jsonl"
            data = path.read_bytes() if path.exists() else b""
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)
        out[name] = digest.hexdigest()
    return out


def _rows(folders: Sequence[Path], doc_ids: Iterable[str]) -> Iterator[dict[str, Any]]:
    for doc_id in doc_ids:
        for folder in folders:
            path = folder / f"{doc_id}.jsonl"
            if path.exists():
                with open(path, "rb") as handle:
                    for line in handle:
                        if line.strip():
                            yield loads(line)


def layout_fingerprint() -> str:
    """Changes with this module and store.py: a database of another layout is rebuilt, never patched."""
    from .cache import source_fingerprint

    return source_fingerprint(store, sys.modules[__name__])


def _recorded(db: sqlite_utils.Database) -> dict[str, dict[str, str]] | None:
    """The hashes recorded in the database, or None when it has none of this layout (rebuild)."""
    try:
        if INPUTS not in db.table_names():
            return None
        rows = db.execute(f"SELECT artefact, doc_id, sha256 FROM {INPUTS}").fetchall()
    except sqlite3.DatabaseError:
        return None
    out: dict[str, dict[str, str]] = {}
    for artefact, doc_id, sha in rows:
        out.setdefault(artefact, {})[doc_id] = sha
    if out.get(LAYOUT, {}).get("") != layout_fingerprint():
        return None
    return out


Writer = Callable[[sqlite_utils.Database], None]


def update_database(path: str | Path, tables: Sequence[PerDocument], before: Writer,
                    after: Writer) -> tuple[sqlite_utils.Database, Update]:
    """Bring the database at ``path`` up to date with the artefact folders of ``tables``; every other table
    is written afresh by ``before(db)`` (the tables the per-document ones refer to: registers, documents)
    and ``after(db)`` (which may query the per-document tables, up to date then).
    Returns the open database and what was done."""
    path = Path(path)
    current = {t.table: _file_hashes(t.folders) for t in tables}
    db = _open(path) if path.exists() else None
    recorded = _recorded(db) if db is not None else None
    if recorded is not None:
        changed = {t.table: sorted(doc for doc in set(current[t.table]) | set(recorded.get(t.table, {}))
                                   if current[t.table].get(doc) != recorded.get(t.table, {}).get(doc))
                   for t in tables}
        total = max(len(set(current[t.table]) | set(recorded.get(t.table, {}))) for t in tables) or 1
        if max(len(docs) for docs in changed.values()) <= REBUILD_SHARE * total:
            _patch(db, path, tables, changed, current, before, after)
            return db, Update(False, {name: len(docs) for name, docs in changed.items()})
    if db is not None:
        db.conn.close()
    return _rebuild(path, tables, current, before, after), Update(True, {t.table: len(current[t.table]) for t in tables})


def _open(path: Path) -> sqlite_utils.Database:
    return sqlite_utils.Database(path)


def _check_foreign_keys(db: sqlite_utils.Database, path: Path) -> None:
    problems = db.execute("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise sqlite3.IntegrityError(f"{path}: {len(problems)} rows break a foreign key (first: {problems[0]}); "
                                     "an artefact refers to a row that is not there. Delete the file and rerun.")


def _record(db: sqlite_utils.Database, current: dict[str, dict[str, str]]) -> None:
    rows = [{"artefact": LAYOUT, "doc_id": "", "sha256": layout_fingerprint()}]
    rows += [{"artefact": table, "doc_id": doc, "sha256": sha} for table, hashes in sorted(current.items())
             for doc, sha in sorted(hashes.items())]
    db[INPUTS].drop(ignore=True)
    db[INPUTS].insert_all(rows, pk=("artefact", "doc_id"), columns={"artefact": str, "doc_id": str, "sha256": str})


def _drop_rest(db: sqlite_utils.Database, keep: set[str]) -> None:
    """Drop every view and every table that is not a per-document table (or its full-text index)."""
    for view in db.view_names():
        db[view].drop()
    for table in db.table_names():
        if table not in keep and not table.startswith("fragments_fts") and table != INPUTS:
            db[table].drop(ignore=True)


def _patch(db: sqlite_utils.Database, path: Path, tables: Sequence[PerDocument], changed: dict[str, list[str]],
           current: dict[str, dict[str, str]], before: Writer, after: Writer) -> None:
    # sqlite-utils commits after each of its inserts, so the update is not one transaction: the layout row
    # goes first and comes back last, and an update that stops half-way leaves a database that is rebuilt
    with db.conn:
        db.execute(f"DELETE FROM {INPUTS} WHERE artefact = ?", (LAYOUT,))
    db.execute("PRAGMA foreign_keys = OFF")   # the small tables are rewritten under the large ones; checked below
    with db.conn:
        _drop_rest(db, {t.table for t in tables})
        before(db)
        db.execute("CREATE TEMP TABLE IF NOT EXISTS changed_docs (doc_id TEXT PRIMARY KEY)")
        for t in reversed(tables):   # the codings' rows are found through the fragments they belong to
            if changed[t.table] and t.table in db.table_names():
                db.execute("DELETE FROM temp.changed_docs")
                db.conn.executemany("INSERT INTO temp.changed_docs VALUES (?)", [(d,) for d in changed[t.table]])
                db.execute(t.delete_sql)
        for t in tables:
            t.write(db, _rows(t.folders, [d for d in changed[t.table] if d in current[t.table]]))
        after(db)
        _record(db, current)
        _check_foreign_keys(db, path)
    db.execute("PRAGMA foreign_keys = ON")


def _rebuild(path: Path, tables: Sequence[PerDocument], current: dict[str, dict[str, str]], before: Writer,
             after: Writer) -> sqlite_utils.Database:
    """A fresh database in a new file next to ``path`` that replaces it once complete."""
    tmp = path.with_name(f".{path.name}.new")
    tmp.unlink(missing_ok=True)
    db = store.open_database(tmp, fresh=True)
    # a new file, discarded on any failure: no rollback journal, no fsync per batch
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA foreign_keys = OFF")
    with db.conn:
        before(db)
        for t in tables:
            t.write(db, _rows(t.folders, sorted(current[t.table])))
        after(db)
        _record(db, current)
        _check_foreign_keys(db, path)
    db.execute("PRAGMA journal_mode = DELETE")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("VACUUM")
    db.conn.close()
    os.replace(tmp, path)
    db = _open(path)
    db.execute("PRAGMA foreign_keys = ON")
    return db
