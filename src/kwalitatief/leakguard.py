"""The leak guard: no original of the pseudonym key in anything outside ``outputs/private/``.

:func:`scan_outputs` looks in every text column of the database, the report (HTML with its entities
decoded, Markdown), the zipped exports (xlsx, qdpx), the trained model's word vocabulary and every other
file under ``outputs/`` except ``outputs/private/``, for every original of
``outputs/private/pseudonym_key.csv`` (the matching rules are in :mod:`kwalitatief.keyscan`).
:func:`guard` raises :class:`LeakError` on any hit, naming the file and the table.column or the JSON
field; the message never repeats the original, only its tag and the surrounding words with the name
replaced.

It runs at the end of the report stage and in ``kwal run`` after ``dvc repro`` (so that a run in which
nothing changed scans too); a file unchanged since a clean scan with the same key and guard code (its
size and modification time, or else its SHA-256) is not read again, and of a database updated in place
(:class:`DatabaseChange`) that was clean before the update only the rows the update wrote are read. Any
doubt (another key, other guard code, a file changed behind the record's back) means a full scan.
``kwal purge-leaks`` repairs what it finds.
"""

from __future__ import annotations

import html
import os
import re
import sqlite3
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import paths
from .keyscan import KeyIndex, read_key

CONTEXT = 30
CLEAN_RECORD = paths.PRIVATE / "leakguard_clean.json"   # files found clean: size, modification time, SHA-256
WORDS_RECORD = paths.PRIVATE / "leakguard_words.json"   # which of the key's words are Dutch words (they are names)
MAX_REPORTED = 20


@dataclass(frozen=True)
class Leak:
    """An original of the key found outside outputs/private/: where (file and field) and its tag."""

    where: str
    tag: str
    context: str

    def __str__(self) -> str:
        return f"{self.where}: {self.tag} in clear (…{self.context}…)"


class LeakError(RuntimeError):
    """Original personal data found outside outputs/private/; the message lists where."""

    def __init__(self, leaks: list[Leak]):
        self.leaks = leaks
        shown = "\n".join(f"  {leak}" for leak in leaks[:MAX_REPORTED])
        more = f"\n  … and {len(leaks) - MAX_REPORTED} more" if len(leaks) > MAX_REPORTED else ""
        super().__init__(
            f"leak guard: {len(leaks)} original(s) of the pseudonym key found outside outputs/private/ "
            f"(the tag says which; look it up in {paths.PSEUDONYM_KEY}):\n{shown}{more}\n"
            "Do not share these outputs. Repair: `kwal purge-leaks` (README, 'Repairing a missed name').")


def _context(index: KeyIndex, text: str, start: int, end: int, tag: str) -> str:
    left = index.redact(text[max(0, start - CONTEXT):start]) or ""
    right = index.redact(text[end:end + CONTEXT]) or ""
    return f"{left}«{tag}»{right}"


# Encoded binary data: a figure's PNG as base64 in the report's HTML and in the figure cache. No name can be read
# in it, and in its megabytes a short original turns up between a "+" and a "/" by chance (seen: a four-letter
# name in a heatmap after one edit of the demo corpus), so it is not searched.
ENCODED = re.compile(r"[A-Za-z0-9+/]{200,}={0,2}")


def scan_text(index: KeyIndex, where: str, text: str) -> list[Leak]:
    """The leaks in one text (its whitespace collapsed; runs of base64, :data:`ENCODED`, left out)."""
    flat = " ".join(ENCODED.sub(" ", text).split())
    return [Leak(where, hit.tag, _context(index, flat, hit.start, hit.end, hit.tag))
            for hit in index.find_normalised(flat)]


@dataclass(frozen=True)
class DatabaseChange:
    """An in-place update of a database: its file's [size, mtime_ns] before the update, and per table whose
    other rows were left alone the rows the update (re)inserted (``(SQL condition, parameters)``). Every
    table not named in ``rows`` was written afresh and is read whole."""

    path: Path
    before: list[int]
    rows: dict[str, tuple[str, tuple[Any, ...]]]


def _database_texts(path: Path, change: DatabaseChange | None = None) -> Iterator[tuple[str, list[str]]]:
    """(``file: table.column``, its text values) for every text column of every table (not views); with
    ``change`` only the rows it names of its tables."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [name for name, sql in conn.execute("select name, sql from sqlite_master where type = 'table'")
                  if not (sql or "").upper().startswith("CREATE VIRTUAL")]
        for table in tables:
            where, params = change.rows.get(table, ("1", ())) if change is not None else ("1", ())
            columns = [row[1] for row in conn.execute(f'pragma table_info("{table}")')]
            for column in columns:
                values = [v for (v,) in conn.execute(f'select "{column}" from "{table}" where typeof("{column}") = '
                                                     f"'text' and ({where})", params)]
                if values:
                    yield f"{path}: {table}.{column}", values
    finally:
        conn.close()


def _json_fields(value: Any, field: str = "") -> Iterator[tuple[str, str]]:
    """(field path, string) of every string in a JSON value; dict keys count as strings of their parent."""
    if isinstance(value, str):
        yield field or "(value)", value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _json_fields(str(key), field or "(keys)")
            yield from _json_fields(item, f"{field}.{key}" if field else str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _json_fields(item, f"{field}[]")


def _model_texts(path: Path) -> Iterator[str]:
    """Every string a pickled model holds, except the character n-grams of its vectorizers (a 3-5 letter
    piece inside a word, 'ellen' of 'stellen', spells no name and would only give false alarms)."""
    import joblib
    import numpy

    seen: set[int] = set()

    def walk(obj: Any, depth: int) -> Iterator[str]:
        if depth > 12 or id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, str):
            yield obj
        elif isinstance(obj, dict):
            for key, value in obj.items():
                yield from walk(key, depth + 1)
                yield from walk(value, depth + 1)
        elif isinstance(obj, (list, tuple, set, frozenset)):
            for item in obj:
                yield from walk(item, depth + 1)
        elif isinstance(obj, numpy.ndarray):
            if obj.dtype.kind in "OUS":
                for item in obj.ravel().tolist():
                    yield from walk(item, depth + 1)
        elif hasattr(obj, "__dict__"):
            attributes = dict(vars(obj))
            if str(attributes.get("analyzer", "")).startswith("char"):
                attributes.pop("vocabulary_", None)
                attributes.pop("stop_words_", None)
            yield from walk(attributes, depth + 1)

    yield from walk(joblib.load(path), 0)


DATABASES = (".db", ".sqlite", ".sqlite3")


def _file_texts(path: Path, index: KeyIndex, change: DatabaseChange | None = None) -> Iterator[tuple[str, list[str]]]:
    """(where, texts) of one file, by its kind (of a database with ``change``: the rows it names)."""
    if path.suffix in DATABASES:
        yield from _database_texts(path, change)
    elif path.suffix in (".joblib", ".pkl", ".pickle"):
        # an uncompressed pickle holds its strings as they are: only when its bytes hold a candidate (as
        # written in the key, or all lower or upper case: not 'tOM' out of the bytes of a float array) is
        # the model loaded (seconds: scikit-learn) to tell a real vocabulary entry from a character n-gram
        raw = " ".join(path.read_bytes().decode("utf-8", "ignore").split())
        if any(raw[h.start:h.end] in (h.original, h.original.lower(), h.original.upper())
               for h in index.find_normalised(raw)):
            try:
                texts = ["\n".join(_model_texts(path))]
            except Exception:   # noqa: BLE001 - a stale cache entry of older code: fail closed, scan its raw strings
                texts = [raw]
            yield f"{path} (model)", texts
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                yield f"{path} ({name})", [html.unescape(archive.read(name).decode("utf-8", "ignore"))]
    elif path.suffix in (".json", ".jsonl"):
        yield from _json_file_texts(path, index)
    else:
        text = path.read_bytes().decode("utf-8", "ignore")
        yield str(path), [html.unescape(text) if path.suffix in (".html", ".htm", ".xml", ".svg") else text]


def _json_file_texts(path: Path, index: KeyIndex) -> Iterator[tuple[str, list[str]]]:
    """A JSON or JSON-lines file (a cache entry is two lines) per field (``file: field``), or as plain text
    when it does not parse. The file's raw text (escaped line breaks as spaces) is scanned first: only a
    file with a candidate is parsed field by field."""
    from .jsonio import loads

    data = path.read_bytes()
    raw = data.decode("utf-8", "ignore").replace("\\n", " ").replace("\\t", " ").replace("\\r", " ")
    if not index.find_normalised(" ".join(raw.split())):
        return
    try:
        values = [loads(data)]
    except ValueError:
        try:
            values = [loads(line) for line in data.splitlines() if line.strip()]
        except ValueError:
            yield str(path), [data.decode("utf-8", "ignore")]
            return
    fields: dict[str, list[str]] = {}
    for value in values:
        for field, text in _json_fields(value):
            fields.setdefault(field, []).append(text)
    for field, texts in fields.items():
        yield f"{path}: {field}", texts


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def scan_paths(index: KeyIndex, targets: Iterable[Path], clean: dict[str, list[Any]] | None = None,
               changes: Iterable[DatabaseChange] = ()) -> list[Leak]:
    """The leaks in the given files and folders (recursively).

    With ``clean`` (file -> [size, mtime_ns, sha256] of its last clean scan with the same key), a file
    unchanged since then (size and modification time, or else the same bytes) is not read again, and of a
    database in ``changes`` whose file before the update was the one found clean only the rows the update
    wrote; ``clean`` is updated to hold exactly the files found clean now (a database without its hash).
    """
    leaks: list[Leak] = []
    seen: dict[str, list[Any]] = {}
    updated = {Path(c.path).resolve(): c for c in changes}
    for target in targets:
        for name, stat in _files(target):
            fingerprint: list[Any] = [stat.st_size, stat.st_mtime_ns]
            before = (clean or {}).get(name)
            if before is not None and before[:2] == fingerprint:
                seen[name] = before
                continue
            file = Path(name)
            change = updated.get(file.resolve())
            if change is not None and (before is None or before[:2] != change.before):
                change = None   # not clean before the update (or not known to be): every row
            database = file.suffix in DATABASES
            sha = None if database else _sha256(file)
            if before is not None and sha is not None and before[0] == stat.st_size and before[2:] == [sha]:
                seen[name] = [*fingerprint, sha]   # the same bytes, written again
                continue
            found = [leak for where, texts in _file_texts(file, index, change)
                     # one scan over all values of a column or field; a separator that is no word character
                     for leak in scan_text(index, where, "\n\u241e\n".join(texts))]
            if not found:
                seen[name] = [*fingerprint, sha] if sha is not None else fingerprint
            leaks += found
    if clean is not None:
        clean.clear()
        clean.update(seen)
    return leaks


def _files(target: Path) -> list[tuple[str, os.stat_result]]:
    """The files in ``target`` (itself if it is a file; folders recursively, not following links to
    folders) in path order, each as ``str(path)`` with its ``stat`` (one system call a file: the outputs
    hold thousands)."""
    if not target.is_dir():
        return [(str(target), target.stat())]
    found: list[tuple[list[str], str, os.stat_result]] = []
    stack = [str(target)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file():
                    found.append((entry.path.split(os.sep), entry.path, entry.stat()))
    found.sort(key=lambda item: item[0])
    return [(path, stat) for _parts, path, stat in found]


def public_outputs(root: str | Path = ".") -> list[Path]:
    """Everything under outputs/ that is not outputs/private/ (the files that may leave the machine)."""
    outputs = Path(root) / paths.OUTPUTS
    private = (Path(root) / paths.PRIVATE).resolve()
    if not outputs.exists():
        return []
    return sorted(p for p in outputs.iterdir() if p.resolve() != private and p.name != ".gitkeep")


def key_index(root: str | Path = ".") -> KeyIndex:
    """The leak guard's index of the run's key (outputs/private/pseudonym_key.csv). Which of the key's
    words are Dutch words (:func:`kwalitatief.keyscan.dutch_words`, which reads spaCy's lemma tables) is
    kept in outputs/private/ for the same words and word lists, so that a run that changed nothing does
    not read the tables again."""
    root = Path(root)

    def words(candidates: Iterable[str]) -> set[str]:
        return _recorded_dutch_words(root / WORDS_RECORD, candidates)

    return KeyIndex(read_key(root / paths.PSEUDONYM_KEY), words=words)


def _recorded_dutch_words(record_path: Path, candidates: Iterable[str]) -> set[str]:
    """:func:`kwalitatief.keyscan.dutch_words`, or its answer for the same candidates recorded earlier."""
    import hashlib
    from importlib.metadata import PackageNotFoundError, version

    from .jsonio import atomic_write_text, dumps, loads
    from .keyscan import dutch_words

    wanted = sorted({c.lower() for c in candidates})
    lists = []
    for package in ("deduce", "spacy-lookups-data"):
        try:
            lists.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            lists.append(f"{package} -")
    record_id = hashlib.sha256("\n".join([*lists, *wanted]).encode("utf-8")).hexdigest()
    try:
        record = loads(record_path.read_bytes())
        if isinstance(record, dict) and record.get("id") == record_id and isinstance(record.get("words"), list):
            return set(record["words"])
    except (OSError, ValueError):
        pass
    found = dutch_words(wanted)
    if record_path.parent.exists():
        atomic_write_text(record_path, dumps({"id": record_id, "words": sorted(found)}) + "\n")
    return found


def _record_id(root: Path) -> str:
    """What a clean scan is valid for: the key and the guard's own code."""
    import hashlib
    import sys

    from . import keyscan
    from .cache import source_fingerprint

    key = root / paths.PSEUDONYM_KEY
    digest = hashlib.sha256(key.read_bytes() if key.exists() else b"").hexdigest()[:16]
    return f"{digest}-{source_fingerprint(keyscan, sys.modules[__name__])}"


def scan_outputs(root: str | Path = ".", extra: Iterable[Path] = (), index: KeyIndex | None = None,
                 changes: Iterable[DatabaseChange] = ()) -> list[Leak]:
    """The leaks in all public outputs of the project at ``root`` (and in ``extra`` files).

    Files found clean are recorded (size, modification time, SHA-256) in outputs/private/leakguard_clean.json
    for the current key and guard code; a run in which they did not change does not read them again, and
    of a database updated in place (``changes``) only the rows written (:func:`scan_paths`).
    """
    from .jsonio import atomic_write_text, dumps, loads

    root = Path(root)
    index = index or key_index(root)
    if not index.size:
        return []
    record_path = root / CLEAN_RECORD
    record_id = _record_id(root)
    clean: dict[str, list[int]] = {}
    try:
        record = loads(record_path.read_bytes())
        if isinstance(record, dict) and record.get("id") == record_id and isinstance(record.get("files"), dict):
            clean = record["files"]
    except (OSError, ValueError):
        pass
    leaks = scan_paths(index, [*public_outputs(root), *extra], clean, changes)
    atomic_write_text(record_path, dumps({"id": record_id, "files": clean}) + "\n")
    return leaks


def guard(root: str | Path = ".", extra: Iterable[Path] = (), changes: Iterable[DatabaseChange] = ()) -> int:
    """Raise :class:`LeakError` when any public output holds an original of the key; else the number of
    originals looked for."""
    index = key_index(root)
    leaks = scan_outputs(root, extra, index, changes)
    if leaks:
        raise LeakError(leaks)
    return index.size
