"""QualCoder's own REFI-QDA import and export on our file (tools/qualcoder_roundtrip.py).

Runs when QUALCODER_CHECKOUT names a QualCoder checkout and PyQt6 is installed (see README, 'Uitwisselen met
QDA-software'); QualCoder's code is never part of this repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from review_factory import make_review_project
from test_qda import _frag

from kwalitatief.qda import export_qdpx
from kwalitatief.review import append_decision, make_decision

CHECKOUT = os.environ.get("QUALCODER_CHECKOUT")
pytestmark = pytest.mark.skipif(not CHECKOUT or not (Path(CHECKOUT) / "src/qualcoder/refi.py").exists(),
                                reason="set QUALCODER_CHECKOUT to a QualCoder checkout")
TOOL = Path(__file__).parents[1] / "tools/qualcoder_roundtrip.py"


@pytest.mark.parametrize("crlf", [False, True])
def test_qualcoder_imports_every_coding_and_its_export_comes_back(tmp_path, crlf):
    pytest.importorskip("PyQt6")
    project = make_review_project(tmp_path, build_db=False)
    for reviewer, valence in (("anna", "negatief"), ("bram", "gemengd")):
        append_decision(tmp_path / "codebook/reviews.jsonl",
                        make_decision(reviewer, _frag(project, 1), "opinie.proeftuin", "change_valence", valence, has_valence=True))
    counts = export_qdpx(tmp_path / "ours.qdpx", tmp_path, include_unreviewed=True)
    cmd = [sys.executable, str(TOOL), CHECKOUT, str(tmp_path / "ours.qdpx"), "--back", str(tmp_path / "back.qdpx"),
           "--project", str(tmp_path)] + (["--crlf"] if crlf else [])
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert run.returncode == 0, run.stdout + run.stderr
    n = counts["codings"]
    assert f"QualCoder import: {n} of {n} codings under a code of the right name" in run.stdout
    assert f"QualCoder export -> kwal import: {n} of {n} codings read" in run.stdout and ", 0 problems" in run.stdout
    assert ("LF-normalised" in run.stdout) == crlf
