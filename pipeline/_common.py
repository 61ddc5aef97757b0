"""Shared set-up for the stage entry points: arguments, logging, params and the corpus register."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

# One BLAS/OpenMP thread per process, set before numpy loads its BLAS (threadpoolctl can only limit a
# library that is already loaded): the stages parallelise over processes (see parallel.limit_threads).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from kwalitatief import paths  # noqa: E402
from kwalitatief.config import ConfigError, load_params  # noqa: E402
from kwalitatief.corpus import Register, RegisterError, load_register  # noqa: E402
from kwalitatief.parallel import limit_threads, tune_gc  # noqa: E402


def stage_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--params", default="params.yaml", help="settings file (default: params.yaml)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: params workers; 0 = all cores)")
    return parser.parse_args()


def setup(description: str) -> tuple[argparse.Namespace, dict[str, Any]]:
    """Parse the stage's arguments, configure logging and read params; exit 2 on a settings error."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = stage_args(description)
    try:
        params = load_params(args.params)
    except ConfigError as exc:
        sys.exit(f"error: {exc}")
    if args.workers is None:
        args.workers = int(params.get("workers", 0) or 0)
    limit_threads()
    tune_gc()
    return args, params


def register(params: dict[str, Any]) -> Register:
    """The validated corpus register; on problems print them all and stop before any work."""
    corpus = params.get("corpus", {})
    try:
        return load_register(corpus.get("dir", "corpus"), corpus.get("manifest"),
                             corpus.get("respondents"), corpus.get("regions"), paths.STUDY)
    except RegisterError as exc:
        sys.exit(f"error: {exc}")


def summary(message: str, *args: object) -> None:
    """The stage's one line in ``kwal run``: what it did (other INFO lines show with ``kwal -v run``)."""
    logging.getLogger("kwalitatief.summary").info(message, *args)


def run_stage(main: Callable[[], None]) -> None:
    """Run a stage's ``main`` and, once it has written everything, leave without tearing down its data.

    Every output is written atomically and closed when ``main`` returns; freeing the millions of small
    objects a stage holds at interpreter exit took 0.1–0.4 s per stage on the scale corpus (and ~10 s for
    deduce's full name lists). An error still exits through ``sys.exit`` with its message and code.
    """
    main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def ensure_dir(path: str | Path) -> Path:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    return path
