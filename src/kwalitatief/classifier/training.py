"""Fitting the model: one logistic regression per code with a cross-validated threshold, and one valence
model pooled over the codes with valence. Seeded: the same data give the same model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .cues import CueFamilies
from .examples import Example, is_standalone, training_data_hash
from .features import Featurizer
from .model import Model, model_version
from .settings import VALENCES, problem, settings
from .thresholds import choose_threshold, pooled_threshold, shrink_threshold


def _logreg(cfg: dict[str, Any]):
    """A code's logistic regression. liblinear's dual solver: with far more n-gram features than fragments
    it reaches the same optimum (coefficients within 1e-4) about ten times faster than the primal one."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=float(cfg["C"]), class_weight="balanced", solver="liblinear", dual=True,
                              random_state=int(cfg["seed"]), max_iter=1000)


def train(examples: Sequence[Example], codes: Sequence[str], params: dict[str, Any] | None = None,
          codebook_version: str = "", rule_hits: dict[str, set[str]] | None = None,
          cues: CueFamilies | None = None) -> tuple[Model, list[dict[str, Any]]]:
    """Train the per-code models, their thresholds and the valence model on ``examples``.

    ``rule_hits`` maps a fragment id to the codes the rules gave it (used as features when
    ``rule_features`` is on). ``cues``: the codebook's cue families (features when ``cue_features`` is on).
    Returns the model and the problems (codes that fall back to the rules).
    """
    cfg = settings(params)
    examples = sorted(examples, key=lambda e: e.fragment_id)
    problems: list[dict[str, Any]] = []
    use_rules = bool(cfg["rule_features"]) and rule_hits is not None
    featurizer = Featurizer(cfg["word_ngrams"], cfg["char_ngrams"], int(cfg["min_df"]),
                            list(codes) if use_rules else (), float(cfg["rule_weight"]), bool(cfg["lexical"]),
                            cues if cfg["cue_features"] else None, float(cfg["cue_weight"]),
                            bool(cfg["cue_pairs"]), str(cfg["embedding"]), float(cfg["embedding_weight"]),
                            str(cfg["embedding_cache"]))
    hits = [rule_hits.get(e.fragment_id, set()) for e in examples] if use_rules else None
    estimators: dict[str, Any] = {}
    thresholds: dict[str, float] = {}
    threshold_cv: dict[str, dict[str, float]] = {}
    fallback: dict[str, str] = {}
    outcomes: dict[str, tuple[np.ndarray, np.ndarray]] = {}   # code -> (y, out-of-fold scores)
    min_examples = int(cfg["min_examples"])
    weights = np.array([float(cfg["standalone_weight"]) if is_standalone(e) else 1.0 for e in examples])
    X = None
    if examples:
        X = featurizer.fit_transform(examples, hits)
    for code in codes:
        idx = [i for i, e in enumerate(examples) if code in e.labels]
        y = np.array([int(examples[i].labels[code]) for i in idx], dtype=int)
        n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
        if n_pos < min_examples or n_neg < min_examples:
            reason = (f"{n_pos} positive and {n_neg} negative training examples (classify.min_examples is "
                      f"{min_examples})")
            fallback[code] = reason
            problems.append(problem("warning", f"code {code}: too few annotations for a classifier ({reason}); "
                                               f"{code} is coded by the rules only. Annotate more fragments "
                                               "with and without this code.", detail={"code": code}))
            continue
        Xc, wc = X[idx], weights[idx]
        folds = min(int(cfg["threshold_folds"]), n_pos, n_neg)
        if folds >= 2:
            oof = np.zeros(len(y))
            for tr, te in threshold_splits(y, [examples[i] for i in idx], folds, cfg):
                oof[te] = _logreg(cfg).fit(Xc[tr], y[tr], sample_weight=wc[tr]).predict_proba(Xc[te])[:, 1]
            threshold, f1 = choose_threshold(y, oof, cfg["threshold_method"])
            outcomes[code] = (y, oof)
        else:  # threshold_folds 0: the plain 0.5 (used for the cheaper learning-curve points)
            threshold, f1 = 0.5, float("nan")
        thresholds[code] = threshold
        threshold_cv[code] = {"threshold": threshold, "f1": round(f1, 4), "positives": n_pos, "negatives": n_neg}
        estimators[code] = _logreg(cfg).fit(Xc, y, sample_weight=wc)
    shrink_thresholds(thresholds, threshold_cv, outcomes, cfg)
    valence_estimator, valence_fallback = _train_valence(examples, X, cfg, problems)
    model = Model(featurizer, estimators, thresholds, valence_estimator, valence_fallback, list(codes), fallback,
                  codebook_version, training_data_hash(examples), model_settings(cfg), n_examples=len(examples),
                  threshold_cv=threshold_cv,
                  valence_codes=tuple(sorted({c for e in examples for c in e.valences})))
    model.version = model_version(model)
    return model, problems


def shrink_thresholds(thresholds: dict[str, float], threshold_cv: dict[str, dict[str, Any]],
                      outcomes: dict[str, tuple[np.ndarray, np.ndarray]], cfg: dict[str, Any]) -> None:
    """``classify.threshold_shrinkage`` k > 0: each cross-validated threshold (in place) shrunk toward the
    threshold chosen on every code's out-of-fold scores pooled, with weight k / (n + k) for a code with n
    positive training examples (thresholds.shrink_threshold). ``threshold_cv`` then also records the code's
    own threshold (``chosen``) and the pooled one."""
    k = float(cfg["threshold_shrinkage"])
    if k <= 0 or not outcomes:
        return
    pooled = pooled_threshold([outcomes[c] for c in sorted(outcomes)], cfg["threshold_method"])
    for code in sorted(outcomes):
        cv = threshold_cv[code]
        thresholds[code] = shrink_threshold(cv["threshold"], pooled, int(cv["positives"]), k)
        threshold_cv[code] = {**cv, "chosen": cv["threshold"], "pooled": pooled, "threshold": thresholds[code]}


def _train_valence(examples: Sequence[Example], X: Any, cfg: dict[str, Any],
                   problems: list[dict[str, Any]]) -> tuple[Any, str | None]:
    """One valence model pooled over the codes with valence (valence words do not depend on the topic)."""
    rows, labels = [], []
    for i, ex in enumerate(examples):
        for code in sorted(ex.valences):
            if ex.labels.get(code):     # ex.valences holds codes with valence only
                rows.append(i)
                labels.append(ex.valences[code])
    counts = {v: labels.count(v) for v in VALENCES}
    present = [v for v in VALENCES if counts[v] > 0]
    if len(present) < 2 or min(counts[v] for v in present) < 2:
        most = max(VALENCES, key=lambda v: (counts[v], -VALENCES.index(v))) if labels else None
        problems.append(problem("warning", f"valence: too few annotations with a valence ({counts}); "
                                           "classifier codings with valence take the valence of the rules, else "
                                           f"'{most}'."))
        return None, most
    from sklearn.linear_model import LogisticRegression

    est = LogisticRegression(C=float(cfg["C"]), class_weight="balanced", solver="lbfgs",
                             random_state=int(cfg["seed"]), max_iter=2000)
    return est.fit(X[rows], np.array(labels)), None


def model_settings(cfg: dict[str, Any]) -> dict[str, Any]:
    keys = ("seed", "min_examples", "C", "word_ngrams", "char_ngrams", "min_df", "rule_features",
            "rule_weight", "threshold_folds", "threshold_groups", "threshold_method", "standalone_weight", "lexical",
            "cue_features", "cue_weight", "cue_pairs", "nearest_code_ratio", "embedding", "embedding_weight")
    out = {k: cfg[k] for k in keys}
    if float(cfg["threshold_shrinkage"]) > 0:   # off: the settings (and so the model's bytes) as before it existed
        out["threshold_shrinkage"] = cfg["threshold_shrinkage"]
    if cfg["embedding"] != "none":    # the vectors depend on the encoder package's weights
        from .embedding import package_version

        out["embedding_package"] = package_version()
    return out


def threshold_splits(y: np.ndarray, items: Sequence[Example], folds: int, cfg: dict[str, Any]):
    """The inner folds whose out-of-fold scores choose a code's threshold.

    ``threshold_groups: document`` keeps each document's fragments (and each free-standing file's) in one
    fold, so a threshold is chosen on wording from documents the fold's model has not seen -- closer to new
    material than random folds, where an interview's other paragraphs share its wording.
    """
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    if cfg.get("threshold_groups") == "document":
        groups = [ex.doc_id or (ex.origins[0].rsplit(":", 1)[0] if ex.origins else ex.fragment_id) for ex in items]
        if len(set(groups)) >= folds:
            sgkf = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=int(cfg["seed"]))
            return list(sgkf.split(np.zeros(len(y)), y, groups))
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=int(cfg["seed"]))
    return list(skf.split(np.zeros(len(y)), y))
