"""Stage conclusions: evaluate each claim of codebook/conclusions.yaml against the codings — measured count
and share, the strongest quantifier the data support, a verdict and the ranked evidence fragments — and how
robust each verdict is (every merge policy, the human decisions alone, a respondent bootstrap, its flip
point and the code-swap test); write outputs/conclusions.json."""

from __future__ import annotations

import logging
import sys
from typing import Any

from _common import register, run_stage, setup, summary

from kwalitatief import paths
from kwalitatief.aggregate import StudyFrame, frame_from_register
from kwalitatief.codebook import CodebookError, load_codebook
from kwalitatief.conclusions import (ConclusionsError, evaluate_conclusions, load_conclusions, parse_quantifiers,
                                     valence_modes)
from kwalitatief.jsonio import read_json, read_jsonl, write_json
from kwalitatief.parallel import Pending, submit_documents
from kwalitatief.robustness import VARIANTS, RobustnessSettings, assess, variant_codings

log = logging.getLogger("kwalitatief.conclusions")


def main() -> None:
    args, params = setup(__doc__)
    reg = register(params)
    settings = params.get("conclusions") or {}
    try:
        codebook = load_codebook(paths.CODEBOOK)
    except CodebookError as exc:
        sys.exit(f"error: {paths.CODEBOOK}: {exc}\nRun `kwal check` for the details.")
    try:
        quantifiers = parse_quantifiers(settings.get("quantifiers"))
        claims = load_conclusions(paths.CONCLUSIONS_INPUT, codebook.code_ids, quantifiers, reg.region_names,
                                  reg.study, sorted(codebook.valenced_codes))
        modes = valence_modes(settings.get("valence"))
        robust = RobustnessSettings.from_params(settings.get("robustness"))
    except ConclusionsError as exc:
        sys.exit(f"error: {exc}")
    for path in (paths.CODINGS, paths.CODINGS_RULE, paths.CODINGS_CLASSIFIER, paths.MODEL_DIR / "model.json"):
        if not path.exists():
            sys.exit(f"error: {path} not found; run the code and classify stages first (kwal run).")
    full = list(read_jsonl(paths.FRAGMENTS, drop=("tokens", "sents")))
    rows = [{k: f.get(k) for k in ("fragment_id", "doc_id", "respondent_id", "text")} for f in full]
    fragments = {f["fragment_id"]: f for f in rows}
    codings = list(read_jsonl(paths.CODINGS))
    frame = frame_from_register(reg, codings, rows, codebook, modes)
    pending, configured = _start_variant_frames(params, reg, codebook, full, rows, modes, args.workers)
    min_population = int(settings.get("min_population", 5))
    results = evaluate_conclusions(claims, frame, fragments, quantifiers, min_population=min_population,
                                   evidence_max=int(settings.get("evidence_per_conclusion", 5)), study=reg.study,
                                   modes=modes)
    computed = pending.result()
    variants = {policy: frame if policy == configured else computed.pop(0) for policy in VARIANTS}
    assess(claims, results, frame, variants, quantifiers, min_population, reg.study, modes, robust, configured)
    write_json(paths.CONCLUSIONS, {
        "conclusions": results,
        "quantifiers": [{"name": q.name, "rule": q.rule(), "description": q.description} for q in quantifiers],
        "min_population": min_population, "valence_modes": modes, "merge_policy": configured,
        "robustness": {"resamples": robust.resamples, "seed": robust.seed, "stable_share": robust.stable_share,
                       "variants": list(variants)},
    })
    for r in results:
        log.info("%-8s %-18s %s %s: %d/%d%s (data: %s) — %s; %s", r["id"], r["verdict"], r["quantifier"], r["unit"],
                 r["n_matching"], r["n_population"], f" = {r['share']:.0%}" if r["share"] is not None else "",
                 r["supported_quantifier"], r["robustness"]["label"], r["flip"]["text"])
    verdicts = [r["verdict"] for r in results]
    flagged = sum(1 for r in results if r["robustness"]["flagged"])
    summary("%d conclusions: %s; %d depend on a choice or a sample", len(results),
            ", ".join(f"{verdicts.count(v)} {v}" for v in dict.fromkeys(sorted(verdicts))) or "none in conclusions.yaml",
            flagged)


_VARIANT_INPUTS: dict[str, Any] = {}   # set before the pool forks: its workers read it, nothing is pickled


def _start_variant_frames(params, reg, codebook, full, rows, modes, workers) -> tuple[Pending[list[StudyFrame]], str]:
    """Start computing the study frame of every variant's codings but the configured merge policy's (those
    are the codings the classify stage wrote) on ``workers`` processes; and the configured policy."""
    from kwalitatief.annotated import project_annotations
    from kwalitatief.classifier.settings import settings as classify_settings
    from kwalitatief.manual import manual_codings
    from kwalitatief.review import apply_project, project_decisions

    cfg = classify_settings(params)
    meta = read_json(paths.MODEL_DIR / "model.json")
    if "trained_codes" not in meta:
        sys.exit(f"error: {paths.MODEL_DIR / 'model.json'} has no trained_codes; rerun the classify stage (kwal run).")
    _annotations, pairs, _problems = project_annotations(".", codebook, full)
    decisions = project_decisions()

    def reviews(rows_):
        return apply_project(rows_, codes=codebook.code_ids, fragments=full, decisions=decisions)[0]

    _VARIANT_INPUTS.update(
        reg=reg, codebook=codebook, rows=rows, modes=modes, trained=meta["trained_codes"],
        valence_from=cfg["valence_from"], manual=manual_codings(pairs, codebook.code_ids), reviews=reviews,
        rule_rows=list(read_jsonl(paths.CODINGS_RULE)), clf_rows=list(read_jsonl(paths.CODINGS_CLASSIFIER)))
    policies = [p for p in VARIANTS if p != cfg["merge_policy"]]
    return submit_documents(_variant_frame, policies, workers, label="merge-policy variants"), cfg["merge_policy"]


def _variant_frame(policy: str) -> StudyFrame:
    """The study frame of one variant's codings (:func:`kwalitatief.robustness.variant_codings`)."""
    v = _VARIANT_INPUTS
    codings = variant_codings(policy, v["rule_rows"], v["clf_rows"], v["trained"], v["valence_from"], v["manual"],
                              v["reviews"])
    return frame_from_register(v["reg"], codings, v["rows"], v["codebook"], v["modes"])


if __name__ == "__main__":
    run_stage(main)
