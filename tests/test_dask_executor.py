"""The optional Dask executor gives the same results as a single process (skipped without the extra)."""

from dataclasses import asdict
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from corpus_factory import make_corpus  # noqa: E402

from kwalitatief.corpus import load_register  # noqa: E402
from kwalitatief.ingest import extract_corpus  # noqa: E402
from kwalitatief.parallel import map_documents  # noqa: E402
from kwalitatief.segment import segment_corpus  # noqa: E402

SETTINGS = {"unit": {"transcript": "paragraph", "default": "paragraph"}, "model": "blank:nl+lookup"}


def _square(x: int) -> int:
    return x * x


def test_dask_map_keeps_order_and_equals_a_single_process(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    register = load_register(corpus)
    metas = {d.doc_id: asdict(d) for d in register.documents}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        assert map_documents(_square, list(range(20)), executor="dask") == [x * x for x in range(20)]
        on_dask = extract_corpus(register, executor="dask")
        fragments_dask, _ = segment_corpus(on_dask.documents, metas, SETTINGS, workers=2, executor="dask")
    local = extract_corpus(register, workers=1)
    fragments_local, _ = segment_corpus(local.documents, metas, SETTINGS, workers=1)
    assert on_dask.documents == local.documents
    assert fragments_dask == fragments_local
