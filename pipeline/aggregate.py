"""Stage aggregate: per code × region / respondent type / document type, who and where carries each code
(distinct respondents, documents, fragments, shares, valence split) and code co-occurrence.
Writes outputs/aggregates/*.csv and outputs/aggregates.xlsx; the report stage loads them into the database."""

from __future__ import annotations

import logging
import sys

from _common import register, run_stage, setup, summary

from kwalitatief import paths
from kwalitatief.aggregate import aggregate_tables, frame_from_register, write_exports
from kwalitatief.codebook import CodebookError, load_codebook
from kwalitatief.conclusions import ConclusionsError, valence_modes
from kwalitatief.jsonio import read_jsonl, write_problems
from kwalitatief.provenance import build_date

log = logging.getLogger("kwalitatief.aggregate")


def _date() -> tuple[int, int, int]:
    text = build_date()
    try:
        year, month, day = (int(p) for p in text[:10].split("-"))
        return year, month, day
    except ValueError:
        return 2022, 1, 1


def main() -> None:
    _args, params = setup(__doc__)
    reg = register(params)
    try:
        codebook = load_codebook(paths.CODEBOOK)
    except CodebookError as exc:
        sys.exit(f"error: {paths.CODEBOOK}: {exc}\nRun `kwal check` for the details.")
    if not paths.CODINGS.exists():
        sys.exit(f"error: {paths.CODINGS} not found; run the classify stage first (kwal run).")
    try:   # a respondent's and a region's valence: params conclusions.valence (README)
        modes = valence_modes((params.get("conclusions") or {}).get("valence"))
    except ConclusionsError as exc:
        sys.exit(f"error: {exc}")
    frame = frame_from_register(reg, read_jsonl(paths.CODINGS), read_jsonl(paths.FRAGMENTS, drop=("tokens", "sents")),
                                codebook, modes)
    tables = aggregate_tables(frame)
    write_exports(tables, paths.AGGREGATES_DIR, paths.AGGREGATES_XLSX, date=_date())
    write_problems(paths.problems_file("aggregate"), frame.problems)
    totals = tables["agg_code_totals"]
    summary("%d codes counted", int((totals["n_fragments"] > 0).sum()))
    log.info("%d codings of %d codes by %d respondents in %d regions -> %s, %s (%d problems)",
             len(frame.coded), int((totals["n_fragments"] > 0).sum()), frame.coded["respondent_id"].nunique(),
             frame.coded.loc[frame.coded["real_region"], "region"].nunique(), paths.AGGREGATES_DIR,
             paths.AGGREGATES_XLSX, len(frame.problems))


if __name__ == "__main__":
    run_stage(main)
