"""Mapping per-document functions over documents: in process, on a local process pool, or on Dask."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def resolve_workers(workers: int | None) -> int:
    """``0``/``None`` means all cores."""
    if not workers or workers < 0:
        return os.cpu_count() or 1
    return workers


def limit_threads() -> None:
    """One BLAS/OpenMP thread per process: the pipeline parallelises over processes, and idle-spinning
    BLAS threads of several processes on a two-core laptop made cross-validation six times slower."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def map_documents(fn: Callable[[T], R], items: Sequence[T], workers: int | None = 1,
                  executor: str = "process") -> list[R]:
    """Apply ``fn`` to every item, keeping input order; results do not depend on the executor.

    ``fn`` must be a picklable top-level function that is pure in (item, settings).
    ``executor`` is ``process`` (a local pool; ``workers=1`` runs in this process) or ``dask``
    (the optional extra: a ``dask.distributed`` client must be reachable, see README).
    """
    items = list(items)
    if executor == "dask":
        from .dask_executor import dask_map

        return dask_map(fn, items)
    n = min(resolve_workers(workers), max(len(items), 1))
    if n <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    chunksize = max(1, len(items) // (n * 4))
    with ProcessPoolExecutor(max_workers=n, initializer=limit_threads) as pool:
        return list(pool.map(fn, items, chunksize=chunksize))


def chunks(items: Sequence[Any], n: int) -> list[list[Any]]:
    """Split items into ``n`` contiguous, nearly equal parts (empty parts dropped)."""
    n = max(1, n)
    size, extra = divmod(len(items), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        if end > start:
            out.append(list(items[start:end]))
        start = end
    return out
