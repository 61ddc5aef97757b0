"""Stage analyse: the three analysis steps in one process (one DVC stage, one start, one check of their
inputs), each also a script of its own:

1. aggregate (pipeline/aggregate.py): who and where carries each code -> outputs/aggregates/, aggregates.xlsx;
2. conclusions (pipeline/conclusions.py): each claim of codebook/conclusions.yaml checked, with its
   robustness -> outputs/conclusions.json;
3. report (pipeline/report.py): the database brought up to date (the rows of changed documents) and the
   report written -> outputs/kwalitatief.db, report.html, report.md; then the leak guard.
"""

from __future__ import annotations

import logging
import time

import aggregate
import conclusions
import report
from _common import run_stage, summary

STEPS = (("aggregate", aggregate.main), ("conclusions", conclusions.main), ("report", report.main))


class _Summaries(logging.Handler):
    """The one-line summaries the steps log (``kwalitatief.summary``), in order."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def main() -> None:
    collected = _Summaries()
    logger = logging.getLogger("kwalitatief.summary")
    logger.addHandler(collected)
    seconds = []
    for name, step in STEPS:
        started = time.perf_counter()
        step()
        seconds.append(f"{name} {time.perf_counter() - started:.1f} s")
    logger.removeHandler(collected)
    summary("%s [%s]", "; ".join(collected.lines), ", ".join(seconds))


if __name__ == "__main__":
    run_stage(main)
