"""A small synthetic study (register, fragments, codings) for the aggregate, conclusion and report tests."""

from __future__ import annotations

from pathlib import Path

REGIONS = ["Aland", "Bland", "Cland", "geen", "landelijk"]
RESPONDENTS = [
    {"respondent_id": "R1", "respondent_type": "gemeente", "organisation": "gemeente A", "region": "Aland"},
    {"respondent_id": "R2", "respondent_type": "provincie", "organisation": "provincie A", "region": "Aland"},
    {"respondent_id": "R3", "respondent_type": "gemeente", "organisation": "gemeente B", "region": "Bland"},
    {"respondent_id": "R4", "respondent_type": "culturele_instelling", "organisation": "theater C", "region": "Cland"},
    {"respondent_id": "R5", "respondent_type": "fonds", "organisation": "fonds", "region": "landelijk"},
    {"respondent_id": "R6", "respondent_type": "gemeente", "organisation": "gemeente X", "region": "geen"},
]
CODES = ["doel.matching", "doel.samenwerking_regio", "knelpunt.buiten_regio", "knelpunt.financiering",
         "knelpunt.onduidelijke_doelen", "knelpunt.tijdsdruk", "opinie.proeftuin", "opinie.reflectie"]

# fragment id -> codes (code, valence)
CODED = {
    "t1-1": [("knelpunt.financiering", None)],
    "t1-2": [("knelpunt.financiering", None)],
    "t1-3": [("knelpunt.financiering", None), ("opinie.proeftuin", "positief")],
    "t1-4": [("opinie.proeftuin", "positief")],
    "t2-1": [("opinie.proeftuin", "positief")],
    "t2-2": [("opinie.proeftuin", "negatief")],
    "t2-3": [("knelpunt.financiering", None)],
    "t3-1": [("doel.samenwerking_regio", None)],
    "t3-2": [("knelpunt.financiering", None)],
    "t4-1": [("opinie.proeftuin", "negatief")],
    "t4-2": [("knelpunt.onduidelijke_doelen", None)],
    "t5-1": [("knelpunt.onduidelijke_doelen", None)],
    "t6-1": [("knelpunt.buiten_regio", None)],
    "pA-1": [("doel.samenwerking_regio", None)],
    "pA-2": [],
}


def study(texts: dict[str, str] | None = None):
    """(codings, fragments, documents, respondents, regions, codes) of the synthetic study."""
    texts = texts or {}
    documents = [{"doc_id": f"t{i}", "doc_type": "transcript", "region": r["region"], "respondent_id": r["respondent_id"]}
                 for i, r in enumerate(RESPONDENTS, start=1)]
    documents.append({"doc_id": "pA", "doc_type": "profiel", "region": "Aland", "respondent_id": None})
    owner = {d["doc_id"]: d["respondent_id"] for d in documents}
    fragments = []
    for fid in CODED:
        doc_id = fid.split("-")[0]
        fragments.append({"fragment_id": fid, "doc_id": doc_id, "respondent_id": owner[doc_id],
                          "seq": int(fid.split("-")[1]), "role": "respondent" if owner[doc_id] else "tekst",
                          "speaker": "Jan Jansen" if owner[doc_id] else None, "codable": True,
                          "text": texts.get(fid, f"Tekst van fragment {fid}."), "start": 0, "end": 10})
    codings = [{"fragment_id": fid, "code": code, "valence": valence, "source": "rule"}
               for fid, codes in CODED.items() for code, valence in codes]
    return codings, fragments, documents, [dict(r) for r in RESPONDENTS], list(REGIONS), list(CODES)


# the declarations of the synthetic study (what study.yaml and the codebook's categories say)
VALENCED = [c for c in CODES if c.startswith("opinie.")]
OUTSIDE = ["geen", "landelijk"]
CATEGORIES = {"doel": "Doelen", "knelpunt": "Knelpunten", "opinie": "Opinies"}


def declarations():
    """The synthetic study's :class:`kwalitatief.study.Study`."""
    from kwalitatief.study import DocumentType, Label, Study

    return Study(path=Path("study.yaml"), title="Synthetische studie", region_label="stedelijke regio",
                 region_plural="stedelijke regio's", population_group="stedelijk",
                 population_label="in een stedelijke regio",
                 outside={"geen": "buiten een stedelijke regio", "landelijk": "landelijk"},
                 respondent_types={t: Label(t.replace("_", " "), t.replace("_", " "))
                                   for t in ("gemeente", "provincie", "culturele_instelling", "fonds")},
                 document_types={"transcript": DocumentType("interview", "interviews", True),
                                 "profiel": DocumentType("regioprofiel", "regioprofielen")})
