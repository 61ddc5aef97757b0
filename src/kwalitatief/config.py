"""Loading ``params.yaml`` and resolving the project's paths."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PARAMS = "params.yaml"


class ConfigError(Exception):
    """A settings file is missing or malformed; the message says which and what to do."""


def load_params(path: str | Path = DEFAULT_PARAMS) -> dict[str, Any]:
    """Read ``params.yaml`` (the study's settings) into a dict."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: not found. Run from the project root or pass --params PATH.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: invalid YAML ({exc}). Fix the syntax and rerun.") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level.")
    return data


def settings_hash(*parts: Any) -> str:
    """A short, stable hash of JSON-serialisable settings (used in cache keys and provenance)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def codebook_path(params: dict[str, Any] | None) -> Path:
    """The codebook file named in params (``codebook``, ``code.codebook``), default codebook/codebook.yaml."""
    params = params or {}
    value = params.get("codebook")
    if isinstance(value, dict):
        value = value.get("path")
    value = value or (params.get("code") or {}).get("codebook")
    return Path(value or "codebook/codebook.yaml")
