"""Deterministic JSON/JSONL reading and atomic writing for stage artefacts."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


PRIVATE_DIR_MODE = 0o700    # outputs/private/ holds original text and the key: only the owner may read it
PRIVATE_FILE_MODE = 0o600


def private_root(path: str | Path) -> Path | None:
    """The ``outputs/private`` folder that ``path`` lies in (at any depth), or None."""
    parts = Path(path).absolute().parts
    for i in range(len(parts) - 1):
        if parts[i] == "outputs" and parts[i + 1] == "private":
            return Path(*parts[:i + 2])
    return None


def make_dirs(folder: str | Path) -> Path:
    """``mkdir -p folder``; inside ``outputs/private/`` every folder is made (and kept) 0700."""
    folder = Path(folder)
    root = private_root(folder)
    if root is None:
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    root.parent.mkdir(parents=True, exist_ok=True)
    inner = Path(folder).absolute().relative_to(root).parts
    current = root
    for part in ("", *inner):
        current = current / part if part else current
        current.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
        if current.stat().st_mode & 0o777 != PRIVATE_DIR_MODE:
            os.chmod(current, PRIVATE_DIR_MODE)
    return folder


def dumps(obj: Any) -> str:
    """JSON text that is the same for the same data (sorted keys, no ASCII escaping, no spaces).

    orjson writes it ~7x faster than the json module; what orjson cannot write (integers beyond 64 bits,
    non-string keys) falls back to the json module.
    """
    try:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except TypeError:
        return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write a file so that a crash never leaves half of it behind."""
    path = Path(path)
    make_dirs(path.parent)
    _write_file(path, text, private_root(path) is not None)


def _write_file(path: Path, text: str, private: bool) -> None:
    """:func:`atomic_write_text` into a folder that exists (``private``: it lies in ``outputs/private/``)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        # mkstemp creates 0600: kept for outputs/private/, other outputs are ordinary files
        os.chmod(tmp, PRIVATE_FILE_MODE if private else 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: str | Path, obj: Any, indent: int | None = 2) -> None:
    """Write one JSON document (pretty by default, keys sorted)."""
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=indent)
    atomic_write_text(path, text + "\n")


def write_json_dir(folder: str | Path, documents: dict[str, Any]) -> int:
    """Make ``folder`` hold exactly ``<name>.json`` for each item of ``documents`` (compact JSON, :func:`dumps`).

    See :func:`write_text_dir`; returns the number of files written.
    """
    return write_text_dir(folder, {name: dumps(obj) + "\n" for name, obj in documents.items()}, ".json")


def write_text_dir(folder: str | Path, texts: dict[str, str], suffix: str) -> int:
    """Make ``folder`` hold exactly ``<name><suffix>`` with the given text for each item of ``texts``.

    Every name must be a safe identifier whose file stays inside ``folder``
    (:func:`identifiers.contained_file`; :class:`identifiers.UnsafePathError` otherwise, before anything
    is written). Files whose content is unchanged are not rewritten (their modification time stays, so DVC
    need not hash them again); files of names no longer present are removed. Returns the number of files written.
    """
    from .identifiers import contained_files

    folder = make_dirs(folder)
    private = private_root(folder) is not None
    targets = contained_files(folder, list(texts), suffix)
    written = 0
    for name, text in texts.items():
        path = targets[name]
        try:
            if path.read_bytes() == text.encode("utf-8"):
                continue
        except FileNotFoundError:
            pass
        _write_file(path, text, private)   # the folder was made above
        written += 1
    wanted = {path.name for path in targets.values()}
    for path in folder.iterdir():
        if path.name not in wanted:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    return written


def jsonl_text(rows: Iterable[dict[str, Any]]) -> str:
    """Rows as the JSON lines :func:`write_jsonl` writes."""
    return "".join(dumps(row) + "\n" for row in rows)


def write_jsonl_dir(folder: str | Path, rows: Iterable[dict[str, Any]], name_of: Any,
                    names: Iterable[str] = ()) -> int:
    """Rows grouped into ``folder/<name>.jsonl`` by ``name_of(row)`` (order kept within a file), one file per
    name, plus an empty file for each of ``names`` without rows; unchanged files are not rewritten and
    stale ones removed (:func:`write_text_dir`). Returns the number of files written."""
    groups: dict[str, list[str]] = {name: [] for name in names}
    for row in rows:
        groups.setdefault(name_of(row), []).append(dumps(row) + "\n")
    return write_text_dir(folder, {name: "".join(lines) for name, lines in groups.items()}, ".jsonl")


def jsonl_files(path: str | Path) -> list[Path]:
    """The files a JSONL artefact consists of: the file itself, or a folder's ``*.jsonl`` in name order."""
    path = Path(path)
    if path.is_dir():
        return sorted(path.glob("*.jsonl"))
    return [path]


def loads(data: bytes | str) -> Any:
    """Parse JSON written by :func:`dumps` or by the json module (orjson first; it rejects NaN/Infinity)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:   # NaN/Infinity (json.dumps writes them), or a real error
        return json.loads(data)


def read_json(path: str | Path) -> Any:
    """One JSON document."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write rows as JSON lines; returns the number of rows."""
    lines = [dumps(row) for row in rows]
    atomic_write_text(path, "".join(line + "\n" for line in lines))
    return len(lines)


def write_problems(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write a stage's problems as JSON lines; with none, one empty line (readers skip it).

    A 0-byte output makes DVC print "WARNING: '<file>' is empty." on every run that touches it; a run with
    nothing wrong should print no warning.
    """
    lines = [dumps(row) for row in rows]
    atomic_write_text(path, "".join(line + "\n" for line in lines) or "\n")
    return len(lines)


def read_jsonl(path: str | Path, drop: Iterable[str] = ()) -> Iterator[dict[str, Any]]:
    """Yield the rows of a JSONL file written by :func:`write_jsonl` (or of a folder of them, one file per
    document, in name order: :func:`write_jsonl_dir`), without the keys in ``drop``.

    ``drop`` keeps memory small when a stage does not need a bulky field (the token rows of
    ``fragments.jsonl``, for instance).
    """
    drop = tuple(drop)
    for part in jsonl_files(path):
        with open(part, "rb") as handle:
            for line in handle:
                if line.strip():
                    row = loads(line)
                    for key in drop:
                        row.pop(key, None)
                    yield row
