"""A second study, in another domain, from `kwal init` to the report: its own labels everywhere and none of
the demo's words (studies/mantelzorg: other respondent and document types, a category without valence)."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from test_no_study_in_src import demo_terms

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "studies" / "mantelzorg"
OWN_WORDS = {"gemeente", "gemeenten"}   # the demo's respondent type is this study's grouping unit


def _kwal(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kwalitatief.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=900)


def _demo_words_in(text: str) -> list[str]:
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
    found = []
    for term in sorted(demo_terms() - OWN_WORDS):
        pattern = (r"""(?<=["'])geen(?=["'])""" if term == "geen"
                   else r"(?<![\w.])" + re.escape(term) + r"(?![\w])")
        found += [m.group(0) for m in re.finditer(pattern, text, re.IGNORECASE)]
    return found


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("second") / "mantelzorg"
    made = _kwal("init", str(target), cwd=target.parent)
    assert made.returncode == 0, made.stderr
    shutil.copytree(STUDY, target, dirs_exist_ok=True)        # the researcher's files over the templates
    (target / "codebook" / "annotations" / ".gitkeep").unlink()
    check = _kwal("check", cwd=target)
    assert check.returncode == 0, check.stderr
    run = _kwal("run", cwd=target)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "reviews.jsonl' is empty" not in run.stdout + run.stderr   # kwal init's decisions file: no DVC warning
    return target


@pytest.mark.slow
def test_the_report_speaks_the_studys_language(study: Path) -> None:
    report = (study / "outputs" / "report.md").read_text(encoding="utf-8")
    html = (study / "outputs" / "report.html").read_text(encoding="utf-8")
    assert report.startswith("# Mantelzorg in de wijk: ervaringen in drie gemeenten (fictief)")
    assert "<h1>Mantelzorg in de wijk" in html and "Codes per gemeente" in html
    assert "## Belasting van mantelzorgers per aantal gemeenten" in report
    assert "— mantelzorgconsulent · Emmen" in report and "beleidsnota · Heerlen" in report
    assert "(Geen tijd voor zichzelf)" in report
    assert _demo_words_in(report) == [] and _demo_words_in(html) == []


@pytest.mark.slow
def test_the_database_holds_the_studys_declarations_and_no_demo_words(study: Path) -> None:
    con = sqlite3.connect(study / "outputs" / "kwalitatief.db")
    codes = dict(con.execute("select code, valence from codes"))
    assert codes["oordeel.gemeente"] == 1 and codes["belasting.tijd"] == 0
    regions = dict(con.execute("select region, in_population from regions"))
    assert regions == {"Emmen": 1, "Deventer": 1, "Heerlen": 1, "regionaal": 0}
    verdicts = dict(con.execute("select conclusion_id, verdict from conclusions"))
    assert verdicts == {"m1": "ondersteund", "m2": "niet ondersteund", "m3": "ondersteund"}
    per_code = dict(con.execute("select code, n_regions from v_regions_per_code"))
    assert per_code["ondersteuning.respijtzorg"] == 2      # Emmen and Heerlen; regionaal is outside
    assert not con.execute("select * from v_regions_per_code where regions like '%regionaal%'").fetchall()
    valence = con.execute("select respondent_type, valence, n_respondents from v_valence_per_respondenttype "
                          "where code = 'oordeel.gemeente' order by 1, 2").fetchall()
    assert ("mantelzorger", "negatief", 2) in valence
    names = [r[0] for r in con.execute("select name from sqlite_master where type in ('table', 'view')")]
    dump = "\n".join(con.iterdump())
    assert _demo_words_in("\n".join(names)) == [] and _demo_words_in(dump) == []
    assert "Greetje Wolters" not in dump and "[PERSOON-1]" in dump


@pytest.mark.slow
def test_annotations_are_codings_of_their_fragments(study: Path) -> None:
    con = sqlite3.connect(study / "outputs" / "kwalitatief.db")
    rows = con.execute("select f.doc_id, c.code, c.sources, c.status, c.reviewer from codings c "
                       "join fragments f on f.fragment_id = c.fragment_id where c.sources = 'annotation' "
                       "order by 1, 2").fetchall()
    assert ("g_m03", "belasting.tijd", "annotation", "annotated", "Fenna Bosma") in rows   # no rule finds it
    assert ("g_k02", "belasting.eenzaamheid", "annotation", "annotated", "Fenna Bosma") in rows
    totals = dict(con.execute("select code, n_respondents from agg_code_totals"))
    assert totals["belasting.tijd"] == 6      # five respondents by the rules, the sixth by hand (g_m03)
