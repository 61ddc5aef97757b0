"""The saved model as ``kwal code-file`` uses it: loaded, checked against the codebook, merged with the
rules by the stage's policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from .merge import merge_fragment_rows
from .model import Model, load_model, stale_reason
from .settings import ClassifyError


def load_coding_model(directory: str | Path, codebook_version: str, code_ids: Sequence[str]
                      ) -> tuple[Model | None, str]:
    """The saved model for coding new text with ``kwal code-file``, or None; plus a message for the user.

    No model, an unreadable one or one trained on a different set of codes means: rules only. A model
    trained on an older version of the same codes is used, with a warning to retrain.
    """
    try:
        model = load_model(directory)
    except ClassifyError as exc:
        return None, f"{exc} Coding with the rules only."
    if model is None:
        return None, (f"no trained classifier in {directory}: coding with the rules only. Run 'kwal run' "
                      "to train it on codebook/annotations.")
    if sorted(model.codes) != sorted(code_ids):
        return None, (f"the classifier in {directory} was trained for other codes than the codebook has now; "
                      "coding with the rules only. Run 'kwal run' to retrain it.")
    stale = stale_reason(model, codebook_version)
    note = f" Warning: {stale}" if stale else ""
    return model, (f"coding with the rules and the classifier {model.version} ({len(model.trained_codes)} codes "
                   f"with a model, {len(model.fallback)} by the rules only).{note}")


@dataclass
class CodingModel:
    """A saved model plus the merge policy: the ``model`` that ``coding.code_fragments`` codes with.

    ``predict_fragments`` gives the classifier rows; ``merge_rows`` turns one fragment's rule and
    classifier rows into the merged rows (one per code, ``source`` e.g. ``rule+classifier``), by the
    same :func:`merge_codings` the classify stage uses.
    """

    model: Model
    policy: str = "union"
    valence_from: str = "rule_first"
    wants_rule_rows: ClassVar[bool] = True

    def predict_fragments(self, fragments: Sequence[dict[str, Any]],
                          rule_rows: Sequence[Sequence[dict[str, Any]]] | None = None) -> list[list[dict[str, Any]]]:
        return self.model.predict_fragments(fragments, rule_rows)

    def merge_rows(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        merged = merge_fragment_rows(rows, self.model, self.policy, self.valence_from)
        keys = ("code", "valence", "rule_id", "evidence", "start", "end", "score", "codebook_version",
                "model_version")
        return [{"source": row["sources"], **{k: row.get(k) for k in keys}} for row in merged]
