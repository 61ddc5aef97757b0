"""`kwal init DIR`: a new, empty study; refuses a non-empty folder, never overwrites a researcher's file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kwalitatief.study_init import PACKAGE_DIR, init_study

KWAL = [sys.executable, "-m", "kwalitatief.cli"]


def kwal(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*KWAL, *args], cwd=cwd, capture_output=True, text=True)


def test_init_writes_an_empty_study_that_check_says_is_unfinished(tmp_path: Path) -> None:
    study = tmp_path / "jeugdzorg"
    done = kwal("init", str(study), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for rel in ("study.yaml", "params.yaml", "dvc.yaml", ".gitignore", "README.md", "pipeline/prepare.py",
                "pipeline/_common.py", "corpus/manifest.csv", "corpus/respondents.csv", "corpus/regions.csv",
                "corpus/pseudonyms.csv", "codebook/codebook.yaml", "codebook/conclusions.yaml",
                "codebook/reviews.jsonl", "codebook/annotations/.gitkeep", "codebook/lexicon/.gitkeep", ".dvc/config"):
        assert (study / rel).exists(), rel
    assert (study / "corpus/manifest.csv").read_text() == "doc_id,path,doc_type,region,respondent_id,date,title\n"
    assert "/outputs/private/" in (study / ".gitignore").read_text()
    dvc = (study / "dvc.yaml").read_text()
    assert "- src/kwalitatief" not in dvc and f"- {PACKAGE_DIR.as_posix()}/corpus.py" in dvc
    check = kwal("check", cwd=study)
    assert check.returncode == 1
    assert "study.yaml:5: 'title' is missing or empty" in check.stderr
    assert "no respondent_types declared yet" in check.stderr


def test_check_names_the_empty_register_once_the_study_is_declared(tmp_path: Path) -> None:
    init_study(tmp_path / "s")
    path = tmp_path / "s" / "study.yaml"
    path.write_text(path.read_text().replace('title: ""', "title: Jeugdzorg")
                    .replace("respondent_types: {}", "respondent_types: {wijkteam: wijkteam}"))
    check = kwal("check", cwd=tmp_path / "s")
    assert check.returncode == 1
    assert "corpus/regions.csv: no groups yet" in check.stderr
    assert "corpus/manifest.csv: no documents registered yet" in check.stderr


def test_init_refuses_a_non_empty_folder_and_never_overwrites(tmp_path: Path) -> None:
    study = tmp_path / "s"
    study.mkdir()
    mine = study / "study.yaml"
    mine.write_text("title: Mijn eigen studie\n", encoding="utf-8")
    refused = kwal("init", str(study), cwd=tmp_path)
    assert refused.returncode != 0 and "not empty" in refused.stderr and "--force" in refused.stderr
    assert not (study / "dvc.yaml").exists()
    forced = kwal("init", str(study), "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert mine.read_text(encoding="utf-8") == "title: Mijn eigen studie\n"
    assert f"kept (not overwritten): {mine}" in forced.stdout
    assert (study / "dvc.yaml").exists() and (study / "codebook/codebook.yaml").exists()
