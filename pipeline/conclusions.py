"""Stage conclusions: evaluate each claim of codebook/conclusions.yaml against the codings — measured count
and share, the strongest quantifier the data support, a verdict and the ranked evidence fragments —
and write outputs/conclusions.json."""

from __future__ import annotations

import logging
import sys

from _common import register, run_stage, setup, summary

from kwalitatief import paths
from kwalitatief.aggregate import frame_from_register
from kwalitatief.codebook import CodebookError, load_codebook
from kwalitatief.conclusions import ConclusionsError, evaluate_conclusions, load_conclusions, parse_quantifiers
from kwalitatief.jsonio import read_jsonl, write_json

log = logging.getLogger("kwalitatief.conclusions")


def main() -> None:
    _args, params = setup(__doc__)
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
    except ConclusionsError as exc:
        sys.exit(f"error: {exc}")
    if not paths.CODINGS.exists():
        sys.exit(f"error: {paths.CODINGS} not found; run the classify stage first (kwal run).")
    rows = [{k: f.get(k) for k in ("fragment_id", "doc_id", "respondent_id", "text")}
            for f in read_jsonl(paths.FRAGMENTS)]
    fragments = {f["fragment_id"]: f for f in rows}
    frame = frame_from_register(reg, read_jsonl(paths.CODINGS), rows, codebook)
    results = evaluate_conclusions(claims, frame, fragments, quantifiers,
                                   min_population=int(settings.get("min_population", 5)),
                                   evidence_max=int(settings.get("evidence_per_conclusion", 5)), study=reg.study)
    write_json(paths.CONCLUSIONS, {
        "conclusions": results,
        "quantifiers": [{"name": q.name, "rule": q.rule(), "description": q.description} for q in quantifiers],
        "min_population": int(settings.get("min_population", 5)),
    })
    for r in results:
        log.info("%-8s %-18s %s %s: %d/%d%s (data: %s)", r["id"], r["verdict"], r["quantifier"], r["unit"],
                 r["n_matching"], r["n_population"], f" = {r['share']:.0%}" if r["share"] is not None else "",
                 r["supported_quantifier"])
    verdicts = [r["verdict"] for r in results]
    summary("%d conclusions: %s", len(results),
            ", ".join(f"{verdicts.count(v)} {v}" for v in dict.fromkeys(sorted(verdicts))) or "none in conclusions.yaml")


if __name__ == "__main__":
    run_stage(main)
