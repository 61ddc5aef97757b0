"""Identifiers that become file names or database keys, and file paths that must stay inside a folder.

Two rules, checked by the register loader (and so by ``kwal check`` and every stage):

- **ids** (``doc_id``, ``respondent_id``): ASCII letters ``A-Z a-z``, digits ``0-9``, ``_`` and ``-``,
  starting with a letter or digit, at most 100 characters. A ``doc_id`` names files such as
  ``outputs/private/extracted/<doc_id>.json``, so ``/``, ``\\``, ``.`` and spaces are refused; two
  ``doc_id``\\ s that differ only in case are refused too (one file on Windows and macOS).
- **names** (``region``): letters (accented letters too), digits, single spaces and ``- _ ' . & ( )``,
  starting with a letter or digit, at most 100 characters: ``Kop van Noord-Holland (Zuid)`` is fine, a ``/``,
  ``;``, a comma or a control character is not (regions are keys of the database and the exports and are
  listed with ``;`` elsewhere).

Code ids have their own, stricter rule in the codebook (``<category>.<name>``, see :mod:`codebook`).
"""

from __future__ import annotations

import re
from pathlib import Path

MAX_LENGTH = 100
ID_RULE = ("use only the letters A-Z and a-z, digits 0-9, '_' and '-', starting with a letter or digit "
           f"(at most {MAX_LENGTH} characters)")
NAME_RULE = ("use only letters, digits, single spaces and - _ ' . & ( ), starting with a letter or digit "
             f"(at most {MAX_LENGTH} characters)")

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_NAME = re.compile(r"[^\W_](?:[\w'.&()-]| (?! ))*")


class UnsafePathError(ValueError):
    """A file name would leave the folder it is meant for."""


def id_problem(value: str) -> str | None:
    """Why ``value`` is not a safe id, or None when it is."""
    if len(value) > MAX_LENGTH or not _ID.fullmatch(value):
        return f"'{value}' is not a valid identifier: {ID_RULE}"
    return None


def name_problem(value: str) -> str | None:
    """Why ``value`` is not a safe name (a region), or None when it is."""
    if len(value) > MAX_LENGTH or not _NAME.fullmatch(value) or value.endswith(" "):
        return f"'{value}' is not a valid name: {NAME_RULE}"
    return None


def contained_file(folder: str | Path, name: str, suffix: str = ".json") -> Path:
    """``folder/<name><suffix>``, refused unless ``name`` is a safe id and the resolved file lies inside
    ``folder`` (no ``..``, no separators, no symlink out). Every per-document file is written through it."""
    problem = id_problem(name)
    if problem:
        raise UnsafePathError(f"refusing to write a file for {problem}")
    base = Path(folder).resolve()
    target = (base / f"{name}{suffix}").resolve()
    if target.parent != base:
        raise UnsafePathError(f"refusing to write {target}: it lies outside {base}")
    return Path(folder) / f"{name}{suffix}"


def contained_files(folder: str | Path, names: list[str], suffix: str = ".json") -> dict[str, Path]:
    """:func:`contained_file` of many names in one folder: the folder is resolved once, and a file only
    when it is a symlink (a safe id has no separator and no ``..``, so only a symlink could lead out)."""
    base = Path(folder).resolve()
    out: dict[str, Path] = {}
    for name in names:
        problem = id_problem(name)
        if problem:
            raise UnsafePathError(f"refusing to write a file for {problem}")
        path = Path(folder) / f"{name}{suffix}"
        if path.is_symlink() and path.resolve().parent != base:
            raise UnsafePathError(f"refusing to write {path.resolve()}: it lies outside {base}")
        out[name] = path
    return out
