"""What ``kwal run`` shows of ``dvc repro``: one line per stage with what it did, warnings and errors as
they come, progress bars passed through, DVC's git hints and the stages' detail lines left out.

Lines are sorted by their start: ``Running stage 'x':`` opens a stage; a stage's summary is its
``INFO kwalitatief.summary:`` line, else its first INFO line from ``kwalitatief.<stage>``; other INFO
lines show with ``verbose`` only; every line that is not recognised as noise is shown as it is.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

STAGE = re.compile(r"^Running stage '([^']+)':")
UNCHANGED = re.compile(r"^Stage '([^']+)' didn't change, skipping")
CACHED = re.compile(r"^Stage '([^']+)' is cached - skipping run, checking out outputs")
INFO = re.compile(r"^INFO ([\w.]+): (.*)$")
NOISE = (
    re.compile(r"^> "),                                     # the stage's command
    re.compile(r"^Updating lock file "),
    re.compile(r"^To track the changes with git, run:"),
    re.compile(r"^\s+git add "),
    re.compile(r"^To enable auto staging, run:"),
    re.compile(r"^\s+dvc config core\.autostage"),
    re.compile(r"^Use `dvc push` to send your updates"),
    re.compile(r"^Data and pipelines are up to date\."),
    re.compile(r"^\s*$"),
)


@dataclass
class RunOutput:
    """Feed it DVC's output (:meth:`feed`, any chunks); it calls ``emit`` with the lines to show and
    ``progress`` with progress-bar updates (text ending in a carriage return)."""

    emit: Callable[[str], None]
    progress: Callable[[str], None] | None = None
    verbose: bool = False
    stages_run: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    _stage: str | None = None
    _summary: str | None = None
    _first_info: str | None = None
    _started: float = 0.0
    _buffer: str = ""

    def feed(self, chunk: str) -> None:
        self._buffer += chunk
        while True:
            cut = min((i for i in (self._buffer.find("\n"), self._buffer.find("\r")) if i >= 0), default=-1)
            if cut < 0:
                return
            piece, end = self._buffer[:cut], self._buffer[cut]
            if end == "\r" and cut == len(self._buffer) - 1:
                return                                 # a CRLF line end may be split over two chunks
            self._buffer = self._buffer[cut + 1:]
            if end == "\r":
                if self._buffer.startswith("\n"):      # a CRLF line end
                    self._buffer = self._buffer[1:]
                    self.line(piece)
                elif self.progress is not None and piece:
                    self.progress(piece + "\r")
            else:
                self.line(piece)

    def close(self) -> None:
        if self._buffer:
            self.line(self._buffer)
            self._buffer = ""
        self._finish_stage()

    def line(self, text: str) -> None:
        if m := STAGE.match(text):
            self._finish_stage()
            self._stage, self._summary, self._first_info, self._started = m[1], None, None, time.monotonic()
            self.stages_run.append(m[1])
            return
        if m := UNCHANGED.match(text):
            self.unchanged.append(m[1])
            return
        if m := CACHED.match(text):
            self._finish_stage()
            self.emit(f"  {m[1]:<13} same inputs as an earlier run: outputs restored from the DVC cache")
            return
        if any(p.match(text) for p in NOISE):
            return
        if m := INFO.match(text):
            logger, message = m[1], m[2]
            if logger == "kwalitatief.summary":
                self._summary = message
            elif self._first_info is None and self._stage and logger == f"kwalitatief.{self._stage}":
                self._first_info = message
            if self.verbose:
                self.emit(f"    {text}")
            return
        self.emit(text)

    def _finish_stage(self) -> None:
        if self._stage is None:
            return
        what = self._summary or self._first_info or "done"
        self.emit(f"  {self._stage:<13} {what} ({time.monotonic() - self._started:.1f} s)")
        self._stage = None
