"""The optional Dask executor: the same per-document functions on a ``dask.distributed`` cluster.

``parallel.map_documents(fn, items, executor="dask")`` lands here. The client is the one already made in
this process (``distributed.Client(...)``, e.g. by a wrapper script), else one is connected to the
scheduler in the environment variable ``KWAL_DASK_SCHEDULER`` (``tcp://host:8786``), else a local cluster
is started (useful to try it out). Install with ``pip install -e '.[dask]'``; see README, "Corpora beyond
one machine: Dask".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def get_client() -> Any:
    """The current ``distributed.Client``, one for ``KWAL_DASK_SCHEDULER``, or a new local cluster."""
    try:
        from distributed import Client, get_client as current
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise RuntimeError("executor 'dask' needs the dask extra: pip install -e '.[dask]'") from exc
    try:
        return current()
    except ValueError:
        pass
    address = os.environ.get("KWAL_DASK_SCHEDULER")
    return Client(address) if address else Client(processes=False)


def dask_map(fn: Callable[[T], R], items: Sequence[T], client: Any = None) -> list[R]:
    """``[fn(item) for item in items]`` on the cluster, in input order.

    ``fn`` must be a picklable top-level function that is pure in its item (the per-document functions of
    the stages are), so the results equal a single-process run. Each item is a separate task
    (``pure=False``: no de-duplication by Dask; the stages' own caches decide what is redone).
    """
    items = list(items)
    if not items:
        return []
    client = client or get_client()
    futures = client.map(fn, items, pure=False)
    return client.gather(futures)
