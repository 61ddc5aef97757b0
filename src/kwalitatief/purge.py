"""``kwal purge-leaks``: repair after a missed name was added to ``corpus/pseudonyms.csv``.

1. ``dvc repro prepare``: a new key (with the added name) and new fragments.
2. The ``text`` field of every line of ``codebook/reviews.jsonl`` and ``codebook/annotations/*.jsonl``
   that holds an original of the key is pseudonymised with the key: the only rewrite of a researcher
   file the pipeline ever does. The decisions and codes are unchanged; a review decision follows its
   fragment (``fragment_id`` and ``text_hash`` of the same paragraph, now pseudonymised), so it stays
   applied. The old files are kept under ``outputs/private/backup/<time>/``.
3. The stale copies are removed: ``outputs/cache/`` (pseudonymised text keyed by the old text), then
   ``dvc repro`` rewrites every output, and ``dvc gc --workspace`` drops old versions from ``.dvc/cache``
   (stages with pseudonymised text are not cached by DVC at all, see dvc.yaml).
4. The leak guard checks the outputs and ``.dvc/cache``; any hit left is an error.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import paths
from .jsonio import atomic_write_text, dumps, read_jsonl
from .keyscan import KeyIndex, project_redactor
from .leakguard import key_index, scan_outputs, scan_paths
from .segment import text_hash


class PurgeError(RuntimeError):
    """A step of the repair failed; the message says which and what to do."""


def _dvc(root: Path, *args: str, echo: Callable[[str], Any]) -> None:
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for line in proc.stdout.splitlines():
        echo(f"  {line}")
    if proc.returncode != 0:
        raise PurgeError(f"`dvc {' '.join(args)}` failed (exit {proc.returncode}); see the messages above.")


def _rewrite_jsonl(path: Path, rewrite: Callable[[dict[str, Any]], dict[str, Any] | None],
                   serialise: Callable[[dict[str, Any]], str]) -> tuple[str, int]:
    """(new text of the file, lines changed): ``rewrite`` returns a changed row or None."""
    out, changed = [], 0
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        try:
            row = json.loads(line) if line.strip() else None
        except json.JSONDecodeError:
            row = None                          # a malformed line stays as it is (reported by the run)
        new = rewrite(row) if isinstance(row, dict) else None
        if new is None:
            out.append(line)
        else:
            out.append(serialise(new) + ("\n" if line.endswith("\n") else ""))
            changed += 1
    return "".join(out), changed


def pseudonymise_researcher_files(root: Path, index: KeyIndex, fragments: list[dict[str, Any]],
                                  backup: Path) -> dict[str, int]:
    """Rewrite the ``text`` fields of reviews and annotations that hold an original; returns lines per file."""
    by_hash = {(f["doc_id"], f.get("text_hash") or text_hash(f["text"])): f for f in fragments}

    def review(row: dict[str, Any]) -> dict[str, Any] | None:
        text = row.get("text")
        doc_id = str(row.get("fragment_id", "")).rsplit("-", 1)[0]
        new = index.redact(text, doc_id) if isinstance(text, str) else text
        if new == text:
            return None
        row = {**row, "text": new}
        if row.get("text_hash") == text_hash(text):      # the decision was on this text: follow the fragment
            fragment = by_hash.get((doc_id, text_hash(new)))
            if fragment is not None:
                row.update(fragment_id=fragment["fragment_id"], text_hash=fragment.get("text_hash") or text_hash(new))
        return row

    def annotation(row: dict[str, Any]) -> dict[str, Any] | None:
        text = row.get("text")
        new = index.redact(text, row.get("doc_id")) if isinstance(text, str) else text
        return None if new == text else {**row, "text": new}

    targets = [(root / paths.REVIEWS, review, dumps)]
    targets += [(p, annotation, lambda r: json.dumps(r, ensure_ascii=False))
                for p in sorted((root / paths.ANNOTATIONS_DIR).glob("*.jsonl"))]
    counts: dict[str, int] = {}
    for path, rewrite, serialise in targets:
        if not path.exists():
            continue
        text, changed = _rewrite_jsonl(path, rewrite, serialise)
        if changed:
            relative = path.relative_to(root)
            atomic_write_text(backup / relative, path.read_text(encoding="utf-8"))   # 0600, under outputs/private
            atomic_write_text(path, text)
            counts[str(relative)] = changed
    return counts


def purge_leaks(root: Path = Path("."), echo: Callable[[str], Any] = print) -> str:
    """Run the repair (module docstring) in the project at ``root``; returns what was done."""
    root = Path(root)
    if not (root / "dvc.yaml").exists():
        raise PurgeError("no dvc.yaml here; run kwal purge-leaks from the project root.")
    echo("1. rebuilding the key and the fragments with the current corpus/pseudonyms.csv (dvc repro prepare)")
    _dvc(root, "repro", "prepare", echo=echo)
    index = project_redactor(root)
    fragments = list(read_jsonl(root / paths.FRAGMENTS, drop=("tokens", "sents")))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    backup = root / paths.PRIVATE / "backup" / stamp
    counts = pseudonymise_researcher_files(root, index, fragments, backup)
    echo("2. researcher files: " + ("; ".join(f"{path}: the text of {n} line(s) pseudonymised" for path, n in
                                              counts.items()) + f" (originals kept in {backup})"
                                    if counts else "no text field held an original of the key"))
    echo(f"3. removing stale copies ({paths.CACHE}/), rerunning (dvc repro) and dropping old versions from "
         ".dvc/cache (dvc gc)")
    shutil.rmtree(root / paths.CACHE, ignore_errors=True)
    _dvc(root, "repro", echo=echo)
    _dvc(root, "gc", "--workspace", "--force", echo=echo)
    leaks = scan_outputs(root)
    dvc_cache = root / ".dvc" / "cache"
    if dvc_cache.exists():
        leaks += scan_paths(key_index(root), [dvc_cache])
    if leaks:
        raise PurgeError("originals of the key are still found:\n" + "\n".join(f"  {leak}" for leak in leaks[:20]))
    rewritten = sum(counts.values())
    return (f"purge-leaks: done. {rewritten} line(s) of researcher files pseudonymised"
            + (f" (backup: {backup})" if rewritten else "") + "; outputs rebuilt; the leak guard finds none of "
            f"the key's {key_index(root).size} originals in outputs/ (outside outputs/private/) or .dvc/cache.")
