"""Honest evaluation of the coders: stratified k-fold cross-validation on the annotations.

Rules, classifier and their merge are scored on the same out-of-fold predictions: precision, recall and
F1 per code, micro and macro, Cohen's kappa per code, valence accuracy for codes with valence, and a learning
curve (F1 against the number of training annotations).
"""

from __future__ import annotations

import hashlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .classifier.examples import Example, training_data_hash
from .classifier.merge import merge_codings
from .classifier.settings import FORMAT_VERSION, MERGE_POLICIES, problem, settings
from .classifier.training import train

if TYPE_CHECKING:
    from .classify import ProjectTraining
    from .parallel import Pending

log = logging.getLogger("kwalitatief.evaluate")

SYSTEMS = ("rules", "classifier", "merged")
Predicted = dict[str, str | None]        # code -> valence (None for codes without valence)


def _order_key(seed: int, fragment_id: str) -> str:
    return hashlib.sha256(f"{seed}\x1f{fragment_id}".encode("utf-8")).hexdigest()


def stratified_folds(examples: Sequence[Example], k: int, seed: int = 13) -> list[int]:
    """A fold number per example: iterative multi-label stratification, deterministic.

    Examples are placed rarest label first, each in the fold that still needs its rarest label most
    (ties: the fold with fewest examples, then the lowest number); examples without a code fill the folds
    evenly.
    """
    n = len(examples)
    k = max(2, min(k, n)) if n >= 2 else 1
    counts: dict[str, int] = {}
    for ex in examples:
        for code in ex.positives():
            counts[code] = counts.get(code, 0) + 1
    need = {code: [c / k for _ in range(k)] for code, c in counts.items()}
    size = [0] * k
    capacity = [n / k] * k

    def rarest(ex: Example) -> tuple[int, str]:
        pos = ex.positives()
        return min(((counts[c], c) for c in pos), default=(n + 1, ""))

    order = sorted(range(n), key=lambda i: (rarest(examples[i]), _order_key(seed, examples[i].fragment_id)))
    folds = [0] * n
    for i in order:
        pos = examples[i].positives()
        if pos:
            label = rarest(examples[i])[1]
            fold = max(range(k), key=lambda f: (need[label][f], capacity[f] - size[f], -f))
            for code in pos:
                need[code][fold] -= 1
        else:
            fold = max(range(k), key=lambda f: (capacity[f] - size[f], -f))
        folds[i] = fold
        size[fold] += 1
    return folds


def _merge_sets(rules: Predicted, clf: Predicted, trained: Sequence[str], cfg: dict[str, Any]) -> Predicted:
    rows_r = [{"fragment_id": "x", "code": c, "valence": v, "rule_id": "r"} for c, v in rules.items()]
    rows_c = [{"fragment_id": "x", "code": c, "valence": v, "score": 1.0} for c, v in clf.items()]
    merged = merge_codings(rows_r, rows_c, cfg["merge_policy"], trained, cfg["valence_from"])
    return {row["code"]: row["valence"] for row in merged}


def _predict_fold(train_ex: list[Example], test_ex: list[Example], codes: Sequence[str], params: dict[str, Any],
                  rule_preds: dict[str, Predicted], extra: Sequence[Example] = (), cues: Any = None
                  ) -> tuple[list[Predicted], list[str]]:
    """Classifier predictions for ``test_ex`` from a model trained on ``train_ex`` (plus the free-standing
    ``extra`` examples, whose rule hits are in ``rule_preds`` too), and its trained codes."""
    hits = {fid: set(p) for fid, p in rule_preds.items()}
    model, _ = train(list(train_ex) + list(extra), codes, params, rule_hits=hits, cues=cues)
    preds = model.predict(test_ex, [hits.get(e.fragment_id, set()) for e in test_ex], explain=False)
    return [{p.code: p.valence for p in row} for row in preds], model.trained_codes


def _kappa(tp: int, fp: int, fn: int, tn: int) -> float | None:
    n = tp + fp + fn + tn
    if n == 0:
        return None
    po = (tp + tn) / n
    pe = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / (n * n)
    if pe >= 1.0:
        return 1.0 if po == 1.0 else None
    return (po - pe) / (1 - pe)


def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return p, r, f


def score(examples: Sequence[Example], predictions: Sequence[Predicted], codes: Sequence[str]) -> dict[str, Any]:
    """Per-code and overall scores of ``predictions`` against the examples' labels.

    Only (example, code) pairs with a known label count. Macro F1 and mean kappa average over the codes
    with at least one positive example.
    """
    per_code: dict[str, dict[str, Any]] = {}
    total = [0, 0, 0]
    valence_hits = valence_n = 0
    for code in codes:
        tp = fp = fn = tn = 0
        for ex, pred in zip(examples, predictions):
            if code not in ex.labels:
                continue
            gold, got = ex.labels[code], code in pred
            tp += gold and got
            fp += got and not gold
            fn += gold and not got
            tn += not gold and not got
            if gold and got and code in ex.valences:
                valence_n += 1
                valence_hits += pred[code] == ex.valences[code]
        p, r, f = _f1(tp, fp, fn)
        kappa = _kappa(tp, fp, fn, tn)
        per_code[code] = {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
                          "kappa": None if kappa is None else round(kappa, 4), "support": tp + fn,
                          "predicted": tp + fp}
        total[0] += tp
        total[1] += fp
        total[2] += fn
    mp, mr, mf = _f1(*total)
    scored = [c for c in codes if per_code[c]["support"] > 0]
    kappas = [per_code[c]["kappa"] for c in scored if per_code[c]["kappa"] is not None]
    return {
        "micro_precision": round(mp, 4), "micro_recall": round(mr, 4), "micro_f1": round(mf, 4),
        "macro_f1": round(float(np.mean([per_code[c]["f1"] for c in scored])) if scored else 0.0, 4),
        "mean_kappa": round(float(np.mean(kappas)) if kappas else 0.0, 4),
        "valence_accuracy": round(valence_hits / valence_n, 4) if valence_n else None,
        "valence_n": valence_n,
        "per_code": per_code,
    }


def _fold_job(job: tuple) -> tuple[list[Predicted], list[str]]:
    train_ex, test_ex, codes, params, rule_preds, extra, cues = job
    return _predict_fold(train_ex, test_ex, codes, params, rule_preds, extra, cues)


def cross_validate(examples: Sequence[Example], codes: Sequence[str], params: dict[str, Any] | None,
                   rule_preds: dict[str, Predicted], workers: int | None = 1,
                   extra: Sequence[Example] = (), cues: Any = None) -> dict[str, Any]:
    """Out-of-fold predictions of rules, classifier and merged, scored; plus the learning curve.
    (:func:`start_cross_validation`, waited for.)

    ``extra``: free-standing training examples (codebook, ``codebook/training/``) that join every fold's
    training data and are never tested on (their rule hits must be in ``rule_preds``). ``cues``: the
    codebook's cue families (features when ``classify.cue_features`` is on).

    Merged predictions follow ``classify.merge_policy``; ``merge_policies`` scores every policy on the
    same predictions so that researchers can compare them. Folds run in ``workers`` processes (the
    results do not depend on it).
    """
    return start_cross_validation(examples, codes, params, rule_preds, workers, extra, cues).result()


def start_cross_validation(examples: Sequence[Example], codes: Sequence[str], params: dict[str, Any] | None,
                           rule_preds: dict[str, Predicted], workers: int | None = 1,
                           extra: Sequence[Example] = (), cues: Any = None) -> "Pending[dict[str, Any]]":
    """:func:`cross_validate` in the background: with more than one worker its folds are computed in a pool
    of their own while the caller goes on (the classify stage trains its model meanwhile); ``result()``
    is what :func:`cross_validate` returns."""
    from .parallel import Pending, submit_documents

    cfg = settings(params)
    examples = sorted(examples, key=lambda e: e.fragment_id)
    if len(examples) < 4:
        raise ValueError(f"cross-validation needs at least 4 annotated fragments, got {len(examples)}")
    folds = stratified_folds(examples, int(cfg["cv_folds"]), int(cfg["seed"]))
    k = max(folds) + 1
    n = len(examples)
    fractions = sorted({float(f) for f in cfg["learning_curve"] if 0 < float(f) <= 1} | {1.0})
    if cues is not None and cfg["cue_features"]:      # once here, not again in every fold's process
        from .classifier.features import word_text

        cues.warm([word_text(e.lemmas) for e in [*examples, *extra]])
    jobs, keys, costs = [], [], []
    for fold in range(k):
        test_idx = [i for i in range(n) if folds[i] == fold]
        train_idx = [i for i in range(n) if folds[i] != fold]
        shuffled = sorted(train_idx, key=lambda i: _order_key(int(cfg["seed"]) + fold, examples[i].fragment_id))
        for frac in fractions:
            subset = sorted(shuffled[:max(2, int(round(frac * len(shuffled))))])
            # Points of the learning curve below 100 % show the trend; they use the plain 0.5 threshold
            # instead of an inner cross-validation, which makes them about five times cheaper.
            fold_params = params if frac == 1.0 else {
                **(params or {}), "classify": {**((params or {}).get("classify") or {}), "threshold_folds": 0}}
            jobs.append(([examples[i] for i in subset], [examples[i] for i in test_idx], list(codes), fold_params,
                         rule_preds, list(extra), cues))
            keys.append((frac, test_idx, len(subset)))
            # a job's cost, to share the jobs out evenly: fits per code x training examples
            costs.append((len(subset) + len(extra)) * (1 + int(settings(fold_params)["threshold_folds"])))
    folds_done = submit_documents(_fold_job, jobs, workers, sizes=costs, label="cross-validation")
    return Pending(lambda: _scored(folds_done.result(), keys, examples, codes, cfg, rule_preds, fractions, k),
                   folds_done.cancel)


def _scored(outputs: list[tuple[list[Predicted], list[str]]], keys: list[tuple[float, list[int], int]],
            examples: list[Example], codes: Sequence[str], cfg: dict[str, Any], rule_preds: dict[str, Predicted],
            fractions: list[float], k: int) -> dict[str, Any]:
    """The scores of :func:`cross_validate` from the predictions of its fold jobs (``keys``: each job's
    training fraction, test indices and training size)."""
    n = len(examples)
    rules = [dict(rule_preds.get(e.fragment_id, {})) for e in examples]
    by_fraction: dict[float, tuple[list[Predicted], list[list[str]]]] = {
        f: ([{} for _ in range(n)], [[] for _ in range(n)]) for f in fractions}
    train_sizes: dict[float, list[int]] = {f: [] for f in fractions}
    for (frac, test_idx, size), (preds, trained) in zip(keys, outputs):
        train_sizes[frac].append(size)
        for i, pred in zip(test_idx, preds):
            by_fraction[frac][0][i] = pred
            by_fraction[frac][1][i] = trained

    def merged(frac: float, policy: str) -> list[Predicted]:
        clf, trained = by_fraction[frac]
        policy_cfg = {**cfg, "merge_policy": policy}
        return [_merge_sets(rules[i], clf[i], trained[i], policy_cfg) for i in range(n)]

    clf_preds = by_fraction[1.0][0]
    results = {"rules": score(examples, rules, codes), "classifier": score(examples, clf_preds, codes),
               "merged": score(examples, merged(1.0, cfg["merge_policy"]), codes)}
    policies = {}
    for policy in MERGE_POLICIES:
        s = score(examples, merged(1.0, policy), codes)
        policies[policy] = {k: s[k] for k in ("micro_precision", "micro_recall", "micro_f1", "macro_f1",
                                              "mean_kappa")}
    curve = []
    for frac in fractions:
        c = score(examples, by_fraction[frac][0], codes)
        m = score(examples, merged(frac, cfg["merge_policy"]), codes)
        curve.append({"fraction": frac, "n_annotations": int(round(float(np.mean(train_sizes[frac])))),
                      "classifier_micro_f1": c["micro_f1"], "classifier_macro_f1": c["macro_f1"],
                      "merged_micro_f1": m["micro_f1"], "merged_macro_f1": m["macro_f1"]})
    log.info("cross-validation: %d folds x %d training sizes done", k, len(fractions))
    return {"n_annotations": n, "folds": k, "results": results, "learning_curve": curve,
            "merge_policies": policies, "merge_policy": cfg["merge_policy"], "valence_from": cfg["valence_from"]}


def metrics_document(cv: dict[str, Any], codes: Sequence[str], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The content of ``outputs/metrics.json``: summary per system, learning curve, then per code."""
    summary_keys = ("micro_precision", "micro_recall", "micro_f1", "macro_f1", "mean_kappa", "valence_accuracy")
    doc: dict[str, Any] = {"n_annotations": cv["n_annotations"], "cv_folds": cv["folds"],
                           "merge_policy": cv["merge_policy"]}
    for system in SYSTEMS:
        doc[system] = {k: cv["results"][system][k] for k in summary_keys}
    doc["merge_policies"] = cv["merge_policies"]
    doc["learning_curve"] = {f"n{point['n_annotations']:04d}": {k: v for k, v in point.items()
                                                                if k not in ("n_annotations",)}
                             for point in cv["learning_curve"]}
    doc["per_code"] = {code: {"support": cv["results"]["rules"]["per_code"][code]["support"],
                              **{system: {k: cv["results"][system]["per_code"][code][k]
                                          for k in ("precision", "recall", "f1", "kappa")}
                                 for system in SYSTEMS}}
                       for code in codes}
    doc.update(extra or {})
    return doc


def f1_plot_rows(cv: dict[str, Any], codes: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of ``outputs/plots/f1_per_code.csv``: code, support and the F1 of each system."""
    rows = []
    for code in codes:
        row = {"code": code, "support": cv["results"]["rules"]["per_code"][code]["support"]}
        for system in SYSTEMS:
            row[system] = cv["results"][system]["per_code"][code]["f1"]
        rows.append(row)
    return rows


def learning_curve_rows(cv: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of ``outputs/plots/learning_curve.csv``."""
    return [{"n_annotations": p["n_annotations"], "classifier_micro_f1": p["classifier_micro_f1"],
             "classifier_macro_f1": p["classifier_macro_f1"], "merged_micro_f1": p["merged_micro_f1"],
             "merged_macro_f1": p["merged_macro_f1"]} for p in cv["learning_curve"]]


def evaluate_project(result: ProjectTraining, params: dict[str, Any] | None, workers: int | None = 1,
                     cache_dir: str | Path | None = None
                     ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Cross-validate on the project's labelled fragments: metrics, F1 plot rows, learning-curve rows.

    With ``cache_dir``, the cross-validation of exactly the same labelled fragments, rule codings of
    them and settings is reused (it does not depend on the other fragments). A cross-validation that
    :func:`kwalitatief.classify.train_from_project` started already (``result.evaluation``) is waited for.
    """
    evaluation = result.evaluation or start_evaluation(result.examples, result.codes, result.rule_preds,
                                                       result.standalone, result.standalone_hits, result.cues,
                                                       params, workers, cache_dir)
    return evaluation.finish(result.model)


class Evaluation:
    """A cross-validation started before the model it is reported with is trained (:func:`start_evaluation`)."""

    def __init__(self, n_examples: int, codes: Sequence[str], cv: Any = None):
        self.n_examples, self.codes, self._cv = n_examples, list(codes), cv   # cv: Pending, or None (too few)

    def finish(self, model: Any
               ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """Metrics (with the provenance of ``model``), F1 plot rows, learning-curve rows and problems."""
        provenance = {"codebook_version": model.codebook_version, "training_data_hash": model.training_hash,
                      "model_version": model.version, "rules_only_codes": sorted(model.fallback)}
        if self._cv is None:
            message = (f"only {self.n_examples} labelled fragments: too few for cross-validation; "
                       "metrics are not computed. Annotate more fragments in codebook/annotations/.")
            return {"n_annotations": self.n_examples, **provenance}, [], [], [problem("warning", message)]
        cv = self._cv.result()
        return (metrics_document(cv, self.codes, provenance), f1_plot_rows(cv, self.codes),
                learning_curve_rows(cv), [])

    def cancel(self) -> None:
        """Stop a cross-validation still running (the stage failed before it needed it)."""
        if self._cv is not None:
            self._cv.cancel()


def start_evaluation(examples: Sequence[Example], codes: Sequence[str], rule_preds: dict[str, Predicted],
                     standalone: Sequence[Example], standalone_hits: dict[str, set[str]], cues: Any,
                     params: dict[str, Any] | None, workers: int | None = 1,
                     cache_dir: str | Path | None = None) -> Evaluation:
    """The cross-validation of :func:`evaluate_project`, reused from the cache or started in the background
    (:func:`start_cross_validation`): it needs the labelled fragments, their rule codings and the
    free-standing examples, not the trained model, so the classify stage trains meanwhile."""
    import sklearn

    from .cache import DocumentCache, source_fingerprint
    from .classifier import merge
    from .classifier.cached import training_modules
    from .parallel import Pending

    if len(examples) < 10:
        return Evaluation(len(examples), codes)
    rule_preds = {e.fragment_id: rule_preds.get(e.fragment_id, {}) for e in examples}
    extra_preds = {e.fragment_id: {c: None for c in sorted(standalone_hits.get(e.fragment_id, ()))}
                   for e in standalone}
    cache = DocumentCache(cache_dir, "evaluate", shape=lambda value: isinstance(value, dict))
    key = cache.key(FORMAT_VERSION, sklearn.__version__, source_fingerprint(*training_modules(), merge, sys.modules[__name__]),
                    settings(params), list(codes), training_data_hash(examples),
                    sorted(rule_preds.items()), training_data_hash(standalone), sorted(extra_preds.items()))
    cv = cache.get(key)
    if cv is not None:
        log.info("cross-validation: reused (same labelled fragments, rule codings of them and settings)")
        return Evaluation(len(examples), codes, Pending(lambda: cv))
    running = start_cross_validation(examples, codes, params, {**rule_preds, **extra_preds}, workers, standalone,
                                     cues)

    def done() -> dict[str, Any]:
        value = running.result()
        cache.put(key, value)
        return value

    return Evaluation(len(examples), codes, Pending(done, running.cancel))
