"""A tiny, complete corpus (register + documents) written into a temporary folder for tests."""

from __future__ import annotations

import csv
from pathlib import Path

from pdf_factory import draw_pdf

REGIONS = [
    {"region": "Twente", "profile_title": "Ruimte voor verbeelding", "prior_cultural_cooperation": "nee",
     "inhabitants_2021": "631733", "provinces": "Overijssel", "municipalities": "Enschede; Hengelo", "note": ""},
    {"region": "Zeeland", "profile_title": "", "prior_cultural_cooperation": "nee", "inhabitants_2021": "",
     "provinces": "Zeeland", "municipalities": "Middelburg; Vlissingen", "note": ""},
    {"region": "geen", "profile_title": "", "prior_cultural_cooperation": "", "inhabitants_2021": "",
     "provinces": "", "municipalities": "", "note": ""},
    {"region": "landelijk", "profile_title": "", "prior_cultural_cooperation": "", "inhabitants_2021": "",
     "provinces": "", "municipalities": "", "note": ""},
]
RESPONDENTS = [
    {"respondent_id": "R1", "respondent_type": "gemeente", "organisation": "gemeente Enschede", "region": "Twente"},
    {"respondent_id": "R2", "respondent_type": "provincie", "organisation": "provincie Zeeland", "region": "Zeeland"},
]

TRANSCRIPT_1 = """FICTIEF TRANSCRIPT — test.
Datum: 2022-03-01

I: Hoe kijkt u naar de proeftuin?

R: De proeftuin was een enorme impuls voor de samenwerking in Twente. We zijn erg tevreden.

Maar de financiering stopt en er is geen toekomstperspectief.

I: En het reflectiemoment?

R: Dat vond ik ongemakkelijk en het had geen meerwaarde.
"""

TRANSCRIPT_2 = """[00:00:05] Interviewer: Wat is het doel van de regio?

[00:00:40] Respondent: Wat OCW ermee wilde, is nooit duidelijk geworden. Dat vind ik jammer.

[00:02:10] Interviewer: Dank u.
"""


def write_csv(path: Path, rows: list[dict], fields: list[str] | None = None) -> None:
    fields = fields or list(rows[0])
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


STUDY_YAML = """title: Teststudie
description: Een kleine studie voor de tests.
regions:
  label: regio
  plural: regio's
  population_group: regionaal
  population_label: in een regio
  outside: {geen: buiten een regio, landelijk: landelijk}
respondent_types:
  gemeente: {label: gemeente, plural: gemeenten}
  provincie: {label: provincie, plural: provincies}
  culturele_instelling: culturele instelling
  fonds: fonds
document_types:
  transcript: {label: interview, plural: interviews, transcript: true}
  profiel: {label: regioprofiel, plural: regioprofielen}
protected_terms: [OCW, BIS]
"""


def write_study(root: Path, text: str = STUDY_YAML) -> Path:
    """The study's declarations (study.yaml) at ``root``."""
    path = root / "study.yaml"
    path.write_text(text, encoding="utf-8")
    return path


MANIFEST_FIELDS = ["doc_id", "path", "doc_type", "region", "respondent_id", "date", "title"]


def make_corpus(root: Path, with_corrupt_pdf: bool = False) -> Path:
    """Write a small valid corpus under ``root/corpus`` and return that folder."""
    corpus = root / "corpus"
    (corpus / "transcripts").mkdir(parents=True)
    write_study(root)
    (corpus / "profiles").mkdir()
    write_csv(corpus / "regions.csv", REGIONS)
    write_csv(corpus / "respondents.csv", RESPONDENTS)
    (corpus / "transcripts" / "int_1.txt").write_text(TRANSCRIPT_1, encoding="utf-8")
    (corpus / "transcripts" / "int_2.txt").write_bytes(TRANSCRIPT_2.encode("cp1252"))
    draw_pdf(corpus / "profiles" / "profiel_twente.pdf", [
        {"lines": ["Het doel van de regio is de samen-", "werking tussen gemeenten versterken.", "",
                   "De geldstromen zijn niet op elkaar afgestemd."]},
        {"lines": ["Tweede pagina met een alinea over de BIS-", "aanvragen van de regio."]},
    ])
    manifest = [
        {"doc_id": "int_1", "path": "transcripts/int_1.txt", "doc_type": "transcript", "region": "Twente",
         "respondent_id": "R1", "date": "2022-03-01", "title": "Interview 1"},
        {"doc_id": "int_2", "path": "transcripts/int_2.txt", "doc_type": "transcript", "region": "Zeeland",
         "respondent_id": "R2", "date": "2022-03-02", "title": "Interview 2"},
        {"doc_id": "profiel_twente", "path": "profiles/profiel_twente.pdf", "doc_type": "profiel",
         "region": "Twente", "respondent_id": "", "date": "2018-11-01", "title": "Profiel Twente"},
    ]
    if with_corrupt_pdf:
        (corpus / "profiles" / "kapot.pdf").write_bytes(b"%PDF-1.4 broken")
        manifest.append({"doc_id": "kapot", "path": "profiles/kapot.pdf", "doc_type": "profiel",
                         "region": "Zeeland", "respondent_id": "", "date": "2018-11-01", "title": "Kapot"})
    write_csv(corpus / "manifest.csv", manifest, MANIFEST_FIELDS)
    return corpus
