"""Stage classify: train the classifier on the researchers' annotations, code every fragment with it,
merge its codings with the rule codings, and evaluate rules, classifier and merged by cross-validation."""

from __future__ import annotations

import csv
import io
import logging
import sys

from _common import run_stage, setup, summary

from kwalitatief import paths
from kwalitatief.jsonio import atomic_write_text, write_json, write_jsonl_dir, write_problems
from kwalitatief.keyscan import project_redactor
from kwalitatief.segment import document_of

log = logging.getLogger("kwalitatief.classify")


def _csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return buffer.getvalue()


def _document(row: dict) -> str:
    """Codings are written one file per document (outputs/work/codings/<doc_id>.jsonl)."""
    return document_of(row["fragment_id"])


def main() -> None:
    args, params = setup(__doc__)
    from kwalitatief.classify import ClassifyError, settings, train_from_project

    try:
        cfg = settings(params)
        result = train_from_project(params, workers=args.workers, cache_dir=paths.CACHE, evaluate=True)
    except ClassifyError as exc:
        sys.exit(f"error: {exc}")
    model, problems = result.model, result.problems
    # problems quote annotations and review decisions, researcher files that may hold original names:
    # everything written outside outputs/private/ quotes them pseudonymised with the run's key
    redactor = project_redactor()

    paths.MODEL_DIR.mkdir(parents=True, exist_ok=True)
    from kwalitatief.classifier.model import save_model

    save_model(model, paths.MODEL_DIR, result.model_file)
    write_jsonl_dir(paths.CODINGS_CLASSIFIER, result.classifier_rows, _document)
    # review decisions (codebook/reviews.jsonl): a human decision always overrides the machine
    from kwalitatief.review import apply_project

    # a researcher's annotation is a coding of its fragment (source annotation), and wins over the machine
    from kwalitatief.manual import apply_annotations, manual_codings

    annotated = apply_annotations(result.merged_rows, manual_codings(result.annotation_pairs, result.codes),
                                  model.codebook_version)
    merged_rows, review_problems = apply_project(annotated, codes=result.codes, fragments=result.fragments)
    review_problems = redactor.redact_problems(review_problems)
    write_problems(paths.problems_file("review"), review_problems)
    write_jsonl_dir(paths.CODINGS, merged_rows, _document)
    for p in review_problems:
        log.warning("%s", p["message"])
    log.info("classifier: %d codings of %d fragments (%d codes with a model, %d by the rules only); "
             "merged (%s): %d codings", len(result.classifier_rows), result.n_fragments,
             len(model.trained_codes), len(model.fallback), cfg["merge_policy"], len(merged_rows))
    log.info("cache: %d reused, %d new documents; model %s", result.cache["documents_reused"],
             result.cache["documents_coded"], "reused" if result.cache["model_reused"] else "trained")
    for code, reason in sorted(model.fallback.items()):
        log.warning("code %s is coded by the rules only: %s", code, reason)

    from kwalitatief.evaluate import evaluate_project

    metrics, f1_rows, curve_rows, eval_problems = evaluate_project(result, params, args.workers, paths.CACHE)
    problems = redactor.redact_problems(problems + eval_problems)
    write_json(paths.METRICS_DETAIL, metrics)
    write_json(paths.METRICS, {k: v for k, v in metrics.items()
                               if k not in ("per_code", "merge_policies", "learning_curve")})
    atomic_write_text(paths.PLOT_F1_PER_CODE, _csv(f1_rows))
    atomic_write_text(paths.PLOT_LEARNING_CURVE, _csv(curve_rows))
    write_problems(paths.problems_file("classify"), problems)
    for p in problems:
        if p["severity"] == "error":
            log.error("%s", p["message"])
    if all(system in metrics for system in ("rules", "classifier", "merged")):   # too few labels: no cv
        for system in ("rules", "classifier", "merged"):
            m = metrics[system]
            log.info("cross-validated %-10s micro F1 %.3f  macro F1 %.3f  mean kappa %.3f", system,
                     m["micro_f1"], m["macro_f1"], m["mean_kappa"])
    log.info("problems: %d (see %s); metrics: %s", len(problems), paths.problems_file("classify"), paths.METRICS)
    summary("%d codings (merge policy %s)%s", len(merged_rows), cfg["merge_policy"],
            f"; cross-validated micro F1 merged {metrics['merged']['micro_f1']:.3f}" if "merged" in metrics else "")


if __name__ == "__main__":
    run_stage(main)
