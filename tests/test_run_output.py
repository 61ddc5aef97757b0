"""What `kwal run` shows of `dvc repro`: one line per stage, warnings as they come, no DVC git hints."""

from __future__ import annotations

import os

from kwalitatief.progress import enabled, progress
from kwalitatief.run_output import RunOutput

DVC_OUTPUT = """Running stage 'extract':
> python pipeline/extract.py
INFO kwalitatief.extract: extracted 59 of 59 documents (57 PDF pages); cache: 0 reused, 59 new
Updating lock file 'dvc.lock'

Stage 'pseudonymise' didn't change, skipping
Stage 'segment' is cached - skipping run, checking out outputs
Running stage 'classify':
> python pipeline/classify.py
INFO kwalitatief.classify: training data: 677 annotation lines
WARNING kwalitatief.classify: code knelpunt.x is coded by the rules only: 3 examples
\rclassify  40%|####      | 2/5 [00:01<00:01]\rclassify  80%|########  | 4/5 [00:02<00:00]\r      \r\
INFO kwalitatief.summary: 1094 codings (merge policy union)
Updating lock file 'dvc.lock'

To track the changes with git, run:

\tgit add dvc.lock

To enable auto staging, run:

\tdvc config core.autostage true
Use `dvc push` to send your updates to remote storage.
"""


def _run(text: str, chunk: int, verbose: bool = False) -> tuple[list[str], list[str], RunOutput]:
    shown: list[str] = []
    bars: list[str] = []
    out = RunOutput(emit=shown.append, progress=bars.append, verbose=verbose)
    for i in range(0, len(text), chunk):   # DVC's output arrives in arbitrary pieces
        out.feed(text[i:i + chunk])
    out.close()
    return shown, bars, out


def test_one_line_per_stage_warnings_kept_and_dvc_hints_gone():
    for chunk in (1, 7, 10_000):
        shown, bars, out = _run(DVC_OUTPUT, chunk)
        assert len(shown) == 4
        assert shown[0].startswith("  extract       extracted 59 of 59 documents") and shown[0].endswith(" s)")
        assert shown.pop(1) == "  segment       same inputs as an earlier run: outputs restored from the DVC cache"
        assert shown[1] == "WARNING kwalitatief.classify: code knelpunt.x is coded by the rules only: 3 examples"
        assert shown[2].startswith("  classify      1094 codings (merge policy union) (")   # the summary line
        assert not any("dvc.lock" in s or "git add" in s or "is empty" in s for s in shown)
        assert [b.split("|")[0] for b in bars if b.strip()] == ["classify  40%", "classify  80%"]
        assert out.stages_run == ["extract", "classify"] and out.unchanged == ["pseudonymise"]


def test_verbose_shows_the_detail_lines_and_unknown_lines_are_never_hidden():
    shown, _, _ = _run(DVC_OUTPUT + "ERROR: failed to reproduce 'report'\r\n", 64, verbose=True)
    assert "    INFO kwalitatief.classify: training data: 677 annotation lines" in shown
    assert "ERROR: failed to reproduce 'report'" in shown   # CRLF line end handled


def test_progress_bars_only_where_someone_watches(monkeypatch, capsys):
    monkeypatch.setenv("KWAL_PROGRESS", "0")
    assert not enabled() and list(progress(range(3), 3, "x")) == [0, 1, 2]
    monkeypatch.delenv("KWAL_PROGRESS")
    monkeypatch.setenv("CI", "true")
    assert not enabled()
    monkeypatch.setenv("KWAL_PROGRESS", "1")
    assert enabled()
    assert list(progress(range(3), 3, "x")) == [0, 1, 2]
