"""Mapping per-document functions over documents: in process, on a local process pool, or on Dask."""

from __future__ import annotations

import os
import pickle
import signal
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def resolve_workers(workers: int | None) -> int:
    """``0``/``None`` means all cores."""
    if not workers or workers < 0:
        return os.cpu_count() or 1
    return workers


def tune_gc() -> None:
    """Run the cyclic garbage collector far less often in this process.

    A stage holds up to millions of small containers (the token rows of every fragment); with Python's
    default thresholds the collector rescans them again and again (reading the scale corpus' fragments
    took 2.8 s instead of 0.7 s; deduce's name lists 6.8 s instead of 2.6 s). Our data has no reference
    cycles to speak of, so memory stays the same.
    """
    import gc

    gc.set_threshold(100_000, 50, 100)


def limit_threads() -> None:
    """One BLAS/OpenMP thread per process: the pipeline parallelises over processes, and idle-spinning
    BLAS threads of several processes on a two-core laptop made cross-validation six times slower."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _label(fn: Callable[..., Any]) -> str:
    """A progress bar's label from the job function's name (``_segment_job`` -> ``segment``)."""
    name = getattr(fn, "__name__", "").strip("_")
    for suffix in ("_job", "_group"):
        name = name.removesuffix(suffix)
    return name


PR_SET_PDEATHSIG = 1   # prctl(2): the signal a process gets when the thread that forked it exits


def die_with_parent(parent: int) -> None:
    """Make this process die with ``parent``, the stage that started it.

    A worker killed with its stage (``kill -9``, the out-of-memory killer) would otherwise live on as an
    orphan, holding the stage's output pipe open, so that ``kwal run`` kept waiting. On Linux the kernel
    sends SIGKILL to the worker when the stage dies (``PR_SET_PDEATHSIG``); elsewhere ``kwal run`` kills
    the stage's whole process group instead. A parent that died before the call leaves us orphaned
    already: then leave at once.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):   # no libc prctl (another libc): kwal run's group kill remains
            pass
    if os.getppid() != parent:
        os._exit(1)


def _init_worker(parent: int) -> None:
    die_with_parent(parent)
    limit_threads()


def map_documents(fn: Callable[[T], R], items: Sequence[T], workers: int | None = 1,
                  executor: str = "process", sizes: Sequence[int] | None = None, label: str | None = None
                  ) -> list[R]:
    """Apply ``fn`` to every item, keeping input order; results do not depend on the executor.

    ``fn`` must be a picklable top-level function that is pure in (item, settings).
    ``executor`` is ``process`` (a local pool; ``workers=1`` runs in this process) or ``dask``
    (the optional extra: a ``dask.distributed`` client must be reachable, see README).
    """
    from .progress import progress

    items = list(items)
    label = label or _label(fn)
    if executor == "dask":
        from .dask_executor import dask_map

        return dask_map(fn, items)
    n = min(resolve_workers(workers), max(len(items), 1))
    if n <= 1 or len(items) <= 1:
        return [fn(item) for item in progress(items, len(items), label)]
    if sizes is not None:   # a few large documents must not all land in one worker's batch
        return map_groups(_apply_all, fn, items, sizes, n, label=label)
    chunksize = max(1, len(items) // (n * 4))
    pool = ProcessPoolExecutor(max_workers=n, initializer=_init_worker, initargs=(os.getpid(),))
    try:
        results = list(progress(pool.map(fn, items, chunksize=chunksize), len(items), label))
    except BaseException:   # Ctrl+C or a failed item: stop now, do not wait for the other items
        _stop_pool(pool)
        raise
    pool.shutdown()
    return results


class Pending(Generic[R]):
    """A result being computed in the background (:func:`submit_documents`); :meth:`result` waits for it."""

    def __init__(self, compute: Callable[[], R], stop: Callable[[], None] = lambda: None):
        self._compute, self._stop = compute, stop
        self._done = False
        self._value: Any = None

    def result(self) -> R:
        """The result, computed once (an exception of the work is raised here, after the pool is stopped)."""
        if not self._done:
            try:
                self._value = self._compute()
            except BaseException:
                self._stop()
                raise
            self._done = True
        return self._value

    def cancel(self) -> None:
        """Stop the pool without waiting (the stage failed before it needed the results)."""
        if not self._done:
            self._stop()


def submit_documents(fn: Callable[[T], R], items: Sequence[T], workers: int | None = 1,
                     sizes: Sequence[int] | None = None, label: str | None = None) -> Pending[list[R]]:
    """:func:`map_documents` started in the background: a pool of ``workers`` processes (forked now) works
    through the items, grouped by ``sizes``, while this process goes on with other work; with one worker
    the items are done here and now. Same results as :func:`map_documents`.

    The stage's own process then shares the cores with the pool: worth it for work that would otherwise
    leave a core idle (a stage's serial steps, such as training one model, while its evaluation runs).
    """
    from .progress import progress

    items = list(items)
    n = min(resolve_workers(workers), max(len(items), 1))
    if n <= 1 or len(items) <= 1:
        done = [fn(item) for item in progress(items, len(items), label or _label(fn))]
        return Pending(lambda: done)
    groups = balanced_groups(list(sizes) if sizes is not None else [1] * len(items), n * 4)
    pool = ProcessPoolExecutor(max_workers=n, initializer=_init_worker, initargs=(os.getpid(),))
    # pickled here and now: the pool's feeder thread would pickle them later, while this process may be
    # changing objects they share (a cache filled during training)
    futures = [pool.submit(_apply_pickled, pickle.dumps((fn, [items[i] for i in g]), pickle.HIGHEST_PROTOCOL))
               for g in groups]

    def compute() -> list[R]:
        outputs = [future.result() for future in progress(futures, len(futures), label or _label(fn))]
        pool.shutdown()
        return ungroup(groups, outputs, len(items))

    return Pending(compute, lambda: _stop_pool(pool))


def run_beside(fn: Callable[[], R], workers: int | None = 1) -> Pending[R]:
    """``fn()`` in a forked process while this one goes on (with two or more ``workers``); with one, here and
    now. :meth:`Pending.result` gives its value (or raises its error); :meth:`Pending.cancel` stops it."""
    if resolve_workers(workers) <= 1:
        value = fn()
        return Pending(lambda: value)
    pool = ProcessPoolExecutor(max_workers=1, initializer=_init_worker, initargs=(os.getpid(),))
    future = pool.submit(fn)

    def compute() -> R:
        value = future.result()
        _stop_pool(pool)   # its process is idle now: killed, not waited for while it frees its memory
        return value

    return Pending(compute, lambda: _stop_pool(pool))


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and kill the workers (the executor has no public way to stop running
    items; ``_processes`` has been its table of worker processes since Python 3.2)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())   # shutdown() forgets them
    for process in processes:
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def map_groups(fn: Callable[[tuple[Any, list[T]]], list[R]], shared: Any, items: Sequence[T], sizes: Sequence[int],
               workers: int | None = 1, executor: str = "process", label: str | None = None) -> list[R]:
    """``fn((shared, group))`` over groups of items balanced by ``sizes`` (a few per worker, so that setup
    shared by a group is paid once per group); ``fn`` returns one result per item. Results in item order."""
    n = resolve_workers(workers)
    groups = balanced_groups(sizes, n * 4 if n > 1 else 1)
    outputs = map_documents(fn, [(shared, [items[i] for i in g]) for g in groups], n, executor,
                            label=label or (_label(shared) if fn is _apply_all else _label(fn)))
    return ungroup(groups, outputs, len(items))


def _apply_pickled(job: bytes) -> list[Any]:
    return _apply_all(pickle.loads(job))


def _apply_all(job: tuple[Callable[[T], R], list[T]]) -> list[R]:
    fn, items = job
    return [fn(item) for item in items]


def balanced_groups(sizes: Sequence[int], n: int) -> list[list[int]]:
    """Indices split into at most ``n`` groups of nearly equal total size (largest first, each to the
    lightest group); the biggest groups come first, indices ascend within a group. Deterministic."""
    totals = [0] * max(1, min(n, len(sizes)))
    members: list[list[int]] = [[] for _ in totals]
    for i in sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)):
        g = min(range(len(totals)), key=lambda g: (totals[g], g))
        totals[g] += sizes[i]
        members[g].append(i)
    order = sorted(range(len(totals)), key=lambda g: (-totals[g], g))
    return [sorted(members[g]) for g in order if members[g]]


def ungroup(groups: Sequence[Sequence[int]], outputs: Sequence[Sequence[R]], n: int) -> list[R]:
    """Per-group outputs back in item order (the inverse of grouping by ``balanced_groups``)."""
    result: list[Any] = [None] * n
    for group, out in zip(groups, outputs):
        for i, value in zip(group, out):
            result[i] = value
    return result
