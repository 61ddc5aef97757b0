"""The classify stage as a library function (testable without DVC): train the classifier on the
project's annotations and review decisions, code its fragments, and merge with the rule codings.

Training data are the manual annotations in ``codebook/annotations/*.jsonl`` (matched to fragments by
document and whitespace-normalised text, pseudonymised or original) plus, when they exist, labels from
review decisions. The parts live in :mod:`kwalitatief.classifier`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .annotated import project_annotations, root_path as _root_path  # noqa: F401 - re-exported
from .classifier.cached import classify_documents, train_cached
from .classifier.cues import CueFamilies
from .classifier.examples import Example, LabelRow, build_examples
from .classifier.merge import merge_codings
from .classifier.model import Model
from .classifier.settings import ClassifyError, problem, settings
from .classifier.standalone import codebook_texts, load_training_texts
from .config import codebook_path  # noqa: F401 - re-exported

log = logging.getLogger("kwalitatief.classify")


@dataclass
class ProjectTraining:
    """Everything the classify stage computed (before writing it)."""

    model: Model
    problems: list[dict[str, Any]]
    examples: list[Example]           # the labelled corpus fragments (what cross-validation tests on)
    codes: list[str]
    rule_preds: dict[str, dict[str, str | None]]
    classifier_rows: list[dict[str, Any]]
    merged_rows: list[dict[str, Any]]
    n_fragments: int
    fragments: list[dict[str, Any]] = field(default_factory=list)   # without their token rows
    cache: dict[str, int] = field(default_factory=dict)             # model / document cache use
    model_file: Path | None = None                                  # the cached model file, if any
    standalone: list[Example] = field(default_factory=list)         # codebook and codebook/training texts
    standalone_hits: dict[str, set[str]] = field(default_factory=dict)
    annotation_pairs: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)   # matched annotations
    cues: CueFamilies | None = None                                 # the codebook's cue families
    evaluation: Any = None          # the cross-validation started before training (evaluate.Evaluation), if asked


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
                       cache_dir: str | Path | None = None, evaluate: bool = False) -> ProjectTraining:
    """Train on the project's annotations (+ review labels + ``extra_labels``) and code its fragments.

    Reads the codebook, ``outputs/work/fragments.jsonl``, the rule codings of the code stage and the
    annotation files; returns the model, the classifier and merged codings and the problems found.
    With ``cache_dir``, a model trained on the same data and settings is reused, and so are the
    classifier codings of every document whose fragments and rule hits did not change; the others are
    coded in ``workers`` processes (the results do not depend on either). With ``evaluate``, the
    cross-validation (:func:`kwalitatief.evaluate.start_evaluation`) is started before training, in a pool
    of its own, so that it uses the core that training one model leaves idle (``result.evaluation``).
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

    annotations, pairs, problems = project_annotations(root, codebook, fragments)
    reviews, review_problems = review_labels(root, fragments)
    problems.extend(review_problems)
    examples, example_problems = build_examples(pairs, codes, fragments, list(reviews) + list(extra_labels or []))
    problems.extend(example_problems)
    log.info("training data: %d annotation lines, %d matched to fragments, %d labelled fragments "
             "(%d review labels)", len(annotations), len(pairs), len(examples), len(reviews))

    hits = {fid: set(p) for fid, p in rule_preds.items()}
    standalone, standalone_hits, standalone_problems = standalone_training(params, root, codebook, cache_dir)
    problems.extend(standalone_problems)
    cues = CueFamilies.of_codebook(codebook)
    evaluation = None
    if evaluate:
        from .evaluate import start_evaluation

        evaluation = start_evaluation(examples, codes, rule_preds, standalone, standalone_hits, cues, params,
                                      workers, cache_dir)
    try:
        model, train_problems, model_file, reused = train_cached(examples + standalone, codes, params,
                                                                codebook.version, {**hits, **standalone_hits},
                                                                cache_dir, cues)
        problems.extend(train_problems)
        codable = [f for f in fragments if f.get("codable", True)]
        clf_rows, stats = classify_documents(model, codable, hits, workers, cache_dir)
    except BaseException:
        if evaluation is not None:
            evaluation.cancel()
        raise
    merged = merge_codings(rule_rows, clf_rows, cfg["merge_policy"], model.trained_codes, cfg["valence_from"],
                           codebook.version, model.version)
    return ProjectTraining(model, problems, examples, codes, rule_preds, clf_rows, merged, len(codable),
                           fragments, {"model_reused": int(reused), **stats}, model_file, standalone,
                           standalone_hits, pairs, cues, evaluation)


def standalone_training(params: dict[str, Any] | None, root: str | Path, codebook: Any,
                        cache_dir: str | Path | None = None
                        ) -> tuple[list[Example], dict[str, set[str]], list[dict[str, Any]]]:
    """The free-standing training texts the settings ask for (``classify.codebook_knowledge``, the files of
    ``classify.training_dir``), as examples with their rule hits, and the problems of those files (with
    ``cache_dir``, unchanged texts are not tokenised and rule-coded again)."""
    cfg = settings(params)
    texts = codebook_texts(codebook, cfg["codebook_knowledge"]) if cfg["codebook_knowledge"] else []
    texts_from_files, problems = load_training_texts(_root_path(root, cfg["training_dir"]), codebook.code_ids,
                                                     codebook.valenced_codes)
    texts += texts_from_files
    if not texts:
        return [], {}, problems
    from .classifier.cached import standalone_cached

    model = ((params or {}).get("nlp") or {}).get("model", "nl_core_news_sm")
    examples, hits = standalone_cached(texts, codebook, model, cache_dir)
    log.info("free-standing training texts: %d (%d from the codebook)", len(examples), len(texts) - len(texts_from_files))
    return examples, hits, problems
