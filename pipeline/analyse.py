"""Stage analyse: the three analysis steps in one process (one DVC stage, one start, one check of their
inputs), each also a script of its own:

1. aggregate (pipeline/aggregate.py): who and where carries each code -> outputs/aggregates/, aggregates.xlsx;
2. conclusions (pipeline/conclusions.py): each claim of codebook/conclusions.yaml checked, with its
   robustness -> outputs/conclusions.json;
3. report (pipeline/report.py): the database brought up to date (the rows of changed documents) and the
   report written -> outputs/kwalitatief.db, report.html, report.md; then the leak guard.

Steps 1 and 2 read the same inputs and write different outputs, so with two or more workers (params
``workers``) the aggregate step runs in a forked process while this one checks the conclusions; the report
step, which reads both, follows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial

import aggregate
import conclusions
import report
from _common import run_stage, setup, summary

from kwalitatief.parallel import run_beside


class _Summaries(logging.Handler):
    """The one-line summaries the steps log (``kwalitatief.summary``), in order."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _step(run: Callable[[], None]) -> tuple[list[str], float]:
    """Run one step: the summary lines it logged and its seconds."""
    collected = _Summaries()
    logger = logging.getLogger("kwalitatief.summary")
    logger.addHandler(collected)
    started = time.perf_counter()
    try:
        run()
    finally:
        logger.removeHandler(collected)
    return collected.lines, time.perf_counter() - started


def main() -> None:
    args, _params = setup(__doc__)
    counted = run_beside(partial(_step, aggregate.main), args.workers)
    try:
        checked = _step(conclusions.main)
    except BaseException:
        counted.cancel()
        raise
    done = [("aggregate", counted.result()), ("conclusions", checked), ("report", _step(report.main))]
    lines = [line for _name, (step_lines, _s) in done for line in step_lines]
    summary("%s [%s]", "; ".join(lines), ", ".join(f"{name} {s:.1f} s" for name, (_l, s) in done))


if __name__ == "__main__":
    run_stage(main)
