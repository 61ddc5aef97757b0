"""A tiny project with everything the review page, agreement and REFI-QDA exchange read.

Two pseudonymised documents cut into fragments (with offsets), rule / classifier / merged codings, the
classifier's thresholds and the SQLite database the report stage would build.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_classify import LEXICON, MINI_CODEBOOK, STAGE_PARAMS

from kwalitatief import store
from kwalitatief.jsonio import write_json, write_jsonl
from kwalitatief.segment import fragment_id, text_hash

DOCS = {
    "int_a": [("I", "interviewer", "Hoe kijkt u naar de proeftuin?"),
              ("R", "respondent", "Ik vind de proeftuin <b>heel</b> waardevol & <script>alert(1)</script> leerzaam."),
              ("R", "respondent", "De deadline was veel te krap, we hadden nauwelijks tijd."),
              ("R", "respondent", "We willen samen optrekken met de instellingen in de regio.")],
    "int_b": [("R", "respondent", "De termijn van de minister was onhaalbaar kort."),
              ("R", "respondent", "Het gebouw staat in het centrum."),
              ("R", "respondent", "De proeftuin heeft ons echt geholpen.")],
}
RESPONDENT = {"int_a": "R1", "int_b": "R2"}
REGION = {"int_a": "Aland", "int_b": "Bland"}
CODEBOOK_VERSION = "cb-test"
# (doc, paragraph index) -> [(code, valence, source, score)]
MACHINE = {
    ("int_a", 1): [("opinie.proeftuin", "positief", "rule", None), ("opinie.proeftuin", "positief", "classifier", 0.81)],
    ("int_a", 2): [("knelpunt.tijdsdruk", None, "rule", None)],
    ("int_a", 3): [("doel.samenwerking_regio", None, "classifier", 0.52)],
    ("int_b", 0): [("knelpunt.tijdsdruk", None, "classifier", 0.66)],
    ("int_b", 2): [("opinie.proeftuin", "positief", "rule", None)],
}
# the classify stage's settings for tests that run it: a quick evaluation (it is not what they test)
FAST_PARAMS = {**STAGE_PARAMS, "classify": {**STAGE_PARAMS["classify"], "cv_folds": 2, "threshold_folds": 2,
                                            "learning_curve": [1.0]}}
THRESHOLDS = {"opinie.proeftuin": 0.5, "knelpunt.tijdsdruk": 0.45, "doel.samenwerking_regio": 0.5}


def build_fragments(docs: dict[str, list[tuple[str, str, str]]]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    texts: dict[str, str] = {}
    fragments = []
    for doc_id, paras in docs.items():
        text, pos = "", 0
        for seq, (speaker, role, para) in enumerate(paras):
            start = len(text)
            text += para
            fragments.append({"fragment_id": fragment_id(doc_id, para), "doc_id": doc_id, "seq": seq, "text": para,
                              "start": start, "end": start + len(para), "page": None, "role": role,
                              "speaker": speaker, "timestamp": None, "codable": role == "respondent",
                              "respondent_id": RESPONDENT[doc_id] if role == "respondent" else None,
                              "tokens": [], "sents": [], "lemmas": para.lower(), "text_hash": text_hash(para)})
            text += "\n\n"
            pos += 1
        texts[doc_id] = text
    return texts, fragments


def machine_rows(fragments: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    by_pos = {(f["doc_id"], f["seq"]): f for f in fragments}
    rule, clf = [], []
    for (doc, seq), rows in MACHINE.items():
        frag = by_pos[(doc, seq)]
        for code, valence, source, score in rows:
            row = {"fragment_id": frag["fragment_id"], "code": code, "valence": valence, "source": source,
                   "rule_id": f"{code}.r1" if source == "rule" else None, "evidence": None, "start": None,
                   "end": None, "score": score, "codebook_version": CODEBOOK_VERSION,
                   "model_version": "clf-test" if source == "classifier" else None}
            if source == "classifier":      # what drove the score (classifier.model.Model.drivers)
                row.update(threshold=THRESHOLDS[code], features=["samen optrekken", "~regio~"]
                           if code == "doel.samenwerking_regio" else [])
            if source == "rule":
                word = {"opinie.proeftuin": "proeftuin", "knelpunt.tijdsdruk": "te krap"}[code]
                at = frag["text"].find(word)
                row.update(evidence=word, start=at, end=at + len(word))
            (rule if source == "rule" else clf).append(row)
    return rule, clf


def make_review_project(root: Path, docs: dict | None = None, build_db: bool = True) -> dict[str, Any]:
    """Write the project into ``root``; returns texts, fragments, rule/classifier/merged codings."""
    from kwalitatief.classifier.merge import merge_codings

    (root / "codebook/lexicon").mkdir(parents=True, exist_ok=True)
    (root / "codebook/annotations").mkdir(parents=True, exist_ok=True)
    (root / "codebook/codebook.yaml").write_text(MINI_CODEBOOK, encoding="utf-8")
    (root / "codebook/lexicon/valence.tsv").write_text(LEXICON, encoding="utf-8")
    (root / "codebook/reviews.jsonl").touch()
    texts, fragments = build_fragments(docs or DOCS)
    for doc_id, text in texts.items():
        write_json(root / "outputs/work/pseudonymised" / f"{doc_id}.json",
                   {"doc_id": doc_id, "text": text, "replacements": []})
        write_json(root / "outputs/private/extracted" / f"{doc_id}.json", {"doc_id": doc_id, "text": text})
    write_jsonl(root / "outputs/work/fragments/corpus.jsonl", fragments)
    rule, clf = machine_rows(fragments)
    merged = merge_codings(rule, clf, "union", list(THRESHOLDS), "rule_first", CODEBOOK_VERSION, "clf-test")
    write_jsonl(root / "outputs/work/codings_rule/corpus.jsonl", rule)
    write_jsonl(root / "outputs/work/codings_classifier/corpus.jsonl", clf)
    write_jsonl(root / "outputs/work/codings/corpus.jsonl", merged)
    write_json(root / "outputs/model/model.json", {"thresholds": THRESHOLDS, "trained_codes": sorted(THRESHOLDS)})
    if build_db:
        build_database(root, fragments, merged, rule + clf)
    return {"texts": texts, "fragments": fragments, "rule": rule, "classifier": clf, "merged": merged}


def build_database(root: Path, fragments: list[dict[str, Any]], merged: list[dict[str, Any]],
                   machine: list[dict[str, Any]]) -> None:
    doc_ids = sorted({f["doc_id"] for f in fragments})
    store.build_database(
        root / "outputs/kwalitatief.db",
        regions=[{"region": r} for r in sorted(set(REGION.values()))],
        respondents=[{"respondent_id": RESPONDENT[d], "respondent_type": "gemeente" if d == "int_a" else "provincie",
                      "organisation": "x", "region": REGION[d]} for d in sorted(RESPONDENT)],
        documents=[{"doc_id": d, "path": f"transcripts/{d}.txt", "doc_type": "transcript",
                    "region": REGION.get(d, "Aland"), "respondent_id": RESPONDENT.get(d), "title": f"Interview {d}"}
                   for d in doc_ids],
        fragments=fragments, problems=[], provenance={"test": 1}, codings=merged, machine_codings=machine)
