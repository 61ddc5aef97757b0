"""The process pool helpers: results in item order whatever the scheduling, work started in the background."""

from __future__ import annotations

import pytest

from kwalitatief.parallel import map_documents, submit_documents


def _square(x: int) -> int:
    return x * x


def _fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three")
    return x


@pytest.mark.parametrize("workers", [1, 2])
def test_submit_documents_gives_what_map_documents_gives(workers):
    items = list(range(23))
    sizes = [(i * 7) % 5 + 1 for i in items]   # uneven: the groups are not in item order
    pending = submit_documents(_square, items, workers, sizes=sizes)
    assert pending.result() == map_documents(_square, items, 1) == [i * i for i in items]
    assert pending.result() == [i * i for i in items]   # computed once, asked twice


def test_jobs_are_taken_as_they_were_when_submitted():
    items = [[1], [2], [3]]
    pending = submit_documents(sum, items, 2)
    items[0].append(100)   # a change after submitting does not reach the workers
    assert pending.result() == [1, 2, 3]


def test_an_item_that_fails_raises_when_the_result_is_asked_for():
    pending = submit_documents(_fail_on_three, list(range(6)), 2)
    with pytest.raises(ValueError, match="three"):
        pending.result()


def _pid_and(value):
    import os

    return os.getpid(), value


def _fails():
    raise ValueError("broken step")


def test_run_beside_works_in_another_process_with_two_workers_and_here_with_one():
    import os
    from functools import partial

    from kwalitatief.parallel import run_beside

    here = run_beside(partial(_pid_and, 3), workers=1).result()
    beside = run_beside(partial(_pid_and, 4), workers=2).result()
    assert here == (os.getpid(), 3)
    assert beside[1] == 4 and beside[0] != os.getpid()
    with pytest.raises(ValueError, match="broken step"):
        run_beside(_fails, workers=2).result()
