"""Provenance of a run: what corpus, codebook, model and code version produced the outputs."""

from __future__ import annotations

import hashlib
import os
import subprocess
from datetime import datetime, timezone
from typing import Any

from . import __version__


def corpus_hash(source_hashes: dict[str, str], manifest_bytes: bytes) -> str:
    """One hash over the manifest and every document's bytes."""
    digest = hashlib.sha256(manifest_bytes)
    for doc_id in sorted(source_hashes):
        digest.update(f"{doc_id}:{source_hashes[doc_id]}\n".encode())
    return digest.hexdigest()[:16]


def build_date() -> str:
    """A reproducible date: ``SOURCE_DATE_EPOCH`` if set, else the date of the git HEAD commit.

    The wall clock is deliberately not used, so that rerunning on unchanged input gives identical files.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc).isoformat()
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%cI"], capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return "onbekend"


def git_revision() -> str:
    """The git commit of the code (with ``-dirty`` when tracked files have uncommitted changes)."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
        if rev.returncode != 0:
            return "onbekend"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "onbekend"


def provenance(**facts: Any) -> dict[str, Any]:
    """The provenance record: the given facts plus code version and reproducible date."""
    return {"kwalitatief_version": __version__, "code_revision": git_revision(), "date": build_date(), **facts}
