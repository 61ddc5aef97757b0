"""The trained model: per-code logistic regressions with thresholds, a valence model, its version and
persistence (``outputs/model/``)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..jsonio import dumps
from .examples import Example, fragment_example
from .features import EMBEDDING_PREFIX, Featurizer
from .settings import FORMAT_VERSION, ClassifyError

MODEL_FILE = "model.joblib"
META_FILE = "model.json"


@dataclass
class Prediction:
    """A classifier coding of one fragment."""

    code: str
    score: float
    valence: str | None = None
    threshold: float | None = None
    features: list[str] = field(default_factory=list)   # what drove the score most (see Model.drivers)


@dataclass
class Model:
    """Per-code logistic regressions with their thresholds, a valence model, and provenance."""

    featurizer: Featurizer
    estimators: dict[str, Any]
    thresholds: dict[str, float]
    valence_estimator: Any
    valence_fallback: str | None
    codes: list[str]                  # every code of the codebook
    fallback: dict[str, str]          # code -> why it has no model (coded by the rules only)
    codebook_version: str
    training_hash: str
    settings: dict[str, Any]
    version: str = ""
    n_examples: int = 0
    threshold_cv: dict[str, dict[str, float]] = field(default_factory=dict)
    valence_codes: tuple[str, ...] = ()   # codes whose predictions get a valence (had one in training); sorted,
                                          # so that the pickled model does not depend on the hash seed

    @property
    def trained_codes(self) -> list[str]:
        return sorted(self.estimators)

    def scores(self, items: Sequence[Example], rule_hits: Sequence[set[str]] | None = None
               ) -> tuple[dict[str, np.ndarray], list[tuple[str | None, float | None]]]:
        """Per-code probabilities and the predicted valence (with its probability) of every item."""
        probs, valences, _ = self._scores(items, rule_hits)
        return probs, valences

    def _scores(self, items: Sequence[Example], rule_hits: Sequence[set[str]] | None
                ) -> tuple[dict[str, np.ndarray], list[tuple[str | None, float | None]], Any]:
        """:meth:`scores` and the feature matrix they come from (None without items or models)."""
        if not items or not self.estimators:
            return ({c: np.zeros(len(items)) for c in self.estimators},
                    [(self.valence_fallback, None)] * len(items), None)
        X = self.featurizer.transform(items, rule_hits)
        probs = {code: est.predict_proba(X)[:, 1] for code, est in sorted(self.estimators.items())}
        if self.valence_estimator is not None:
            vp = self.valence_estimator.predict_proba(X)
            classes = list(self.valence_estimator.classes_)
            valences = [(classes[int(np.argmax(row))], float(np.max(row))) for row in vp]
        else:
            valences = [(self.valence_fallback, None)] * len(items)
        return probs, valences, X

    # coding.code_fragments passes the rule rows of each fragment to predict_fragments when this is set
    wants_rule_rows: ClassVar[bool] = True

    def predict_fragments(self, fragments: Sequence[dict[str, Any]],
                          rule_rows: Sequence[Sequence[dict[str, Any]]] | None = None) -> list[list[dict[str, Any]]]:
        """Classifier coding rows per fragment: the model interface of ``coding.code_fragments``."""
        return fragment_rows(self, fragments, rule_rows)

    def predict(self, items: Sequence[Example], rule_hits: Sequence[set[str]] | None = None,
                explain: bool = True) -> list[list[Prediction]]:
        """The codes whose probability reaches their threshold, per item (sorted by code); with ``explain``
        each prediction names its drivers (:meth:`drivers`; cross-validation, which only counts codes, skips
        them).

        With the setting ``nearest_code_ratio`` r (> 0), an item that neither reaches a threshold nor has a
        rule hit gets the one code whose score comes nearest its threshold, when that score is at least r x
        the threshold: on new wording scores drop, and a fragment that nothing codes is then mostly a miss.
        """
        probs, valences, X = self._scores(items, rule_hits)
        ratio = float(self.settings.get("nearest_code_ratio") or 0.0)
        out: list[list[Prediction]] = []
        for i in range(len(items)):
            coded = [c for c in sorted(probs) if probs[c][i] >= self.thresholds[c]]
            if not coded and ratio > 0 and probs and not (rule_hits and rule_hits[i]):
                near, share = max(((c, float(probs[c][i]) / self.thresholds[c]) for c in sorted(probs)),
                                  key=lambda cs: (cs[1], cs[0]))
                coded = [near] if share >= ratio else []
            preds = []
            if coded and explain and X is not None:   # the row of a CSR matrix: a slice of its arrays
                row = slice(X.indptr[i], X.indptr[i + 1])
                indices, data = X.indices[row], X.data[row]
            for code in coded:
                valence = valences[i][0] if code in self.valence_codes else None
                features = self._drivers(indices, data, code) if explain and X is not None else []
                preds.append(Prediction(code, round(float(probs[code][i]), 4), valence, self.thresholds[code],
                                        features))
            out.append(preds)
        return out

    def drivers(self, row: Any, code: str, limit: int = 6) -> list[str]:
        """The features of one featurised fragment (a 1-row sparse matrix) that raised ``code``'s score most:
        lemma n-grams as they are, character n-grams as ``~gram~``, rule hits as ``regel:<code>``."""
        return self._drivers(row.indices, row.data, code, limit)

    def _drivers(self, indices: np.ndarray, data: np.ndarray, code: str, limit: int = 6) -> list[str]:
        """:meth:`drivers` of a row given as its column indices and values (a slice of the CSR matrix's
        arrays: taking ``X[i]`` as a matrix of its own cost scipy more than the rest of this)."""
        coef = self.estimators[code].coef_[0]
        contributions = data * coef[indices]
        order = np.argsort(-contributions, kind="stable")
        names: list[str] = []
        for j in order:
            if contributions[j] <= 0 or len(names) >= limit:
                break
            name = self.featurizer.feature_name(int(indices[j]))
            if name.startswith(EMBEDDING_PREFIX):
                continue                       # an embedding dimension: no word a researcher could check
            if name.startswith("~") and any(name.strip("~ ") in n for n in names):
                continue                       # a piece of a word already shown
            names.append(name)
        return names


def fragment_rows(self: Model, fragments: Sequence[dict[str, Any]],
                       rule_rows: Sequence[Sequence[dict[str, Any]]] | None = None) -> list[list[dict[str, Any]]]:
    """The classifier's coding rows of each fragment (the model side of ``coding.code_fragments``).

    ``rule_rows`` are the rule codings of each fragment (their codes are features when the model was
    trained with ``rule_features``). Rows: code, valence, source="classifier", rule_id/evidence/start/end
    None, score, threshold, features (what drove the score, :meth:`Model.drivers`), codebook_version,
    model_version.
    """
    items = [fragment_example(f) for f in fragments]
    hits = [{r["code"] for r in rows if r.get("source", "rule") == "rule"} for rows in rule_rows] \
        if rule_rows is not None else [set() for _ in items]
    out = []
    for preds in self.predict(items, hits):
        out.append([{"code": p.code, "valence": p.valence, "source": "classifier", "rule_id": None,
                     "evidence": None, "start": None, "end": None, "score": p.score, "threshold": p.threshold,
                     "features": p.features, "codebook_version": self.codebook_version,
                     "model_version": self.version} for p in preds])
    return out


def model_version(model: Model) -> str:
    """A content id of the model: codebook version, training data, settings and library version."""
    import sklearn

    blob = dumps([FORMAT_VERSION, model.codebook_version, model.training_hash, model.settings,
                  sklearn.__version__, sorted(model.thresholds.items()),
                  bool(model.featurizer.rule_codes)])
    return "clf-" + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def model_metadata(model: Model) -> dict[str, Any]:
    """What ``outputs/model/model.json`` records: provenance, thresholds, fall-back codes."""
    import sklearn

    return {
        "format": FORMAT_VERSION,
        "model_version": model.version,
        "codebook_version": model.codebook_version,
        "training_data_hash": model.training_hash,
        "n_examples": model.n_examples,
        "sklearn_version": sklearn.__version__,
        "settings": model.settings,
        "rule_features": bool(model.featurizer.rule_codes),
        "thresholds": {c: model.thresholds[c] for c in sorted(model.thresholds)},
        "threshold_cv": {c: model.threshold_cv[c] for c in sorted(model.threshold_cv)},
        "trained_codes": model.trained_codes,
        "rules_only_codes": {c: model.fallback[c] for c in sorted(model.fallback)},
        "valence_model": model.valence_estimator is not None,
    }


def clear_memory_addresses(model: Model) -> None:
    """scikit-learn caches id(stop_words), a memory address: without this the pickle differs per run."""
    for vectorizer in (model.featurizer.word, model.featurizer.char):
        if hasattr(vectorizer, "_stop_words_id"):
            vectorizer._stop_words_id = None
    cues = model.featurizer.__dict__.get("cues")
    if cues is not None:            # the texts it has coded: not part of the model
        cues.forget()


def save_model(model: Model, directory: str | Path, saved_file: str | Path | None = None) -> None:
    """Write the model (``model.joblib``) and its readable metadata (``model.json``).

    ``saved_file``: the same model as :func:`train_cached` saved it; its bytes are copied (a model
    loaded and dumped again is equal but not always byte-identical).
    """
    import shutil

    import joblib

    from ..jsonio import write_json

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{MODEL_FILE}.tmp"
    if saved_file is not None:
        shutil.copyfile(saved_file, tmp)
    else:
        clear_memory_addresses(model)
        joblib.dump(model, tmp)
    tmp.replace(directory / MODEL_FILE)
    write_json(directory / META_FILE, model_metadata(model))


def load_model(directory: str | Path) -> Model | None:
    """The saved model of ``directory``, or None when there is none."""
    import joblib

    path = Path(directory) / MODEL_FILE
    if not path.exists():
        return None
    try:
        model = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means: retrain
        raise ClassifyError(f"{path}: cannot be loaded ({exc}); rerun the pipeline (kwal run) to retrain.") from exc
    if not isinstance(model, Model):
        raise ClassifyError(f"{path}: not a kwalitatief model; rerun the pipeline (kwal run) to retrain.")
    return model


def stale_reason(model: Model, codebook_version: str | None) -> str | None:
    """Why a saved model no longer fits the codebook, or None."""
    if codebook_version and model.codebook_version and codebook_version != model.codebook_version:
        return (f"the saved model was trained with codebook version {model.codebook_version}, the codebook is "
                f"now {codebook_version}; rerun the pipeline (kwal run) to retrain.")
    return None
