"""No study in the code: nothing under src/ names the demo study's regions, types, categories, codes or terms.

The terms are read from the demo study's own files (study.yaml, corpus/regions.csv, codebook/codebook.yaml),
plus a fixed list of the demo's words. Only the pseudonymiser may use Dutch words of public administration and
geography (province names, ``gemeente``, ``provincie``, ``Rijk``): they are Dutch, not the demo's.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import yaml

from kwalitatief.pseudonymise import PROVINCES
from kwalitatief.study import TRANSCRIPT_KIND

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "kwalitatief"
FIXED = ("stedelijke regio", "stedelijke regio's", "proeftuin", "proeftuinen", "cultuur", "culturele", "opinie",
         "opinies", "knelpunten", "doelen", "cultuurregio", "cultuurprofiel", "landelijk", "geen regio")
# Dutch words, not the demo's: the pseudonymiser finds municipalities ("gemeente Zwolle"), keeps provinces
# and the state ("het Rijk").
DUTCH_ADMINISTRATION = {p.casefold() for p in PROVINCES} | {"gemeente", "provincie", "rijk"}


# demo values that are also everyday Dutch words: found only as a quoted literal ("geen", 'geen')
EVERYDAY_WORDS = {"geen"}


def demo_terms() -> set[str]:
    study = yaml.safe_load((ROOT / "study.yaml").read_text(encoding="utf-8"))
    terms = set(FIXED)
    terms |= set(study["respondent_types"]) | set(study["document_types"]) - {TRANSCRIPT_KIND}
    terms |= set(study["regions"]["outside"]) | {study["regions"]["population_group"]}
    terms |= set(study["protected_terms"])
    with open(ROOT / "corpus" / "regions.csv", encoding="utf-8", newline="") as handle:
        terms |= {row["region"] for row in csv.DictReader(handle)}
    codebook = yaml.safe_load((ROOT / "codebook" / "codebook.yaml").read_text(encoding="utf-8"))
    for category in codebook["categories"]:
        terms.add(category["id"])
        terms |= {code["id"] for code in category["codes"]}
    return {t for t in terms if t}


def test_the_demo_terms_are_read_from_its_files():
    terms = demo_terms()
    assert {"gemeente", "opinie.proeftuin", "We the North", "OCW", "profiel", "knelpunt"} <= terms
    assert len(terms) > 50


def test_src_names_no_term_of_the_demo_study():
    terms = sorted(demo_terms(), key=len, reverse=True)
    found = []
    for path in sorted(SRC.rglob("*")):
        if not path.is_file() or path.suffix not in (".py", ".j2", ".js", ".css", ".html"):
            continue
        text = path.read_text(encoding="utf-8")
        for term in terms:
            if path.name == "pseudonymise.py" and term.casefold() in DUTCH_ADMINISTRATION:
                continue
            pattern = (r"""(?<=["'])""" + re.escape(term) + r"""(?=["'])""" if term in EVERYDAY_WORDS
                       else r"(?<![\w.])" + re.escape(term) + r"(?![\w])")
            for match in re.finditer(pattern, text, re.IGNORECASE):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)!r}")
    assert not found, "demo terms in src/:\n" + "\n".join(found)
