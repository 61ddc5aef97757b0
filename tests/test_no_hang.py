"""A killed stage leaves no worker behind and `kwal run` returns within seconds (issue 13, finding 5)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# A stage whose per-document work is slow: two pool workers (kwalitatief.parallel) sleep for a minute.
SLOW_JOBS = '''
import os, sys, time
from pathlib import Path


def slow(item):
    Path(os.environ["PIDS"], f"worker-{os.getpid()}").write_text("")
    time.sleep(60)
    return item


def fails_first(item):
    if item == 0:
        time.sleep(0.5)
        raise ValueError("document 0 is broken")
    return slow(item)
'''

STAGE = '''
import os, sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slow_jobs import slow
from kwalitatief.parallel import map_documents

Path(os.environ["PIDS"], f"stage-{os.getpid()}").write_text("")
print("stage started", flush=True)
map_documents(slow, list(range(4)), workers=2)
Path("out.txt").write_text("done")
'''

DVC_YAML = '''
stages:
  slow:
    cmd: python stage.py
    deps: [stage.py]
    outs: [out.txt]
'''


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _wait_for(predicate, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _pids(folder: Path, prefix: str) -> list[int]:
    return [int(p.name.split("-")[1]) for p in folder.glob(f"{prefix}-*")]


def _env(pids: Path) -> dict[str, str]:
    return {**os.environ, "PIDS": str(pids), "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "slow_jobs.py").write_text(SLOW_JOBS)
    (project / "stage.py").write_text(STAGE)
    (project / "dvc.yaml").write_text(DVC_YAML)
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=project, check=True)
    return project


def _run_until_workers(tmp_path: Path, pids: Path) -> subprocess.Popen:
    """`kwal run` on the slow project, returned once the stage's two pool workers are busy."""
    project = _project(tmp_path)
    pids.mkdir()
    run = subprocess.Popen([sys.executable, "-m", "kwalitatief.cli", "run"], cwd=project, env=_env(pids),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if not _wait_for(lambda: len(_pids(pids, "worker")) == 2, 60):
        run.kill()
        pytest.fail("the stage's workers did not start")
    return run


def _kill_leftovers(pids: Path) -> None:
    for pid in _pids(pids, "worker") + _pids(pids, "stage"):
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pool_workers_die_with_their_stage(tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    (tmp_path / "slow_jobs.py").write_text(SLOW_JOBS)
    (tmp_path / "stage.py").write_text(STAGE)
    stage = subprocess.Popen([sys.executable, "stage.py"], cwd=tmp_path, env=_env(pids),
                             stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        assert _wait_for(lambda: len(_pids(pids, "worker")) == 2, 30), "the workers did not start"
        stage.kill()                                 # kill -9, as the OOM killer does
        stage.wait()
        workers = _pids(pids, "worker")
        assert _wait_for(lambda: not any(_alive(p) for p in workers), 5), "pool workers outlived their stage"
    finally:
        _kill_leftovers(pids)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kwal_run_returns_within_seconds_when_a_stage_is_killed(tmp_path):
    """The red-team step: `kill -9` of a stage while its pool works; `kwal run` waited > 90 s before."""
    pids = tmp_path / "pids"
    run = _run_until_workers(tmp_path, pids)
    try:
        [stage] = _pids(pids, "stage")
        os.kill(stage, signal.SIGKILL)
        killed = time.monotonic()
        output, _ = run.communicate(timeout=60)
        took = time.monotonic() - killed
        assert took < 15, f"kwal run returned {took:.0f} s after the stage was killed"
        assert run.returncode != 0
        assert "the pipeline stopped" in output
        workers = _pids(pids, "worker")
        assert _wait_for(lambda: not any(_alive(p) for p in workers), 5), "a pool worker is still alive"
    finally:
        run.kill()
        _kill_leftovers(pids)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kwal_run_kills_what_a_failed_stage_left_behind(tmp_path):
    """A stage that fails and leaves a child holding the output pipe (not one of our pool workers)."""
    project = _project(tmp_path)
    (project / "stage.py").write_text(textwrap.dedent('''
        import os, subprocess, sys
        from pathlib import Path
        child = subprocess.Popen(["sleep", "300"])
        Path(os.environ["PIDS"], f"worker-{child.pid}").write_text("")
        sys.exit("error: the stage failed")
    '''))
    pids = tmp_path / "pids"
    pids.mkdir()
    started = time.monotonic()
    try:
        run = subprocess.run([sys.executable, "-m", "kwalitatief.cli", "run"], cwd=project, env=_env(pids),
                             capture_output=True, text=True, timeout=120)
        assert time.monotonic() - started < 30
        assert run.returncode != 0 and "the stage failed" in run.stdout
        [child] = _pids(pids, "worker")
        assert _wait_for(lambda: not _alive(child), 5)
    finally:
        _kill_leftovers(pids)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stopping_kwal_run_stops_the_whole_pipeline(tmp_path, sig):
    """Ctrl+C (or SIGTERM) reaches DVC, the stage and its workers although DVC runs in its own group."""
    pids = tmp_path / "pids"
    run = _run_until_workers(tmp_path, pids)
    try:
        run.send_signal(sig)
        stopped = time.monotonic()
        run.communicate(timeout=60)
        assert time.monotonic() - stopped < 15 and run.returncode != 0
        everyone = _pids(pids, "worker") + _pids(pids, "stage")
        assert _wait_for(lambda: not any(_alive(p) for p in everyone), 5), "a stage or worker is still alive"
    finally:
        run.kill()
        _kill_leftovers(pids)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_failing_document_stops_the_pool_at_once(tmp_path, monkeypatch):
    """One item fails while the others are slow: the stage fails now, not after the others finish."""
    pids = tmp_path / "pids"
    pids.mkdir()
    (tmp_path / "slow_jobs.py").write_text(SLOW_JOBS)
    monkeypatch.setenv("PIDS", str(pids))
    monkeypatch.syspath_prepend(str(tmp_path))
    from slow_jobs import fails_first

    from kwalitatief.parallel import map_documents

    started = time.monotonic()
    try:
        with pytest.raises(ValueError, match="document 0 is broken"):
            map_documents(fails_first, list(range(4)), workers=2)
        assert time.monotonic() - started < 10
        workers = _pids(pids, "worker")
        assert _wait_for(lambda: not any(_alive(p) for p in workers), 5)
    finally:
        _kill_leftovers(pids)
