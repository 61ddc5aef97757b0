"""A classifier that learns the researchers' own coding, next to the explainable rules.

Training data are the manual annotations in ``codebook/annotations/*.jsonl`` (matched to fragments by
document and whitespace-normalised text, pseudonymised or original) plus, when they exist, labels from
review decisions (:class:`LabelRow`). The model is one logistic regression per code on lemma word n-grams
and character n-grams (``char_wb`` 3-5, so that parts of Dutch compounds such as
``samenwerkingsverband`` are shared), optionally with the rule hits as extra features; a separate model
predicts the valence of the codes with valence. Per-code decision thresholds are chosen by cross-validation on the
training data and stored in the model. Everything is seeded: the same data give the same codings.

A code with fewer than ``min_examples`` positive (or negative) training examples gets no model; it is
reported and coded by the rules alone.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from .jsonio import dumps

log = logging.getLogger("kwalitatief.classify")

VALENCES = ("positief", "negatief", "gemengd")
MERGE_POLICIES = ("union", "intersection", "classifier", "rules_only")
VALENCE_SOURCES = ("rule_first", "classifier_first")
MODEL_FILE = "model.joblib"
META_FILE = "model.json"
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


# --------------------------------------------------------------------------------------------
# Training data: annotations, matched to fragments
# --------------------------------------------------------------------------------------------

@dataclass
class Annotation:
    """One line of an annotation file: a fragment's text with the codes a researcher gave it."""

    doc_id: str
    text: str
    codes: dict[str, str | None]      # code -> valence (codes with valence) or None
    coder: str | None
    origin: str                       # "<file>:<line>"


@dataclass
class Example:
    """A labelled fragment. ``labels`` maps a code to True/False; a code not in it is unknown."""

    fragment_id: str
    doc_id: str
    text: str
    lemmas: str
    labels: dict[str, bool]
    valences: dict[str, str] = field(default_factory=dict)   # code with valence -> valence, where known
    origins: list[str] = field(default_factory=list)

    def positives(self) -> list[str]:
        return sorted(code for code, value in self.labels.items() if value)


@dataclass
class LabelRow:
    """One extra label, e.g. from a review decision: fragment ``fragment_id`` has (or lacks) ``code``."""

    fragment_id: str
    code: str
    present: bool
    valence: str | None = None
    origin: str = "review"


def normalise_text(text: str) -> str:
    """Whitespace-normalised, NFC text (the matching key of an annotation)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def loose_key(text: str) -> str:
    """Only lower-case letters and digits: robust to quotes, dashes and hyphenation differences."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).lower() if ch.isalnum())


def load_annotations(directory: str | Path, codes: Sequence[str], valenced: Collection[str] | None = None
                     ) -> tuple[list[Annotation], list[dict[str, Any]]]:
    """All annotation files of ``directory`` (``*.jsonl``, sorted), validated against the codebook.

    A line that cannot be used (bad JSON, missing field, unknown code id) is reported as an error with its
    file and line and left out; a missing valence on a code with valence (``valenced``, from the codebook's
    categories; without it a given valence is taken as meant) is a warning (the code still counts).
    """
    known = set(codes)
    annotations: list[Annotation] = []
    problems: list[dict[str, Any]] = []
    files = sorted(glob.glob(str(Path(directory) / "*.jsonl")))
    if not files:
        problems.append(problem("warning", f"{directory}: no annotation files (*.jsonl); the classifier has "
                                           "no training data and every code falls back to the rules."))
    for path in files:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                ann, issues = _parse_annotation(line, where, known, valenced)
                problems.extend(issues)
                if ann is not None:
                    annotations.append(ann)
    return annotations, problems


def _parse_annotation(line: str, where: str, known: set[str], valenced: Collection[str] | None = None
                      ) -> tuple[Annotation | None, list[dict[str, Any]]]:
    issues: list[dict[str, Any]] = []
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, [problem("error", f"{where}: not valid JSON ({exc.msg} at column {exc.colno}); "
                                       "fix the line, it is not used for training.")]
    if not isinstance(row, dict):
        return None, [problem("error", f"{where}: expected a JSON object with doc_id, text, codes, coder.")]
    doc_id, text, codes = row.get("doc_id"), row.get("text"), row.get("codes")
    if not isinstance(doc_id, str) or not doc_id:
        return None, [problem("error", f"{where}: field 'doc_id' is missing or not a string.")]
    if not isinstance(text, str) or not text.strip():
        return None, [problem("error", f"{where}: field 'text' is missing or empty.", doc_id)]
    if not isinstance(codes, list):
        return None, [problem("error", f"{where}: field 'codes' must be a list (use [] for no code).", doc_id)]
    parsed: dict[str, str | None] = {}
    for item in codes:
        code = item.get("code") if isinstance(item, dict) else item if isinstance(item, str) else None
        if not isinstance(code, str):
            return None, [problem("error", f"{where}: every entry of 'codes' needs a 'code'.", doc_id)]
        if code not in known:
            return None, [problem("error", f"{where}: unknown code id '{code}' (not in the codebook); correct "
                                           "the id or add the code to codebook/codebook.yaml. The line is "
                                           "not used for training.", doc_id)]
        valence = item.get("valence") if isinstance(item, dict) else None
        if (code in valenced) if valenced is not None else (valence is not None):
            if valence not in VALENCES:
                issues.append(problem("warning", f"{where}: {code} has valence {valence!r}; expected one of "
                                                 f"{', '.join(VALENCES)}. The code is used, its valence is not.",
                                      doc_id))
                valence = None
        elif valence is not None:
            issues.append(problem("warning", f"{where}: {code} has no valence (its category declares none); its valence is ignored.",
                                  doc_id))
            valence = None
        parsed[code] = valence
    coder = row.get("coder")
    if not coder:
        issues.append(problem("warning", f"{where}: no 'coder' given.", doc_id))
    return Annotation(doc_id, text, parsed, coder if isinstance(coder, str) else None, where), issues


def original_offset(replacements: Sequence[dict[str, Any]], pos: int) -> int:
    """Map an offset in a pseudonymised text to the original text (``replacements`` sorted by start)."""
    shift = 0
    for rep in replacements:
        if rep["end"] <= pos:
            shift = rep["orig_end"] - rep["end"]
        elif rep["start"] < pos:          # inside a replacement: its end in the original
            return rep["orig_end"]
        else:
            break
    return pos + shift


def original_texts(fragments: Iterable[dict[str, Any]], pseudonymised_dir: str | Path,
                   extracted_dir: str | Path) -> dict[str, str]:
    """The original (un-pseudonymised) text of each fragment whose documents are available."""
    out: dict[str, str] = {}
    docs: dict[str, tuple[list[dict[str, Any]], str] | None] = {}
    for frag in fragments:
        doc_id = frag["doc_id"]
        if doc_id not in docs:
            pseudo = Path(pseudonymised_dir) / f"{doc_id}.json"
            orig = Path(extracted_dir) / f"{doc_id}.json"
            if pseudo.exists() and orig.exists():
                reps = json.loads(pseudo.read_text(encoding="utf-8")).get("replacements") or []
                text = json.loads(orig.read_text(encoding="utf-8"))["text"]
                docs[doc_id] = (sorted(reps, key=lambda r: r["start"]), text)
            else:
                docs[doc_id] = None
        entry = docs[doc_id]
        if entry is None:
            continue
        reps, text = entry
        out[frag["fragment_id"]] = text[original_offset(reps, frag["start"]):original_offset(reps, frag["end"])]
    return out


_TAG = re.compile(r"\[[A-Z][A-Z_]*(?:-\d+)?\]")


def _tag_pattern(text: str) -> re.Pattern[str] | None:
    """For a pseudonymised text with tags: a pattern over loose keys where each tag stands for a name."""
    pieces = _TAG.split(text)
    if len(pieces) == 1:
        return None
    return re.compile("[a-z0-9]{1,80}?".join(re.escape(loose_key(p)) for p in pieces) + r"\Z")


def match_annotations(annotations: Sequence[Annotation], fragments: Sequence[dict[str, Any]],
                      originals: dict[str, str] | None = None
                      ) -> tuple[list[tuple[Annotation, dict[str, Any]]], list[dict[str, Any]]]:
    """Pair each annotation with its fragment; report the ones that match none.

    Tried in order, within the annotation's document: the whitespace-normalised pseudonymised text, the
    original text (``originals``), the letters-and-digits key of either, and the pseudonymised text with
    every tag standing for any name.
    """
    originals = originals or {}
    by_doc: dict[str, list[dict[str, Any]]] = {}
    for frag in fragments:
        by_doc.setdefault(frag["doc_id"], []).append(frag)
    indexes: dict[str, tuple[dict[str, dict], dict[str, dict]]] = {}
    pairs: list[tuple[Annotation, dict[str, Any]]] = []
    problems: list[dict[str, Any]] = []
    for ann in annotations:
        frags = by_doc.get(ann.doc_id)
        if not frags:
            problems.append(problem("error", f"{ann.origin}: document '{ann.doc_id}' has no fragments (not in "
                                             "the corpus register, or it failed to extract); the annotation is "
                                             "not used for training.", ann.doc_id))
            continue
        if ann.doc_id not in indexes:
            exact: dict[str, dict] = {}
            loose: dict[str, dict] = {}
            for frag in frags:
                for text in (frag["text"], originals.get(frag["fragment_id"])):
                    if text:
                        exact.setdefault(normalise_text(text), frag)
                        loose.setdefault(loose_key(text), frag)
            indexes[ann.doc_id] = (exact, loose)
        exact, loose = indexes[ann.doc_id]
        key = loose_key(ann.text)
        frag = exact.get(normalise_text(ann.text)) or loose.get(key)
        if frag is None:
            for candidate in frags:
                pattern = _tag_pattern(candidate["text"])
                if pattern is not None and pattern.match(key):
                    frag = candidate
                    break
        if frag is None:
            snippet = normalise_text(ann.text)[:80]
            problems.append(problem("error", f"{ann.origin}: no fragment of '{ann.doc_id}' has this text "
                                             f"(\"{snippet}…\"); the annotation is not used for training. Copy "
                                             "the paragraph exactly from the document, or remove the line.",
                                    ann.doc_id))
            continue
        pairs.append((ann, frag))
    return pairs, problems


def build_examples(pairs: Sequence[tuple[Annotation, dict[str, Any]]], codes: Sequence[str],
                   fragments: Sequence[dict[str, Any]] = (), extra: Sequence[LabelRow] = ()
                   ) -> tuple[list[Example], list[dict[str, Any]]]:
    """Labelled examples from matched annotations plus extra label rows (e.g. review decisions).

    An annotation labels every code of the codebook (absent codes are negatives). Where two annotations of
    the same fragment (two coders) disagree on a code, that code is unknown for the fragment (reported).
    An extra label overrides the annotation for its (fragment, code) and may label fragments nobody
    annotated (other codes stay unknown).
    """
    problems: list[dict[str, Any]] = []
    examples: dict[str, Example] = {}
    for ann, frag in pairs:
        fid = frag["fragment_id"]
        labels = {code: code in ann.codes for code in codes}
        valences = {c: v for c, v in ann.codes.items() if v}
        if fid in examples:
            previous = examples[fid]
            contested = sorted(c for c in codes if c in previous.labels and previous.labels[c] != labels[c])
            for code in contested:
                del previous.labels[code]
            for code in sorted(set(previous.valences) | set(valences)):
                if previous.valences.get(code) != valences.get(code) and previous.labels.get(code):
                    previous.valences.pop(code, None)
                    contested.append(f"{code} (valence)")
            if contested:
                problems.append(problem("warning", f"{ann.origin}: fragment {fid} is also annotated at "
                                                   f"{previous.origins[0]} and the coders disagree on "
                                                   f"{', '.join(contested)}; those are left out of training and "
                                                   "evaluation for this fragment until the disagreement is "
                                                   "resolved (edit an annotation or review the fragment).",
                                        ann.doc_id, {"fragment_id": fid, "codes": contested}))
            previous.origins.append(ann.origin)
            continue
        examples[fid] = Example(fid, frag["doc_id"], frag["text"], frag.get("lemmas") or "", labels, valences,
                                [ann.origin])
    by_id = {f["fragment_id"]: f for f in fragments}
    known = set(codes)
    for row in extra:
        if row.code not in known:
            problems.append(problem("warning", f"{row.origin}: code '{row.code}' is not in the codebook; the "
                                               "label is not used for training."))
            continue
        example = examples.get(row.fragment_id)
        if example is None:
            frag = by_id.get(row.fragment_id)
            if frag is None:
                problems.append(problem("warning", f"{row.origin}: fragment {row.fragment_id} no longer exists "
                                                   "(its document changed); the label is not used for training."))
                continue
            example = examples[row.fragment_id] = Example(row.fragment_id, frag["doc_id"], frag["text"],
                                                          frag.get("lemmas") or "", {}, {}, [])
        example.labels[row.code] = row.present
        if row.present and row.valence in VALENCES:
            example.valences[row.code] = row.valence
        elif not row.present:
            example.valences.pop(row.code, None)
        example.origins.append(row.origin)
    ordered = [examples[k] for k in sorted(examples)]
    return ordered, problems


def training_data_hash(examples: Sequence[Example]) -> str:
    """A content hash of the labelled training data (text, labels and valences)."""
    digest = hashlib.sha256()
    for ex in sorted(examples, key=lambda e: e.fragment_id):
        digest.update(dumps([ex.fragment_id, normalise_text(ex.text), ex.lemmas, sorted(ex.labels.items()),
                             sorted(ex.valences.items())]).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------------------------

_LEMMA_TAG = re.compile(r"\[?\b([a-z_]+)-\d+\b\]?")
_DIGITS = re.compile(r"\d")


def char_text(text: str) -> str:
    """The text seen by the character n-grams: lower case, tags as their kind, digits as 0."""
    text = _TAG.sub(lambda m: m.group(0)[1:-1].split("-")[0], text)
    return _DIGITS.sub("0", normalise_text(text).lower())


def word_text(lemmas: str) -> str:
    """The lemma string seen by the word n-grams (pseudonym tags as their kind)."""
    return _DIGITS.sub("0", _LEMMA_TAG.sub(r"\1", lemmas.lower()))


class Featurizer:
    """Lemma word n-grams + char_wb n-grams (TF-IDF), plus optional rule-hit indicators."""

    def __init__(self, word_ngrams: Sequence[int], char_ngrams: Sequence[int], min_df: int,
                 rule_codes: Sequence[str] = (), rule_weight: float = 1.0) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.word = TfidfVectorizer(analyzer="word", ngram_range=tuple(word_ngrams), min_df=min_df,
                                    sublinear_tf=True, token_pattern=r"(?u)\b\w[\w'-]*\b", lowercase=False,
                                    dtype=np.float64)
        self.char = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(char_ngrams), min_df=min_df,
                                    sublinear_tf=True, lowercase=False, dtype=np.float64)
        self.rule_codes = list(rule_codes)
        self.rule_weight = float(rule_weight)

    def _texts(self, items: Sequence[Example]) -> tuple[list[str], list[str]]:
        words = [word_text(ex.lemmas) or char_text(ex.text) for ex in items]
        chars = [char_text(ex.text) for ex in items]
        return words, chars

    def fit(self, items: Sequence[Example]) -> "Featurizer":
        words, chars = self._texts(items)
        min_df = self.word.min_df
        if len(items) < 2 * min_df:       # tiny training sets: keep every feature
            self.word.set_params(min_df=1)
            self.char.set_params(min_df=1)
        self.word.fit(words)
        self.char.fit(chars)
        return self

    def transform(self, items: Sequence[Example], rule_hits: Sequence[set[str]] | None = None) -> sp.csr_matrix:
        words, chars = self._texts(items)
        blocks = [self.word.transform(words), char_wb_tfidf(self.char, chars)]
        if self.rule_codes:
            index = {c: i for i, c in enumerate(self.rule_codes)}
            rows, cols = [], []
            for r, hits in enumerate(rule_hits or [set()] * len(items)):
                for code in hits:
                    if code in index:
                        rows.append(r)
                        cols.append(index[code])
            blocks.append(sp.csr_matrix((np.full(len(rows), self.rule_weight), (rows, cols)),
                                        shape=(len(items), len(self.rule_codes))))
        return sp.hstack(blocks, format="csr")


def char_wb_tfidf(vectorizer: Any, texts: Sequence[str]) -> sp.csr_matrix:
    """``vectorizer.transform(texts)`` of a fitted ``char_wb`` TfidfVectorizer (no preprocessing), with the
    n-grams of each distinct word worked out once instead of once per occurrence: the same matrix, about
    three times faster on a corpus (``char_wb`` n-grams never cross a word boundary)."""
    from sklearn.preprocessing import normalize

    if vectorizer.analyzer != "char_wb" or vectorizer.lowercase or vectorizer.strip_accents or vectorizer.binary:
        return vectorizer.transform(texts)
    vocabulary = vectorizer.vocabulary_
    low, high = vectorizer.ngram_range
    per_word: dict[str, list[int]] = {}
    indices: list[int] = []
    indptr = [0]
    for text in texts:
        for word in text.split():
            found = per_word.get(word)
            if found is None:
                found = []
                padded = f" {word} "
                for n in range(low, high + 1):   # as sklearn's _char_wb_ngrams: a short word counts once
                    if len(padded) <= n:
                        found.extend([vocabulary[padded]] if padded in vocabulary else [])
                        break
                    for start in range(len(padded) - n + 1):
                        index = vocabulary.get(padded[start:start + n])
                        if index is not None:
                            found.append(index)
                per_word[word] = found
            indices.extend(found)
        indptr.append(len(indices))
    counts = sp.csr_matrix((np.ones(len(indices), dtype=vectorizer.dtype), np.array(indices, dtype=np.int64),
                            np.array(indptr, dtype=np.int64)), shape=(len(texts), len(vocabulary)))
    counts.sum_duplicates()      # also sorts the indices, as CountVectorizer does
    if vectorizer.sublinear_tf:
        np.log(counts.data, counts.data)
        counts.data += 1.0
    counts.data *= vectorizer.idf_[counts.indices]
    return normalize(counts, norm=vectorizer.norm, copy=False) if vectorizer.norm else counts


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------

@dataclass
class Prediction:
    """A classifier coding of one fragment."""

    code: str
    score: float
    valence: str | None = None


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
    valence_codes: frozenset[str] = frozenset()   # codes whose predictions get a valence (had one in training)

    @property
    def trained_codes(self) -> list[str]:
        return sorted(self.estimators)

    def scores(self, items: Sequence[Example], rule_hits: Sequence[set[str]] | None = None
               ) -> tuple[dict[str, np.ndarray], list[tuple[str | None, float | None]]]:
        """Per-code probabilities and the predicted valence (with its probability) of every item."""
        if not items or not self.estimators:
            return ({c: np.zeros(len(items)) for c in self.estimators},
                    [(self.valence_fallback, None)] * len(items))
        X = self.featurizer.transform(items, rule_hits)
        probs = {code: est.predict_proba(X)[:, 1] for code, est in sorted(self.estimators.items())}
        if self.valence_estimator is not None:
            vp = self.valence_estimator.predict_proba(X)
            classes = list(self.valence_estimator.classes_)
            valences = [(classes[int(np.argmax(row))], float(np.max(row))) for row in vp]
        else:
            valences = [(self.valence_fallback, None)] * len(items)
        return probs, valences

    # coding.code_fragments passes the rule rows of each fragment to predict_fragments when this is set
    wants_rule_rows: ClassVar[bool] = True

    def predict_fragments(self, fragments: Sequence[dict[str, Any]],
                          rule_rows: Sequence[Sequence[dict[str, Any]]] | None = None) -> list[list[dict[str, Any]]]:
        """Classifier coding rows per fragment: the model interface of ``coding.code_fragments``."""
        return fragment_rows(self, fragments, rule_rows)

    def predict(self, items: Sequence[Example], rule_hits: Sequence[set[str]] | None = None
                ) -> list[list[Prediction]]:
        """The codes whose probability reaches their threshold, per item (sorted by code)."""
        probs, valences = self.scores(items, rule_hits)
        out: list[list[Prediction]] = []
        for i in range(len(items)):
            preds = []
            for code in sorted(probs):
                score = float(probs[code][i])
                if score >= self.thresholds[code]:
                    valence = valences[i][0] if code in self.valence_codes else None
                    preds.append(Prediction(code, round(score, 4), valence))
            out.append(preds)
        return out


def _logreg(cfg: dict[str, Any]):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=float(cfg["C"]), class_weight="balanced", solver="liblinear",
                              random_state=int(cfg["seed"]), max_iter=1000)


def choose_threshold(y: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """The threshold with the best (smoothed) F1 of out-of-fold scores; ties go to the one nearest 0.5."""
    grid = np.round(np.arange(0.05, 0.951, 0.025), 3)
    f1s = []
    positives = max(int(y.sum()), 1)
    for t in grid:
        pred = scores >= t
        tp = int((pred & (y == 1)).sum())
        denom = int(pred.sum()) + positives
        f1s.append(2 * tp / denom if denom else 0.0)
    f1 = np.array(f1s)
    smooth = np.convolve(np.pad(f1, 2, mode="edge"), np.ones(5) / 5, mode="valid")
    best = max(range(len(grid)), key=lambda i: (round(smooth[i], 9), -abs(grid[i] - 0.5)))
    return float(grid[best]), float(f1[best])


def train(examples: Sequence[Example], codes: Sequence[str], params: dict[str, Any] | None = None,
          codebook_version: str = "", rule_hits: dict[str, set[str]] | None = None
          ) -> tuple[Model, list[dict[str, Any]]]:
    """Train the per-code models, their thresholds and the valence model on ``examples``.

    ``rule_hits`` maps a fragment id to the codes the rules gave it (used as features when
    ``rule_features`` is on). Returns the model and the problems (codes that fall back to the rules).
    """
    from sklearn.model_selection import StratifiedKFold

    cfg = settings(params)
    examples = sorted(examples, key=lambda e: e.fragment_id)
    problems: list[dict[str, Any]] = []
    use_rules = bool(cfg["rule_features"]) and rule_hits is not None
    featurizer = Featurizer(cfg["word_ngrams"], cfg["char_ngrams"], int(cfg["min_df"]),
                            list(codes) if use_rules else (), float(cfg["rule_weight"]))
    hits = [rule_hits.get(e.fragment_id, set()) for e in examples] if use_rules else None
    estimators: dict[str, Any] = {}
    thresholds: dict[str, float] = {}
    threshold_cv: dict[str, dict[str, float]] = {}
    fallback: dict[str, str] = {}
    min_examples = int(cfg["min_examples"])
    X = None
    if examples:
        featurizer.fit(examples)
        X = featurizer.transform(examples, hits)
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
        Xc = X[idx]
        folds = min(int(cfg["threshold_folds"]), n_pos, n_neg)
        if folds >= 2:
            oof = np.zeros(len(y))
            skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=int(cfg["seed"]))
            for tr, te in skf.split(np.zeros(len(y)), y):
                oof[te] = _logreg(cfg).fit(Xc[tr], y[tr]).predict_proba(Xc[te])[:, 1]
            threshold, f1 = choose_threshold(y, oof)
        else:  # threshold_folds 0: the plain 0.5 (used for the cheaper learning-curve points)
            threshold, f1 = 0.5, float("nan")
        thresholds[code] = threshold
        threshold_cv[code] = {"threshold": threshold, "f1": round(f1, 4), "positives": n_pos, "negatives": n_neg}
        estimators[code] = _logreg(cfg).fit(Xc, y)
    valence_estimator, valence_fallback = _train_valence(examples, X, cfg, problems)
    model = Model(featurizer, estimators, thresholds, valence_estimator, valence_fallback, list(codes), fallback,
                  codebook_version, training_data_hash(examples), _model_settings(cfg), n_examples=len(examples),
                  threshold_cv=threshold_cv,
                  valence_codes=frozenset(c for e in examples for c in e.valences))
    model.version = model_version(model)
    return model, problems


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


def _model_settings(cfg: dict[str, Any]) -> dict[str, Any]:
    keys = ("seed", "min_examples", "C", "word_ngrams", "char_ngrams", "min_df", "rule_features",
            "rule_weight", "threshold_folds")
    return {k: cfg[k] for k in keys}


def model_version(model: Model) -> str:
    """A content id of the model: codebook version, training data, settings and library version."""
    import sklearn

    blob = dumps([FORMAT_VERSION, model.codebook_version, model.training_hash, model.settings,
                  sklearn.__version__, sorted(model.thresholds.items()),
                  bool(model.featurizer.rule_codes)])
    return "clf-" + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


# --------------------------------------------------------------------------------------------
# Saving and loading
# --------------------------------------------------------------------------------------------

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


def _clear_memory_addresses(model: Model) -> None:
    """scikit-learn caches id(stop_words), a memory address: without this the pickle differs per run."""
    for vectorizer in (model.featurizer.word, model.featurizer.char):
        if hasattr(vectorizer, "_stop_words_id"):
            vectorizer._stop_words_id = None


def save_model(model: Model, directory: str | Path, saved_file: str | Path | None = None) -> None:
    """Write the model (``model.joblib``) and its readable metadata (``model.json``).

    ``saved_file``: the same model as :func:`train_cached` saved it; its bytes are copied (a model
    loaded and dumped again is equal but not always byte-identical).
    """
    import shutil

    import joblib

    from .jsonio import write_json

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{MODEL_FILE}.tmp"
    if saved_file is not None:
        shutil.copyfile(saved_file, tmp)
    else:
        _clear_memory_addresses(model)
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


# --------------------------------------------------------------------------------------------
# Codings: classifier rows, and merging them with the rule rows
# --------------------------------------------------------------------------------------------

def fragment_example(frag: dict[str, Any]) -> Example:
    """An unlabelled example of a fragment row (pipeline fragment, or text + tokens from code-file)."""
    lemmas = frag.get("lemmas")
    if lemmas is None:
        lemmas = " ".join(lemma for _, _, lemma in frag.get("tokens") or [] if str(lemma).strip())
    return Example(frag.get("fragment_id") or "", frag.get("doc_id") or "", frag["text"], lemmas, {})


def rule_hits_by_fragment(rule_rows: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    """fragment id -> the codes the rules gave it."""
    hits: dict[str, set[str]] = {}
    for row in rule_rows:
        hits.setdefault(row["fragment_id"], set()).add(row["code"])
    return hits


def fragment_rows(self: Model, fragments: Sequence[dict[str, Any]],
                       rule_rows: Sequence[Sequence[dict[str, Any]]] | None = None) -> list[list[dict[str, Any]]]:
    """The classifier's coding rows of each fragment (the model side of ``coding.code_fragments``).

    ``rule_rows`` are the rule codings of each fragment (their codes are features when the model was
    trained with ``rule_features``). Rows: code, valence, source="classifier", rule_id/evidence/start/end
    None, score, codebook_version, model_version.
    """
    items = [fragment_example(f) for f in fragments]
    hits = [{r["code"] for r in rows if r.get("source", "rule") == "rule"} for rows in rule_rows] \
        if rule_rows is not None else [set() for _ in items]
    out = []
    for preds in self.predict(items, hits):
        out.append([{"code": p.code, "valence": p.valence, "source": "classifier", "rule_id": None,
                     "evidence": None, "start": None, "end": None, "score": p.score,
                     "codebook_version": self.codebook_version, "model_version": self.version} for p in preds])
    return out


def classifier_rows(model: Model, fragments: Sequence[dict[str, Any]],
                    rule_hits: dict[str, set[str]] | None = None) -> list[dict[str, Any]]:
    """The classifier's codings of pipeline fragments (rows of ``codings_classifier.jsonl``)."""
    rule_rows = [[{"code": c} for c in sorted((rule_hits or {}).get(f["fragment_id"], ()))] for f in fragments]
    rows = []
    for frag, preds in zip(fragments, model.predict_fragments(fragments, rule_rows)):
        rows.extend({"fragment_id": frag["fragment_id"], **row} for row in preds)
    return rows


def merge_fragment_rows(rows: Sequence[dict[str, Any]], model: Model | None, policy: str = "union",
                        valence_from: str = "rule_first") -> list[dict[str, Any]]:
    """Merge one fragment's rule and classifier rows (as ``code_fragments`` returns them) by ``policy``."""
    rule = [{**r, "fragment_id": ""} for r in rows if r.get("source") == "rule"]
    clf = [{**r, "fragment_id": ""} for r in rows if r.get("source") == "classifier"]
    merged = merge_codings(rule, clf, policy, model.trained_codes if model else (), valence_from,
                           model_version=model.version if model else None)
    for row in merged:
        del row["fragment_id"]
    return merged


def merge_codings(rule_rows: Iterable[dict[str, Any]], clf_rows: Iterable[dict[str, Any]],
                  policy: str = "union", trained_codes: Iterable[str] = (), valence_from: str = "rule_first",
                  codebook_version: str | None = None, model_version: str | None = None) -> list[dict[str, Any]]:
    """The merged codings (rows of ``codings.jsonl``), one per (fragment, code), with provenance.

    Policies, for the codes the classifier has a model for (``trained_codes``): ``union`` keeps a code
    found by either; ``intersection`` only one found by both; ``classifier`` the classifier's decision;
    ``rules_only`` the rules' decision. Codes without a model always follow the rules.
    """
    if policy not in MERGE_POLICIES:
        raise ClassifyError(f"merge policy '{policy}' is not one of {', '.join(MERGE_POLICIES)}.")
    trained = set(trained_codes)
    rules = {(r["fragment_id"], r["code"]): r for r in rule_rows}
    clf = {(r["fragment_id"], r["code"]): r for r in clf_rows}
    merged = []
    for key in sorted(set(rules) | set(clf)):
        rule, cls = rules.get(key), clf.get(key)
        code = key[1]
        if code not in trained or policy == "rules_only":
            keep = rule is not None
        elif policy == "union":
            keep = True
        elif policy == "intersection":
            keep = rule is not None and cls is not None
        else:   # classifier
            keep = cls is not None
        if not keep:
            continue
        if code not in trained or policy == "rules_only":
            cls = None
        sources = "+".join(name for name, row in (("rule", rule), ("classifier", cls)) if row is not None)
        valence = None
        if any(row is not None and row.get("valence") for row in (rule, cls)):   # codes with valence only
            order = (rule, cls) if valence_from == "rule_first" else (cls, rule)
            valence = next((row["valence"] for row in order if row is not None and row.get("valence")), None)
        merged.append({
            "fragment_id": key[0], "code": code, "valence": valence, "sources": sources,
            "rule_id": rule["rule_id"] if rule else None,
            "evidence": rule.get("evidence") if rule else None,
            "start": rule.get("start") if rule else None,
            "end": rule.get("end") if rule else None,
            "score": cls["score"] if cls else None,
            "status": "unreviewed", "reviewer": None,
            "codebook_version": codebook_version or (rule or cls or {}).get("codebook_version"),
            "model_version": (cls.get("model_version") or model_version) if cls else None,
        })
    return merged


def stale_reason(model: Model, codebook_version: str | None) -> str | None:
    """Why a saved model no longer fits the codebook, or None."""
    if codebook_version and model.codebook_version and codebook_version != model.codebook_version:
        return (f"the saved model was trained with codebook version {model.codebook_version}, the codebook is "
                f"now {codebook_version}; rerun the pipeline (kwal run) to retrain.")
    return None


# --------------------------------------------------------------------------------------------
# The project: what the classify stage does, as a library function (testable without DVC)
# --------------------------------------------------------------------------------------------

@dataclass
class ProjectTraining:
    """Everything the classify stage computed (before writing it)."""

    model: Model
    problems: list[dict[str, Any]]
    examples: list[Example]
    codes: list[str]
    rule_preds: dict[str, dict[str, str | None]]
    classifier_rows: list[dict[str, Any]]
    merged_rows: list[dict[str, Any]]
    n_fragments: int
    fragments: list[dict[str, Any]] = field(default_factory=list)   # without their token rows
    cache: dict[str, int] = field(default_factory=dict)             # model / document cache use
    model_file: Path | None = None                                  # the cached model file, if any
    annotation_pairs: list[tuple[Annotation, dict[str, Any]]] = field(default_factory=list)  # matched annotations


def _root_path(root: str | Path, path: str | Path) -> Path:
    path = Path(path)
    return path if path.is_absolute() else Path(root) / path


def codebook_path(params: dict[str, Any] | None) -> Path:
    """The codebook file named in params (``codebook``, ``code.codebook``), default codebook/codebook.yaml."""
    params = params or {}
    value = params.get("codebook")
    if isinstance(value, dict):
        value = value.get("path")
    value = value or (params.get("code") or {}).get("codebook")
    return Path(value or "codebook/codebook.yaml")


def review_labels(root: str | Path, fragments: Sequence[dict[str, Any]]
                  ) -> tuple[list[LabelRow], list[dict[str, Any]]]:
    """Labels from the review decisions (``codebook/reviews.jsonl``), when that file exists.

    Reading and resolving decisions belongs to the review module: it must offer
    ``training_labels(path, fragments) -> list[LabelRow]`` (latest decision per fragment and code;
    accept/add/change valence give a present code, reject an absent one).
    """
    from . import paths

    path = _root_path(root, paths.REVIEWS)
    if not path.exists():
        return [], []
    try:
        from .review import training_labels  # type: ignore[attr-defined]
    except ImportError:
        return [], [problem("warning", f"{path}: review decisions exist but this version cannot read them "
                                       "(no kwalitatief.review.training_labels); they are not used for "
                                       "training.")]
    return list(training_labels(path, fragments)), []


def train_from_project(params: dict[str, Any] | None, root: str | Path = ".",
                       extra_labels: Sequence[LabelRow] | None = None, workers: int | None = 1,
                       cache_dir: str | Path | None = None) -> ProjectTraining:
    """Train on the project's annotations (+ review labels + ``extra_labels``) and code its fragments.

    Reads the codebook, ``outputs/work/fragments.jsonl``, the rule codings of the code stage and the
    annotation files; returns the model, the classifier and merged codings and the problems found.
    With ``cache_dir``, a model trained on the same data and settings is reused, and so are the
    classifier codings of every document whose fragments and rule hits did not change; the others are
    coded in ``workers`` processes (the results do not depend on either).
    """
    from . import paths
    from .codebook import CodebookError, load_codebook
    from .jsonio import read_jsonl

    cfg = settings(params)
    cb_path = _root_path(root, codebook_path(params))
    try:
        codebook = load_codebook(cb_path)
    except CodebookError as exc:
        raise ClassifyError(f"the codebook has errors (run 'kwal check'):\n{exc}") from exc
    codes = codebook.code_ids
    fragments_path = _root_path(root, paths.FRAGMENTS)
    if not fragments_path.exists():
        raise ClassifyError(f"{fragments_path}: not found; run the segment stage first (kwal run).")
    fragments = list(read_jsonl(fragments_path, drop=("tokens", "sents")))
    rule_path = _root_path(root, getattr(paths, "CODINGS_RULE", paths.WORK / "codings_rule.jsonl"))
    if not rule_path.exists():
        raise ClassifyError(f"{rule_path}: not found; run the code stage first (kwal run).")
    rule_rows = list(read_jsonl(rule_path))
    rule_preds: dict[str, dict[str, str | None]] = {}
    for row in rule_rows:
        rule_preds.setdefault(row["fragment_id"], {})[row["code"]] = row.get("valence")

    annotations, problems = load_annotations(_root_path(root, paths.ANNOTATIONS_DIR), codes, codebook.valenced_codes)
    annotated = {ann.doc_id for ann in annotations}
    originals = original_texts([f for f in fragments if f["doc_id"] in annotated],
                               _root_path(root, paths.PSEUDONYMISED_DIR), _root_path(root, paths.EXTRACTED_DIR))
    pairs, match_problems = match_annotations(annotations, fragments, originals)
    problems.extend(match_problems)
    reviews, review_problems = review_labels(root, fragments)
    problems.extend(review_problems)
    examples, example_problems = build_examples(pairs, codes, fragments, list(reviews) + list(extra_labels or []))
    problems.extend(example_problems)
    log.info("training data: %d annotation lines, %d matched to fragments, %d labelled fragments "
             "(%d review labels)", len(annotations), len(pairs), len(examples), len(reviews))

    hits = {fid: set(p) for fid, p in rule_preds.items()}
    model, train_problems, model_file, reused = train_cached(examples, codes, params, codebook.version, hits,
                                                            cache_dir)
    problems.extend(train_problems)
    codable = [f for f in fragments if f.get("codable", True)]
    clf_rows, stats = classify_documents(model, codable, hits, workers, cache_dir)
    merged = merge_codings(rule_rows, clf_rows, cfg["merge_policy"], model.trained_codes, cfg["valence_from"],
                           codebook.version, model.version)
    return ProjectTraining(model, problems, examples, codes, rule_preds, clf_rows, merged, len(codable),
                           fragments, {"model_reused": int(reused), **stats}, model_file, pairs)


def _training_key(examples: Sequence[Example], codes: Sequence[str], cfg: dict[str, Any], codebook_version: str,
                  rule_hits: dict[str, set[str]] | None) -> str:
    """What a trained model depends on: data, labels, rule hits of the examples, settings, code, sklearn."""
    import sys

    import sklearn

    from .cache import DocumentCache, source_fingerprint

    examples = sorted(examples, key=lambda e: e.fragment_id)
    hits = [sorted((rule_hits or {}).get(e.fragment_id, ())) for e in examples] if rule_hits is not None else None
    return DocumentCache.key(FORMAT_VERSION, sklearn.__version__, source_fingerprint(sys.modules[__name__]),
                             codebook_version, list(codes), _model_settings(cfg), training_data_hash(examples),
                             [[e.fragment_id, sorted(e.origins)] for e in examples], hits)


def train_cached(examples: Sequence[Example], codes: Sequence[str], params: dict[str, Any] | None,
                 codebook_version: str, rule_hits: dict[str, set[str]] | None,
                 cache_dir: str | Path | None) -> tuple[Model, list[dict[str, Any]], Path | None, bool]:
    """:func:`train`, or the model trained earlier on exactly the same inputs.

    Returns the model, its problems, (with ``cache_dir``) the cached model file, whose bytes
    :func:`save_model` copies so that ``outputs/model/model.joblib`` is the same file either way, and
    whether the model was reused.
    """
    import joblib

    from .jsonio import read_json, write_json

    cfg = settings(params)
    if cache_dir is None:
        return (*train(examples, codes, params, codebook_version, rule_hits), None, False)
    key = _training_key(examples, codes, cfg, codebook_version, rule_hits)
    path = Path(cache_dir) / "classify" / f"model-{key}.joblib"
    problems_path = path.with_suffix(".problems.json")
    if path.exists() and problems_path.exists():
        try:
            model = joblib.load(path)
            if isinstance(model, Model):
                return model, read_json(problems_path), path, True
        except Exception:  # noqa: BLE001 - a broken cache entry is retrained
            log.warning("cached model %s is unreadable; training again", path)
    model, problems = train(examples, codes, params, codebook_version, rule_hits)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    _clear_memory_addresses(model)
    joblib.dump(model, tmp)
    tmp.replace(path)
    write_json(problems_path, problems)
    return model, problems, path, False


def _slim_fragment(frag: dict[str, Any]) -> dict[str, Any]:
    return {"fragment_id": frag["fragment_id"], "doc_id": frag.get("doc_id"), "text": frag["text"],
            "lemmas": frag.get("lemmas")}


def _classify_group(job: tuple[Model, list[tuple[list[dict[str, Any]], dict[str, set[str]]]]]
                    ) -> list[list[dict[str, Any]]]:
    """The classifier rows of each document of a group, predicted in one batch: scikit-learn's checks per
    call made 800 calls of a few fragments three times slower than one call (rows do not depend on the
    batch: every fragment is featurised and scored on its own)."""
    model, docs = job
    hits: dict[str, set[str]] = {}
    for _, doc_hits in docs:
        hits.update(doc_hits)
    rows_of: dict[str, list[dict[str, Any]]] = {}
    for row in classifier_rows(model, [f for frags, _ in docs for f in frags], hits):
        rows_of.setdefault(row["fragment_id"], []).append(row)
    return [[row for f in frags for row in rows_of.get(f["fragment_id"], ())] for frags, _ in docs]


def classify_documents(model: Model, fragments: Sequence[dict[str, Any]], rule_hits: dict[str, set[str]],
                       workers: int | None = 1, cache_dir: str | Path | None = None,
                       executor: str = "process") -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The classifier codings of ``fragments``, per document cached and in parallel (same rows as
    :func:`classifier_rows` on all of them at once). Returns (rows, {documents_reused, documents_coded})."""
    from .cache import DocumentCache
    from .parallel import map_groups

    cache = DocumentCache(cache_dir, "classify")
    by_doc: dict[str, list[dict[str, Any]]] = {}
    for frag in fragments:
        by_doc.setdefault(frag.get("doc_id") or "", []).append(_slim_fragment(frag))
    results: dict[str, list[dict[str, Any]]] = {}
    todo: list[tuple[str, str, list[dict[str, Any]], dict[str, set[str]]]] = []
    for doc_id, frags in by_doc.items():
        hits = {f["fragment_id"]: rule_hits[f["fragment_id"]] for f in frags if f["fragment_id"] in rule_hits}
        key = cache.key(model.version, frags, sorted((fid, sorted(h)) for fid, h in hits.items()))
        cached = cache.get(key)
        if cached is not None:
            results[doc_id] = cached
        else:
            todo.append((doc_id, key, frags, hits))
    sizes = [sum(len(f["text"]) for f in frags) for _, _, frags, _ in todo]
    coded = map_groups(_classify_group, model, [job[2:] for job in todo], sizes, workers, executor)
    for (doc_id, key, _, _), rows in zip(todo, coded):
        cache.put(key, rows)
        results[doc_id] = rows
    out = [row for doc_id in by_doc for row in results[doc_id]]
    return out, {"documents_reused": cache.hits, "documents_coded": cache.misses}


def evaluate_project(result: ProjectTraining, params: dict[str, Any] | None, workers: int | None = 1,
                     cache_dir: str | Path | None = None
                     ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Cross-validate on the project's labelled fragments: metrics, F1 plot rows, learning-curve rows.

    With ``cache_dir``, the cross-validation of exactly the same labelled fragments, rule codings of
    them and settings is reused (it does not depend on the other fragments).
    """
    import sys

    import sklearn

    from . import evaluate
    from .cache import DocumentCache, source_fingerprint
    from .evaluate import cross_validate, f1_plot_rows, learning_curve_rows, metrics_document

    provenance = {"codebook_version": result.model.codebook_version,
                  "training_data_hash": result.model.training_hash,
                  "model_version": result.model.version,
                  "rules_only_codes": sorted(result.model.fallback)}
    if len(result.examples) < 10:
        message = (f"only {len(result.examples)} labelled fragments: too few for cross-validation; "
                   "metrics are not computed. Annotate more fragments in codebook/annotations/.")
        return ({"n_annotations": len(result.examples), **provenance}, [], [],
                [problem("warning", message)])
    rule_preds = {e.fragment_id: result.rule_preds.get(e.fragment_id, {}) for e in result.examples}
    cache = DocumentCache(cache_dir, "evaluate")
    key = cache.key(FORMAT_VERSION, sklearn.__version__, source_fingerprint(sys.modules[__name__], evaluate),
                    settings(params), list(result.codes), training_data_hash(result.examples),
                    sorted(rule_preds.items()))
    cv = cache.get(key)
    if cv is None:
        cv = cross_validate(result.examples, result.codes, params, rule_preds, workers)
        cache.put(key, cv)
    else:
        log.info("cross-validation: reused (same labelled fragments, rule codings of them and settings)")
    return (metrics_document(cv, result.codes, provenance), f1_plot_rows(cv, result.codes),
            learning_curve_rows(cv), [])


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
