"""No name, e-mail address, phone number or address of the transcripts reaches the database, the
exports or the report.

:func:`find_leaks` scans a SQLite database and any output files for ground-truth values (doc_id, kind,
value) with the run's leak guard. It runs on a database built here from a small synthetic corpus through the pipeline functions,
and - when ``make run`` has produced them - on the real outputs against ``corpus/pii_truth/part*.csv``.
"""

from __future__ import annotations

import csv
from dataclasses import asdict
from pathlib import Path

import pytest
from corpus_factory import write_csv, write_study

from kwalitatief import pseudonymise as ps
from kwalitatief import store
from kwalitatief.corpus import load_register
from kwalitatief.ingest import extract_corpus
from kwalitatief.jsonio import write_json, write_jsonl
from kwalitatief.keyscan import KeyIndex
from kwalitatief.leakguard import scan_paths
from kwalitatief.segment import segment_corpus

ROOT = Path(__file__).resolve().parents[1]
Truth = tuple[str, str, str]  # doc_id, kind, value


def load_truth(folder: Path) -> list[Truth]:
    """Ground truth rows (doc_id, kind, value) of every ``part*.csv`` in ``folder``."""
    rows: list[Truth] = []
    for path in sorted(folder.glob("part*.csv")):
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows += [(r["doc_id"].strip(), r["kind"].strip(), r["value"].strip()) for r in csv.DictReader(handle)
                     if (r.get("value") or "").strip()]
    return rows


def find_leaks(truth: list[Truth], paths: list[Path]) -> list[str]:
    """Every ground-truth value found in the given files (databases, exports, reports, folders), by the
    run's own leak guard (kwalitatief.leakguard) with the truth as its key.

    Returns one line per leak: the value, its kind and document, and where it was found."""
    index = KeyIndex([{"tag": f"{value!r} ({kind}, {doc_id})", "original": value, "doc_id": doc_id}
                      for doc_id, kind, value in sorted(set(truth))])
    return [str(leak) for leak in scan_paths(index, paths)]


# --------------------------------------------------------------------------------------------
# A synthetic corpus through the pipeline functions
# --------------------------------------------------------------------------------------------

TRANSCRIPTS = {
    "int_1": """FICTIEF TRANSCRIPT — test.
Interview met beleidsadviseur van gemeente Enschede, regio Twente

I: Mevrouw Brinkhuis, hoe kijkt u naar de proeftuin?

R: De proeftuin was een impuls voor de samenwerking in Twente. Wethouder Gerrit-Jan Oldenkamp van Enschede was er vanaf het begin bij, samen met Sanne de Haan.

Mail gerust naar s.brinkhuis@enschede.nl of bel 053 481 2290, ons adres is Langestraat 24, 7511 HC Enschede.

I: En de provincie Overijssel?

R: Gedeputeerde Ruud ter Horst was positief. De financiering stopt helaas.
""",
    "int_2": """[00:00:05] Interviewer: Wat is het doel van de regio, meneer Wolters?

[00:00:40] Hendrik Wolters: Wat OCW ermee wilde, is nooit duidelijk geworden. Sanne de Haan zei dat ook.

[00:01:10] Interviewer: En Zeeland?

[00:01:40] Hendrik Wolters: In Zeeland werken we goed samen. Bel me op 06-98765432.
""",
}
TRUTH: list[Truth] = [
    ("int_1", "persoon", "Brinkhuis"), ("int_1", "persoon", "Gerrit-Jan Oldenkamp"),
    ("int_1", "persoon", "Sanne de Haan"), ("int_1", "email", "s.brinkhuis@enschede.nl"),
    ("int_1", "telefoon", "053 481 2290"), ("int_1", "adres", "Langestraat 24"), ("int_1", "postcode", "7511 HC"),
    ("int_1", "persoon", "Ruud ter Horst"), ("int_2", "persoon", "Wolters"), ("int_2", "persoon", "Hendrik Wolters"),
    ("int_2", "persoon", "Sanne de Haan"), ("int_2", "telefoon", "06-98765432"),
]


def _synthetic_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    write_study(root)
    (corpus / "transcripts").mkdir(parents=True)
    write_csv(corpus / "regions.csv", [
        {"region": "Twente", "provinces": "Overijssel", "municipalities": "Enschede; Hengelo"},
        {"region": "Zeeland", "provinces": "Zeeland", "municipalities": "Middelburg"},
        {"region": "geen", "provinces": "", "municipalities": ""},
        {"region": "landelijk", "provinces": "", "municipalities": ""}])
    write_csv(corpus / "respondents.csv", [
        {"respondent_id": "R1", "respondent_type": "gemeente", "organisation": "gemeente Enschede", "region": "Twente"},
        {"respondent_id": "R2", "respondent_type": "provincie", "organisation": "provincie Zeeland", "region": "Zeeland"}])
    manifest = []
    for i, (doc_id, text) in enumerate(TRANSCRIPTS.items(), start=1):
        (corpus / "transcripts" / f"{doc_id}.txt").write_text(text, encoding="utf-8")
        manifest.append({"doc_id": doc_id, "path": f"transcripts/{doc_id}.txt", "doc_type": "transcript",
                         "region": "Twente" if i == 1 else "Zeeland", "respondent_id": f"R{i}",
                         "date": "2022-03-01", "title": f"Interview {i}"})
    write_csv(corpus / "manifest.csv", manifest)
    return corpus


def test_no_truth_value_reaches_a_database_built_through_the_pipeline(tmp_path: Path) -> None:
    register = load_register(_synthetic_corpus(tmp_path))
    extraction = extract_corpus(register)
    settings = ps.Settings()
    vocab = ps.build_vocabulary(register.regions, register.respondents, ps.PseudonymList(), settings)
    doc_types = {d.doc_id: d.doc_type for d in register.documents}
    result = ps.pseudonymise_corpus(extraction.documents, doc_types, vocab, settings)
    metas = {d.doc_id: asdict(d) for d in register.documents}
    fragments, _ = segment_corpus(result.documents, metas, {"unit": {"default": "paragraph"},
                                                            "model": "blank:nl+lookup"})
    out = tmp_path / "outputs"
    for doc in result.documents:
        write_json(out / "work" / "pseudonymised" / f"{doc['doc_id']}.json", doc)
    write_jsonl(out / "work" / "fragments" / "corpus.jsonl", fragments)
    extracted = {d["doc_id"]: d for d in extraction.documents}
    store.build_database(
        out / "kwalitatief.db", regions=register.regions, respondents=register.respondents,
        documents=store.document_rows(register, extracted, result.problems, store.fragment_counts(fragments), {}),
        fragments=[{k: v for k, v in f.items() if k not in ("tokens", "sents")} for f in fragments],
        problems=result.problems, provenance={"corpus_hash": "test"})

    assert find_leaks(TRUTH, [out / "kwalitatief.db", out / "work"]) == []
    assert any("[PERSOON-" in f["text"] for f in fragments)
    # the check can fail: the original extracted text does leak every value
    write_json(out / "private" / "extracted.json", extraction.documents)
    leaked = find_leaks(TRUTH, [out / "private"])
    found = {line.split(" in clear (")[0].rsplit(": ", 1)[1].split(" (")[0].strip("'") for line in leaked}
    assert found == {value for _, _, value in TRUTH}
    # the key, which stays private, lets the researcher find every original back
    assert {row["original"] for row in result.key} >= {"Gerrit-Jan Oldenkamp", "Sanne de Haan", "Hendrik Wolters"}


# --------------------------------------------------------------------------------------------
# The real outputs of `make run`
# --------------------------------------------------------------------------------------------

OUTPUTS = ROOT / "outputs"
PUBLIC_OUTPUTS = ["kwalitatief.db", "report.html", "report.md", "aggregates", "aggregates.xlsx",
                  "conclusions.json", "metrics.json", "plots", "work", "model", "exports"]


def test_no_demo_name_reaches_the_database_exports_or_report() -> None:
    truth = load_truth(ROOT / "corpus" / "pii_truth")
    if not truth or not (OUTPUTS / "kwalitatief.db").exists():
        pytest.skip("no outputs/kwalitatief.db or corpus/pii_truth yet: run `make run` first")
    paths = [OUTPUTS / name for name in PUBLIC_OUTPUTS if (OUTPUTS / name).exists()]
    leaks = find_leaks(truth, paths)
    assert not leaks, (f"{len(leaks)} personal data value(s) in the outputs (rerun `make run` if the outputs "
                       "predate the pseudonymise stage):\n" + "\n".join(leaks[:40]))
