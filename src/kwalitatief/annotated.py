"""The project's annotation files matched to its fragments, without the classifier's imports (spaCy,
scikit-learn): the conclusions stage needs the human decisions, not the model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .classifier.annotations import load_annotations, match_annotations, original_texts


def root_path(root: str | Path, path: str | Path) -> Path:
    """``path`` under the project ``root`` (an absolute path as it is)."""
    path = Path(path)
    return path if path.is_absolute() else Path(root) / path


def project_annotations(root: str | Path, codebook: Any, fragments: Sequence[dict[str, Any]]
                        ) -> tuple[list[Any], list[tuple[Any, dict[str, Any]]], list[dict[str, Any]]]:
    """The project's annotation files, each matched to its fragment: (annotations, pairs, problems)."""
    from . import paths
    from .keyscan import project_redactor

    annotations, problems = load_annotations(root_path(root, paths.ANNOTATIONS_DIR), codebook.code_ids,
                                             codebook.valenced_codes)
    annotated = {ann.doc_id for ann in annotations}
    originals = original_texts([f for f in fragments if f["doc_id"] in annotated],
                               root_path(root, paths.PSEUDONYMISED_DIR), root_path(root, paths.EXTRACTED_DIR))
    pairs, match_problems = match_annotations(annotations, fragments, originals, project_redactor(root).redact)
    return annotations, pairs, problems + match_problems
