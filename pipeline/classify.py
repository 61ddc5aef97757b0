"""Stage classify: train the classifier on the researchers' annotations, code every fragment with it,
merge its codings with the rule codings, and evaluate rules, classifier and merged by cross-validation."""

from __future__ import annotations

import csv
import io
import logging
import sys

from _common import run_stage, setup

from kwalitatief import paths
from kwalitatief.jsonio import atomic_write_text, read_jsonl, write_json, write_jsonl

log = logging.getLogger("kwalitatief.classify")


def _csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return buffer.getvalue()


def main() -> None:
    args, params = setup(__doc__)
    from kwalitatief.classify import ClassifyError, settings, train_from_project

    try:
        cfg = settings(params)
        result = train_from_project(params, workers=args.workers, cache_dir=paths.CACHE)
    except ClassifyError as exc:
        sys.exit(f"error: {exc}")
    model, problems = result.model, result.problems

    paths.MODEL_DIR.mkdir(parents=True, exist_ok=True)
    from kwalitatief.classify import save_model

    save_model(model, paths.MODEL_DIR, result.model_file)
    write_jsonl(paths.CODINGS_CLASSIFIER, result.classifier_rows)
    # review decisions (codebook/reviews.jsonl): a human decision always overrides the machine
    from kwalitatief.review import apply_project

    # a researcher's annotation is a coding of its fragment (source annotation), and wins over the machine
    from kwalitatief.manual import apply_annotations, manual_codings

    annotated = apply_annotations(result.merged_rows, manual_codings(result.annotation_pairs, result.codes),
                                  model.codebook_version)
    merged_rows, review_problems = apply_project(annotated, codes=result.codes, fragments=result.fragments)
    write_jsonl(paths.problems_file("review"), review_problems)
    write_jsonl(paths.CODINGS, merged_rows)
    for p in review_problems:
        log.warning("%s", p["message"])
    log.info("classifier: %d codings of %d fragments (%d codes with a model, %d by the rules only); "
             "merged (%s): %d codings", len(result.classifier_rows), result.n_fragments,
             len(model.trained_codes), len(model.fallback), cfg["merge_policy"], len(merged_rows))
    log.info("cache: %d reused, %d new documents; model %s", result.cache["documents_reused"],
             result.cache["documents_coded"], "reused" if result.cache["model_reused"] else "trained")
    for code, reason in sorted(model.fallback.items()):
        log.warning("code %s is coded by the rules only: %s", code, reason)

    from kwalitatief.classify import evaluate_project

    metrics, f1_rows, curve_rows, eval_problems = evaluate_project(result, params, args.workers, paths.CACHE)
    problems.extend(eval_problems)
    write_json(paths.METRICS_DETAIL, metrics)
    write_json(paths.METRICS, {k: v for k, v in metrics.items()
                               if k not in ("per_code", "merge_policies", "learning_curve")})
    atomic_write_text(paths.PLOT_F1_PER_CODE, _csv(f1_rows))
    atomic_write_text(paths.PLOT_LEARNING_CURVE, _csv(curve_rows))
    write_jsonl(paths.problems_file("classify"), problems)
    for p in problems:
        if p["severity"] == "error":
            log.error("%s", p["message"])
    if metrics.get("n_annotations") and "rules" in metrics:   # too few annotations: no cross-validation
        for system in ("rules", "classifier", "merged"):
            m = metrics[system]
            log.info("cross-validated %-10s micro F1 %.3f  macro F1 %.3f  mean kappa %.3f", system,
                     m["micro_f1"], m["macro_f1"], m["mean_kappa"])
    log.info("problems: %d (see %s); metrics: %s", len(problems), paths.problems_file("classify"), paths.METRICS)


if __name__ == "__main__":
    run_stage(main)
