"""Provenance of a run: which inputs, code and packages produced the outputs, so "why did this number change"
has an answer.

Two records, because two promises pull apart (README, "Provenance"):

* :func:`run_provenance` goes into the DVC-tracked outputs (the database's ``run`` table and the report's
  header). It holds only what the inputs determine: a separate hash of each input (params, register,
  codebook, lexicon, conclusions, annotations, reviews, corpus), of the code, and the versions of the
  packages that shape results. Rerunning on the same inputs gives the same bytes, and a fresh clone's run
  reproduces the committed ``dvc.lock``. No wall clock and no git state in here (``SOURCE_DATE_EPOCH``, when
  set, is recorded as ``date``: the reproducible-builds convention for a fixed date).
* :func:`write_run_log` is what ``kwal run`` writes after every run into ``outputs/run.json`` and
  ``outputs/runs.jsonl``, files DVC does not track: the run's own start and end time, the git revision
  (with ``-dirty``), which stages ran, and the same input fingerprint, which ties the log to a report.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from . import __version__

# distributions whose version can change a result (extraction, lemmas, pseudonymisation, the classifier)
RESULT_PACKAGES = ("spacy", "spacy-lookups-data", "scikit-learn", "numpy", "scipy", "deduce", "pypdfium2",
                   "pdfplumber", "pdfminer.six", "python-docx", "charset-normalizer")
CODE_GLOBS = ("src/kwalitatief/**/*.py", "src/kwalitatief/templates/*", "src/kwalitatief/static/*",
              "pipeline/*.py")
RUN_LOG = Path("outputs") / "run.json"
RUN_HISTORY = Path("outputs") / "runs.jsonl"


def corpus_hash(source_hashes: dict[str, str], manifest_bytes: bytes) -> str:
    """One hash over the manifest and every document's bytes."""
    digest = hashlib.sha256(manifest_bytes)
    for doc_id in sorted(source_hashes):
        digest.update(f"{doc_id}:{source_hashes[doc_id]}\n".encode())
    return digest.hexdigest()[:16]


def files_hash(root: Path, paths: list[Path]) -> str:
    """A hash over the relative names and bytes of ``paths`` (files, or folders taken whole, sorted).

    A missing file counts as absent (its name is hashed with a marker), so creating it changes the hash.
    """
    digest = hashlib.sha256()
    for path in paths:
        full = root / path
        members = sorted(p for p in full.rglob("*") if p.is_file()) if full.is_dir() else [full]
        for member in members:
            rel = member.relative_to(root).as_posix()
            if member.is_file():
                digest.update(f"{rel}\0{hashlib.sha256(member.read_bytes()).hexdigest()}\n".encode())
            else:
                digest.update(f"{rel}\0absent\n".encode())
    return digest.hexdigest()[:16]


def _study_files(params: dict[str, Any]) -> list[Path]:
    """The study declarations, when the project has them (params ``study``, else study.yaml)."""
    value = params.get("study")
    if isinstance(value, dict):
        value = value.get("path") or value.get("file")
    return [Path(value)] if isinstance(value, str) else [Path("study.yaml")]


def input_groups(params: dict[str, Any]) -> dict[str, list[Path]]:
    """Each input the researcher decides on -> its files (relative to the project root)."""
    from .config import codebook_path
    from .paths import ANNOTATIONS_DIR, CONCLUSIONS_INPUT, REVIEWS

    corpus = params.get("corpus") or {}
    codebook = codebook_path(params)
    register = [Path(corpus.get(k, f"corpus/{k}.csv")) for k in ("manifest", "respondents", "regions")]
    return {
        "params": [Path("params.yaml")],
        "register": register + _study_files(params),
        "codebook": [codebook],
        "lexicon": [codebook.parent / "lexicon"],
        "conclusions": [CONCLUSIONS_INPUT],
        "annotations": [ANNOTATIONS_DIR],
        "reviews": [REVIEWS],
        "pseudonyms": [Path((params.get("pseudonymise") or {}).get("list", "corpus/pseudonyms.csv"))],
    }


def input_hashes(params: dict[str, Any], root: str | Path = ".") -> dict[str, str]:
    """``hash_<input>`` for every input group, and ``hash_code`` over the pipeline's own code."""
    root = Path(root)
    out = {f"hash_{name}": files_hash(root, paths) for name, paths in input_groups(params).items()}
    code = sorted({p.relative_to(root) for g in CODE_GLOBS for p in root.glob(g) if "__pycache__" not in p.parts})
    out["hash_code"] = files_hash(root, code)
    return out


def package_versions(model: str | None = None) -> dict[str, str]:
    """``version_<package>`` of every result-shaping package, and of the spaCy model when one is named."""
    out = {}
    for dist in RESULT_PACKAGES + ((model,) if model else ()):
        try:
            out[f"version_{dist}"] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[f"version_{dist}"] = "niet geïnstalleerd" + (" (spacy.blank('nl') gebruikt)" if dist == model else "")
    return out


def fingerprint(facts: dict[str, Any]) -> str:
    """One short hash over the input hashes and versions: the same on the report and in the run log."""
    keys = sorted(k for k in facts if k.startswith(("hash_", "version_")) or k == "corpus_hash")
    return hashlib.sha256("".join(f"{k}={facts[k]}\n" for k in keys).encode()).hexdigest()[:12]


FIXED_DATE = "2020-01-01T00:00:00+00:00"


def build_date() -> str:
    """The date written into files that need one (xlsx properties): ``SOURCE_DATE_EPOCH`` if set, else a
    fixed date. Not the wall clock and not git's (a commit would change the outputs' bytes)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc).isoformat()
    return FIXED_DATE


def run_provenance(params: dict[str, Any], root: str | Path = ".", **facts: Any) -> dict[str, Any]:
    """The provenance record of the DVC-tracked outputs: inputs, code and package versions; reproducible."""
    model = (params.get("nlp") or {}).get("model")
    record = {"kwalitatief_version": __version__, **facts, **input_hashes(params, root), **package_versions(model)}
    if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        record["date"] = build_date()
    record["fingerprint"] = fingerprint(record)
    return record


def git_revision(root: str | Path = ".") -> str:
    """The git commit of the code (with ``-dirty`` when tracked files have uncommitted changes)."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10,
                             cwd=root)
        if rev.returncode != 0:
            return "onbekend"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, cwd=root)
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "onbekend"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def tracked_record(root: str | Path = ".") -> dict[str, str] | None:
    """The provenance the report stage wrote (the database's ``run`` table), or None without a database."""
    import sqlite3

    from .paths import DATABASE

    path = Path(root) / DATABASE
    if not path.exists():
        return None
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        try:
            return dict(conn.execute("select key, value from run").fetchall())
        except sqlite3.Error:
            return None


def write_run_log(started: str, stages: list[str], params: dict[str, Any], root: str | Path = ".") -> dict[str, Any]:
    """``outputs/run.json`` (this run) and a line in ``outputs/runs.jsonl`` (every run); not tracked by DVC.

    The provenance part is the database's ``run`` table (so the fingerprint is the report's), else computed.
    """
    from .jsonio import dumps, write_json

    root = Path(root)
    record = tracked_record(root) or run_provenance(params, root)
    entry = {"started": started, "finished": now(), "code_revision": git_revision(root), "stages_run": stages,
             **record}
    write_json(root / RUN_LOG, entry)
    with open(root / RUN_HISTORY, "a", encoding="utf-8", newline="\n") as handle:
        handle.write(dumps(entry) + "\n")
    return entry
