"""Running the pipeline (``dvc repro``) as a child whose whole process tree ends with it.

``kwal run`` streams DVC's output from a pipe. Every process of the tree holds that pipe: a stage's pool
workers that outlive their stage (the stage was killed with ``kill -9`` or by the out-of-memory killer)
would keep it open, and reading would wait until they finished on their own. So DVC runs in its own
process group; once DVC has exited, what is left of the group gets a short grace period to finish
printing and is then killed, so that ``kwal run`` returns within seconds of a failure.
"""

from __future__ import annotations

import codecs
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Sequence

GRACE_SECONDS = 2.0      # after DVC exits: time for leftovers of its group to flush their output
STOP_SECONDS = 10.0      # after Ctrl+C: time for DVC to stop its stage before the group is killed


def _kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):   # the group is empty already
        pass


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def stream_command(cmd: Sequence[str], on_output: Callable[[str], None], env: dict[str, str] | None = None) -> int:
    """Run ``cmd`` in a new process group, pass its output (stdout and stderr, decoded as it comes, so that
    progress bars redrawn with ``\r`` arrive as they are drawn) to ``on_output`` and
    return its exit code; no process of its group outlives the call by more than ``GRACE_SECONDS``.

    Ctrl+C (SIGINT) or SIGTERM is passed on to the whole group as SIGINT (the group no longer gets the
    terminal's signal itself); a group that has not stopped ``STOP_SECONDS`` later is killed, and the exit
    code is 130.
    """
    proc = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            process_group=0)
    assert proc.stdout is not None
    stdout = proc.stdout

    def pump() -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        try:
            while chunk := os.read(stdout.fileno(), 65536):
                on_output(decoder.decode(chunk))
            on_output(decoder.decode(b"", final=True))
        except (OSError, ValueError):   # the pipe was closed under us
            pass

    reader = threading.Thread(target=pump, name="kwal-run-output", daemon=True)
    reader.start()
    previous = None
    if threading.current_thread() is threading.main_thread():   # `kill kwal-run` stops the tree too
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        _kill_group(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.wait()
        code = 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    reader.join(GRACE_SECONDS)
    _kill_group(proc.pid)             # leftovers of the tree (orphaned stage workers) hold the pipe
    reader.join(GRACE_SECONDS)
    if not reader.is_alive():         # (closing under a blocked reader would wait for it)
        stdout.close()
    return code
