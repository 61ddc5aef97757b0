"""Updating the database in place: the rows of changed documents only, everything small rewritten.

The large tables (fragments, codings, codings_machine) are built from per-document artefact files
(``outputs/work/<folder>/<doc_id>.jsonl``). The table ``run_inputs`` records, per table and document, the
hash of the files its rows came from, and the layout's fingerprint. A run compares them with the files now:
a document whose files changed gets its rows deleted and inserted again, the others are left alone; the
small tables (registers, documents, problems, run, aggregates, conclusions, ...) are dropped and written
again. A database without ``run_inputs``, of another layout, that cannot be read, or where most documents
changed is rebuilt from scratch (into a new file that replaces the old one).

Both ways give the same file, byte for byte (so that DVC records the same hash for a researcher's
incremental run as for a run from scratch; tests/test_incremental_db.py compares the bytes and every table):
a row's rowid depends on its document and its place in the document's files only (:func:`document_rowid`),
the tables are created in the same order (a rebuild writes the small tables again after the large ones, as
an update does), the full-text index of updated fragments is rebuilt, and the file is written out by
``VACUUM INTO`` with a schema cookie that depends on the schema only (:func:`_canonical`).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
import zlib
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
ROWS_PER_DOCUMENT = 1 << 24    # rowid = document key × this + the row's place in the document's files


@dataclass(frozen=True)
class PerDocument:
    """A table whose rows come from one file per document in each of ``folders`` (in this order)."""

    table: str
    folders: tuple[Path, ...]
    write: Callable[[sqlite_utils.Database, Iterable[dict[str, Any]]], None]
    delete_sql: str            # deletes the rows of the documents in temp table changed_docs(doc_id)
    rows_sql: str              # selects the rows of the documents {} (a list of parameters)


def _delete_by_fragment(table: str) -> str:
    """The rows of a codings table whose fragments (still in the fragments table: rows are deleted in the
    reverse order of the tables) belong to a changed document."""
    return (f"DELETE FROM [{table}] WHERE fragment_id IN (SELECT fragment_id FROM fragments "
            "WHERE doc_id IN (SELECT doc_id FROM temp.changed_docs))")


def _of_fragments(docs: str) -> str:
    return f"fragment_id IN (SELECT fragment_id FROM fragments WHERE doc_id IN ({docs}))"


def per_document_tables(fragments: Path, codings: Path, rule: Path, classifier: Path) -> list[PerDocument]:
    """The database's per-document tables and the artefact folders they are built from, in the order they
    are created (a table after those its foreign keys refer to)."""
    return [
        PerDocument("fragments", (fragments,), lambda db, rows: store.write_fragments(db, rows, rowids=True),
                    "DELETE FROM fragments WHERE doc_id IN (SELECT doc_id FROM temp.changed_docs)", "doc_id IN ({})"),
        PerDocument("codings_machine", (rule, classifier),
                    lambda db, rows: store.write_codings(db, "codings_machine", rows, rowids=True),
                    _delete_by_fragment("codings_machine"), _of_fragments("{}")),
        PerDocument("codings", (codings,),
                    lambda db, rows: store.write_codings(db, "codings", rows, merged=True, rowids=True),
                    _delete_by_fragment("codings"), _of_fragments("{}")),
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
    documents: dict[str, list[str]] = field(default_factory=dict)   # per table: the documents rewritten
    before: list[int] | None = None   # [size, mtime_ns] of the file before an in-place update

    def written_rows(self, tables: Sequence[PerDocument], limit: int = 500) -> dict[str, tuple[str, tuple]] | None:
        """Per per-document table, the rows an in-place update wrote (SQL condition and parameters), for
        the leak guard; None when the database was rebuilt or too many documents changed to list them."""
        if self.rebuilt or self.before is None or any(len(d) > limit for d in self.documents.values()):
            return None
        out = {}
        for t in tables:
            docs = self.documents.get(t.table, [])
            out[t.table] = (t.rows_sql.format(", ".join("?" * len(docs))) if docs else "0", tuple(docs))
        return out


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


def document_key(doc_id: str) -> int:
    """A number of 39 bits from the document id: its rows' rowids are this × :data:`ROWS_PER_DOCUMENT` + i."""
    return int.from_bytes(hashlib.sha256(doc_id.encode("utf-8")).digest()[:5], "big") >> 1


def document_rowid(doc_id: str, i: int) -> int:
    """The rowid of the ``i``-th row of a document's files: the same however often the database was updated."""
    if i >= ROWS_PER_DOCUMENT:
        raise ValueError(f"document {doc_id}: more than {ROWS_PER_DOCUMENT} rows in one table")
    return document_key(doc_id) * ROWS_PER_DOCUMENT + i


def _check_keys(doc_ids: Iterable[str]) -> None:
    seen: dict[int, str] = {}
    for doc_id in sorted(doc_ids):
        other = seen.setdefault(document_key(doc_id), doc_id)
        if other != doc_id:
            raise ValueError(f"documents {other} and {doc_id} get the same row numbers in the database (a hash "
                             "collision, about once in a trillion pairs); rename one of them in corpus/manifest.csv.")


def _rows(folders: Sequence[Path], doc_ids: Iterable[str]) -> Iterator[dict[str, Any]]:
    for doc_id in doc_ids:
        i = 0
        for folder in folders:
            path = folder / f"{doc_id}.jsonl"
            if path.exists():
                with open(path, "rb") as handle:
                    for line in handle:
                        if line.strip():
                            row = loads(line)
                            row["rowid"] = document_rowid(doc_id, i)
                            i += 1
                            yield row


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
    _check_keys({doc for hashes in current.values() for doc in hashes})
    stat = path.stat() if path.exists() else None
    db = _open(path) if stat is not None else None
    recorded = _recorded(db) if db is not None else None
    if recorded is not None:
        changed = {t.table: sorted(doc for doc in set(current[t.table]) | set(recorded.get(t.table, {}))
                                   if current[t.table].get(doc) != recorded.get(t.table, {}).get(doc))
                   for t in tables}
        total = max(len(set(current[t.table]) | set(recorded.get(t.table, {}))) for t in tables) or 1
        if max(len(docs) for docs in changed.values()) <= REBUILD_SHARE * total:
            _patch(db, path, tables, changed, current, before, after)
            if changed[tables[0].table]:   # the full-text index as a fresh build makes it
                with db.conn:
                    db[tables[0].table].rebuild_fts()
            return _canonical(db, path), Update(False, {name: len(docs) for name, docs in changed.items()}, changed,
                              [stat.st_size, stat.st_mtime_ns])
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
    try:
        with db.conn:
            before(db)   # the tables the large ones refer to (sqlite-utils checks that they exist) ...
            for t in tables:
                t.write(db, _rows(t.folders, sorted(current[t.table])))
            _drop_rest(db, {t.table for t in tables})
            before(db)   # ... written again after them, in the order an update writes them
            after(db)
            _record(db, current)
            _check_foreign_keys(db, path)
        return _canonical(db, path)
    finally:
        tmp.unlink(missing_ok=True)


def _canonical(db: sqlite_utils.Database, path: Path) -> sqlite_utils.Database:
    """Write the database out with ``VACUUM INTO`` (pages in table and rowid order, no free pages) over
    ``path`` and return it opened. VACUUM sets the schema cookie to the old one + 1, which counts the schema
    changes the file went through: the new file, which no connection has open yet, gets one that depends on
    the schema only."""
    out = path.with_name(f".{path.name}.vacuum")
    out.unlink(missing_ok=True)
    try:
        db.execute("VACUUM INTO ?", [str(out)])
        db.conn.close()
        conn = sqlite3.connect(out)
        try:
            schema = "\n".join(sql or "" for (sql,) in conn.execute("SELECT sql FROM sqlite_master ORDER BY rowid"))
            conn.execute(f"PRAGMA schema_version = {zlib.crc32(schema.encode('utf-8')) % (1 << 31) or 1}")
            conn.commit()
        finally:
            conn.close()
        os.replace(out, path)
    finally:
        out.unlink(missing_ok=True)
    db = _open(path)
    db.execute("PRAGMA foreign_keys = ON")
    return db
