"""A per-document result cache keyed by content hash and settings, so reruns redo only what changed.

An entry is two lines: a header ``{"format", "sha256", "namespace"}`` and the value as JSON; the
checksum is that of the value's line. :meth:`DocumentCache.get` returns a value only when the header,
the checksum and the shape the caller declared all hold (and the caller's own check, e.g. that cached
name spans still match the document); anything else is a miss: logged in one line, the file removed,
and the value recomputed by the caller. A corrupt cache never fails open and never crashes a stage.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .jsonio import atomic_write_text, dumps, loads

ENTRY_FORMAT = 2   # part of every key: entries of an older layout are never read
Check = Callable[[Any], bool]
log = logging.getLogger("kwalitatief.cache")


def source_fingerprint(*modules: Any) -> str:
    """Hash of the source code of the given modules, so a code change invalidates cached results.

    A module may be given by name ("kwalitatief.coding"): its source is read without importing it (a cache
    hit then costs no import of what the module pulls in, such as spaCy).
    """
    import importlib.util

    digest = hashlib.sha256()
    for module in modules:
        origin = importlib.util.find_spec(module).origin if isinstance(module, str) else module.__file__
        digest.update(Path(origin).read_bytes())
    return digest.hexdigest()[:16]


def package_versions(*names: str) -> list[str | None]:
    """The installed versions of these distributions (None where one is not installed), without importing them."""
    from importlib.metadata import PackageNotFoundError, version

    out: list[str | None] = []
    for name in names:
        try:
            out.append(version(name))
        except PackageNotFoundError:
            out.append(None)
    return out


def list_of(item: Check) -> Check:
    """A shape: a list whose every item satisfies ``item``."""
    return lambda value: isinstance(value, list) and all(item(v) for v in value)


def dict_with(**types: type | tuple[type, ...]) -> Check:
    """A shape: a dict holding (at least) these keys with values of these types."""
    return lambda value: isinstance(value, dict) and all(
        k in value and isinstance(value[k], t) and not (t is int and isinstance(value[k], bool))
        for k, t in types.items())


class DocumentCache:
    """JSON results under ``root/namespace/<key>.json``; safe to delete at any time.

    ``shape`` is the form every value must have (see :func:`list_of`, :func:`dict_with`); an entry of
    another form is a miss.
    """

    def __init__(self, root: str | Path | None, namespace: str, shape: Check | None = None):
        self.dir = Path(root) / namespace if root else None
        self.namespace = namespace
        self.shape = shape
        self.hits = 0
        self.misses = 0
        self.bad = 0

    @staticmethod
    def key(*parts: Any) -> str:
        return hashlib.sha256(dumps([ENTRY_FORMAT, *parts]).encode("utf-8")).hexdigest()[:32]

    def _reject(self, path: Path, reason: str) -> None:
        self.bad += 1
        log.warning("cache %s: entry %s is unusable (%s); recomputing it", self.namespace, path, reason)
        path.unlink(missing_ok=True)

    def get(self, key: str, check: Check | None = None) -> Any | None:
        """The cached value, or None (a miss) when it is absent, corrupt, of the wrong shape or fails ``check``."""
        if self.dir is None:
            self.misses += 1
            return None
        path = self.dir / f"{key}.json"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            self.misses += 1
            return None
        value, reason = self._decode(data)
        if reason is None and self.shape is not None and not self.shape(value):
            reason = "not the shape this stage stores"
        if reason is None and check is not None and not check(value):
            reason = "does not match the current input"
        if reason is not None:
            self.misses += 1
            self._reject(path, reason)
            return None
        self.hits += 1
        return value

    def _decode(self, data: bytes) -> tuple[Any, str | None]:
        header_line, _, body = data.partition(b"\n")
        try:
            header = loads(header_line)
        except ValueError:
            return None, "not a cache entry"
        if not isinstance(header, dict) or header.get("format") != ENTRY_FORMAT:
            return None, "not a cache entry of this version"
        body = body.rstrip(b"\n")
        if hashlib.sha256(body).hexdigest() != header.get("sha256"):
            return None, "checksum mismatch: the file was changed or truncated"
        try:
            return loads(body), None
        except ValueError:
            return None, "not valid JSON"

    def put(self, key: str, value: Any) -> None:
        if self.dir is not None:
            body = dumps(value)
            header = dumps({"format": ENTRY_FORMAT, "namespace": self.namespace,
                            "sha256": hashlib.sha256(body.encode("utf-8")).hexdigest()})
            atomic_write_text(self.dir / f"{key}.json", f"{header}\n{body}\n")
