"""The ``classify`` settings of ``params.yaml``: defaults, validation, and the error type of the classifier."""

from __future__ import annotations

from typing import Any

VALENCES = ("positief", "negatief", "gemengd")
MERGE_POLICIES = ("union", "intersection", "classifier", "rules_only")
VALENCE_SOURCES = ("rule_first", "classifier_first")
FORMAT_VERSION = 2   # 2: rows carry threshold and features
EMBEDDINGS = ("none", "static_use", "use")   # use: the full encoder, for measuring (slow)
CODEBOOK_PARTS = ("examples", "definition", "include", "exclude")

DEFAULTS: dict[str, Any] = {
    "seed": 13,
    "min_examples": 8,          # positive (and negative) training examples a code needs for its own model
    "C": 4.0,                   # inverse regularisation strength of the logistic regressions
    "word_ngrams": [1, 2],      # lemma n-grams
    "char_ngrams": [3, 5],      # char_wb n-grams on the lower-cased text
    "min_df": 2,                # a feature must occur in at least this many training fragments
    "rule_features": True,      # add the rule hits (one indicator per code) as features
    "rule_weight": 0.3,         # value of a rule-hit feature (the text blocks are each L2-normalised)
    "threshold_folds": 3,
    "threshold_groups": "random",  # random | document: inner folds that keep a document together
    "nearest_code_ratio": 0.0,  # > 0: a fragment nothing codes gets its nearest code when score >= this x threshold
    "threshold_method": "f1",   # f1 | balanced: the threshold where precision = recall (thresholds.py)
    "threshold_shrinkage": 0,   # k > 0: thresholds shrunk toward the pooled one, weight k / (positives + k)
    "lexical": False,           # compound parts and joined separable verbs as extra lemma tokens (lexical.py)
    "cue_features": False,      # the codebook's cue sets as indicator features, negated or not (cues.py)
    "cue_weight": 0.3,          # value of a cue-family feature
    "cue_pairs": False,         # two families in one fragment as a conjunction feature (@overheden+@probleem)
    "embedding": "none",        # none | static_use | use: a sentence embedding as a feature block (embedding.py)
    "embedding_weight": 1.0,    # factor of the (unit-length) embedding block
    "embedding_cache": "outputs/cache/embedding",   # where the static table is built once (not in git)
    "standalone_weight": 1.0,   # weight of a free-standing training text (codebook, codebook/training/)
    "codebook_knowledge": [],   # parts of the codebook that are training texts: examples, definition, include,
                                # exclude (see classifier.standalone.codebook_texts)
    "training_dir": "codebook/training",   # free-standing annotated fragments (*.jsonl); absent = none
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
    unknown = sorted(set(merged["codebook_knowledge"] or []) - set(CODEBOOK_PARTS))
    if unknown:
        raise ClassifyError(f"params.yaml classify.codebook_knowledge: {', '.join(map(str, unknown))} is not one of "
                            f"{', '.join(CODEBOOK_PARTS)}.")
    if merged["threshold_groups"] not in ("random", "document"):
        raise ClassifyError("params.yaml classify.threshold_groups: must be 'random' or 'document'.")
    if merged["threshold_method"] not in ("f1", "balanced"):
        raise ClassifyError("params.yaml classify.threshold_method: must be 'f1' or 'balanced'.")
    ratio = merged["nearest_code_ratio"]
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 <= ratio <= 1:
        raise ClassifyError(f"params.yaml classify.nearest_code_ratio: {ratio!r} must be a number from 0 (off) to 1.")
    shrinkage = merged["threshold_shrinkage"]
    if isinstance(shrinkage, bool) or not isinstance(shrinkage, (int, float)) or shrinkage < 0:
        raise ClassifyError(f"params.yaml classify.threshold_shrinkage: {shrinkage!r} must be a number, 0 (off) or "
                            "more (the number of positive examples at which a code's own threshold and the "
                            "pooled one weigh equally).")
    if merged["embedding"] not in EMBEDDINGS:
        raise ClassifyError(f"params.yaml classify.embedding: '{merged['embedding']}' is not one of "
                            f"{', '.join(EMBEDDINGS)}.")
    weight = merged["embedding_weight"]
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0:
        raise ClassifyError(f"params.yaml classify.embedding_weight: {weight!r} must be a number above 0.")
    if int(merged["min_examples"]) < 2:
        raise ClassifyError("params.yaml classify.min_examples: must be at least 2.")
    return merged


def problem(severity: str, message: str, doc_id: str | None = None, detail: Any = None) -> dict[str, Any]:
    """A row for ``outputs/work/problems_classify.jsonl``."""
    return {"stage": "classify", "doc_id": doc_id, "severity": severity, "message": message, "detail": detail}
