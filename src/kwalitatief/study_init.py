"""``kwal init DIR``: a new, empty study that a researcher fills in.

It writes the study's declaration templates (``study.yaml``, ``params.yaml``, a codebook skeleton, an empty
``conclusions.yaml``), an empty register with headers, the folders for documents and annotations, a
``.gitignore`` and a short README, and the method: the same thin ``pipeline/`` entry points and the same
``dvc.yaml`` this repository's demo study runs. In the new study's ``dvc.yaml`` the library's modules are
dependencies by their absolute path in the installed package, so an upgrade of kwalitatief reruns exactly the
stages whose code changed. Existing files are never overwritten; a non-empty DIR needs ``force``.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .corpus import MANIFEST_COLUMNS, RESPONDENT_COLUMNS

TEMPLATE_DIR = Path(__file__).parent / "templates" / "study"
PACKAGE_DIR = Path(__file__).resolve().parent
REGION_HEADER = ("region", "note")
PSEUDONYM_HEADER = ("term", "action", "kind", "note")
EMPTY_DIRS = ("corpus/transcripts", "corpus/documents", "codebook/annotations", "codebook/lexicon", "codebook/training",
              "outputs")
TEMPLATE_FILES = {            # template (under templates/study) -> file of the new study
    "study.yaml": "study.yaml", "params.yaml": "params.yaml", "README.md": "README.md", "gitignore": ".gitignore",
    "codebook/codebook.yaml": "codebook/codebook.yaml", "codebook/conclusions.yaml": "codebook/conclusions.yaml",
}


class InitError(Exception):
    """The study cannot be created; the message says why and what to do."""


@dataclass
class InitResult:
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)     # existing files left as they were


def method_source() -> Path:
    """The folder holding this installation's ``dvc.yaml`` and ``pipeline/`` (the repository kwalitatief was
    installed from, ``pip install -e``)."""
    root = PACKAGE_DIR.parents[1]
    if not ((root / "dvc.yaml").is_file() and (root / "pipeline" / "_common.py").is_file()):
        raise InitError(f"kwalitatief at {PACKAGE_DIR} has no pipeline/ and dvc.yaml beside it; install it "
                        "from its repository (make install, i.e. pip install -e .) to create studies.")
    return root


def study_dvc_yaml(text: str, package_dir: Path = PACKAGE_DIR) -> str:
    """The method's ``dvc.yaml`` for a study outside the repository: the library's files
    (``src/kwalitatief/...``) become dependencies by their absolute path in the installed package."""
    return re.sub(r"(?m)^(\s*- )src/kwalitatief(/|$)", lambda m: f"{m.group(1)}{package_dir.as_posix()}{m.group(2)}",
                  text)


def _csv_header(columns: tuple[str, ...]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(columns)
    return buffer.getvalue()


def study_files() -> dict[str, str | bytes]:
    """Every file of a new study: relative path -> content."""
    files: dict[str, str | bytes] = {dst: (TEMPLATE_DIR / src).read_text(encoding="utf-8")
                                     for src, dst in TEMPLATE_FILES.items()}
    files["corpus/manifest.csv"] = _csv_header(MANIFEST_COLUMNS)
    files["corpus/respondents.csv"] = _csv_header(RESPONDENT_COLUMNS)
    files["corpus/regions.csv"] = _csv_header(REGION_HEADER)
    files["corpus/pseudonyms.csv"] = _csv_header(PSEUDONYM_HEADER)
    files["codebook/reviews.jsonl"] = "\n"   # one empty line: DVC warns on a 0-byte dependency
    root = method_source()
    files["dvc.yaml"] = study_dvc_yaml((root / "dvc.yaml").read_text(encoding="utf-8"))
    for script in sorted((root / "pipeline").glob("*.py")):
        files[f"pipeline/{script.name}"] = script.read_text(encoding="utf-8")
    for folder in EMPTY_DIRS:
        files[f"{folder}/.gitkeep"] = ""
    return files


def init_study(target: str | Path, force: bool = False) -> InitResult:
    """Write a new study into ``target``; never overwrite a file. A non-empty ``target`` needs ``force``
    (then only the missing files are written)."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise InitError(f"{target} is a file; give a folder for the new study.")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise InitError(f"{target} is not empty; choose a new folder, or add --force to write only the files "
                        "that are missing (existing files are never overwritten).")
    files = study_files()
    result = InitResult()
    for rel, content in files.items():
        path = target / rel
        if path.exists():
            result.kept.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8", newline="") as handle:   # "x": never over a file made meanwhile
            handle.write(content if isinstance(content, str) else content.decode("utf-8"))
        result.written.append(path)
    if not (target / ".dvc").exists():
        done = subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=target,
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise InitError(f"dvc init failed in {target}: {done.stderr.strip() or done.stdout.strip()}")
        result.written.append(target / ".dvc")
    return result
