"""The ``classify`` settings of ``params.yaml``: defaults, validation, and the error type of the classifier."""

from __future__ import annotations

from typing import Any

VALENCES = ("positief", "negatief", "gemengd")
MERGE_POLICIES = ("union", "intersection", "classifier", "rules_only")
VALENCE_SOURCES = ("rule_first", "classifier_first")
FORMAT_VERSION = 1

DEFAULTS: dict[str, Any] = {
    "seed": 13,
    "min_examples": 8,          # positive (and negative) training examples a code needs for its own model
    "C": 4.0,                   # inverse regularisation strength of the logistic regressions
    "word_ngrams": [1, 2],      # lemma n-grams
    "char_ngrams": [3, 5],      # char_wb n-grams on the lower-cased text
    "min_df": 2,                # a feature must occur in at least this many training fragments
    "rule_features": True,      # add the rule hits (one indicator per code) as features
    "rule_weight": 0.3,         # value of a rule-hit feature (the text blocks are each L2-normalised)
    "threshold_folds": 3,       # inner cross-validation folds for choosing the per-code thresholds
    "cv_folds": 5,              # outer cross-validation folds for the evaluation
    "learning_curve": [0.25, 0.5, 0.75, 1.0],
    "merge_policy": "union",
    "valence_from": "classifier_first",
}


class ClassifyError(Exception):
    """Training data or a saved model cannot be used; the message says which file and what to do."""


def settings(params: dict[str, Any] | None) -> dict[str, Any]:
    """``params['classify']`` completed with the defaults, validated."""
    merged = {**DEFAULTS, **((params or {}).get("classify") or {})}
    if merged["merge_policy"] not in MERGE_POLICIES:
        raise ClassifyError(f"params.yaml classify.merge_policy: '{merged['merge_policy']}' is not one of "
                            f"{', '.join(MERGE_POLICIES)}.")
    if merged["valence_from"] not in VALENCE_SOURCES:
        raise ClassifyError(f"params.yaml classify.valence_from: '{merged['valence_from']}' is not one of "
                            f"{', '.join(VALENCE_SOURCES)}.")
    if int(merged["min_examples"]) < 2:
        raise ClassifyError("params.yaml classify.min_examples: must be at least 2.")
    return merged


def problem(severity: str, message: str, doc_id: str | None = None, detail: Any = None) -> dict[str, Any]:
    """A row for ``outputs/work/problems_classify.jsonl``."""
    return {"stage": "classify", "doc_id": doc_id, "severity": severity, "message": message, "detail": detail}
