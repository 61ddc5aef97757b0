"""A per-document result cache keyed by content hash and settings, so reruns redo only what changed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .jsonio import atomic_write_text, dumps, loads


def source_fingerprint(*modules: Any) -> str:
    """Hash of the source code of the given modules, so a code change invalidates cached results."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


class DocumentCache:
    """JSON results under ``root/namespace/<key>.json``; safe to delete at any time."""

    def __init__(self, root: str | Path | None, namespace: str):
        self.dir = Path(root) / namespace if root else None
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(*parts: Any) -> str:
        return hashlib.sha256(dumps(list(parts)).encode("utf-8")).hexdigest()[:32]

    def get(self, key: str) -> Any | None:
        if self.dir is None:
            self.misses += 1
            return None
        path = self.dir / f"{key}.json"
        try:
            value = loads(path.read_bytes())
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, key: str, value: Any) -> None:
        if self.dir is not None:
            atomic_write_text(self.dir / f"{key}.json", dumps(value))
