"""The classifier: training data matching, determinism, thresholds, fall-back to rules, merging, evaluation."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kwalitatief.classifier.annotations import load_annotations, match_annotations, original_offset
from kwalitatief.classifier.cached import classifier_rows
from kwalitatief.classifier.examples import Annotation, Example, LabelRow, build_examples, training_data_hash
from kwalitatief.classifier.merge import merge_codings
from kwalitatief.classifier.model import load_model, save_model
from kwalitatief.classifier.training import train
from kwalitatief.evaluate import cross_validate, score, stratified_folds
from kwalitatief.jsonio import dumps

ROOT = Path(__file__).resolve().parents[1]
CODES = ["doel.samenwerking_regio", "knelpunt.tijdsdruk", "opinie.proeftuin", "knelpunt.status"]

# Small synthetic Dutch fragments: each code has its own vocabulary, phrased in varied ways.
PHRASES = {
    "doel.samenwerking_regio": ["we willen samen optrekken met de instellingen in de regio",
                                "het samenwerkingsverband moet de culturele infrastructuur versterken",
                                "de gemeenten gaan meer samenwerken aan programmering",
                                "regionale samenwerking tussen podia is het doel"],
    "knelpunt.tijdsdruk": ["de deadline was veel te krap",
                           "we hadden nauwelijks tijd om het profiel te schrijven",
                           "alles moest in een paar weken af, dat was een race tegen de klok",
                           "de termijn van de minister was onhaalbaar kort"],
    "opinie.proeftuin": ["de proeftuin vond ik heel waardevol",
                         "over de proeftuin ben ik positief, het gaf energie",
                         "die proeftuinperiode was een mooie impuls",
                         "de proeftuin heeft ons echt geholpen"],
}
FILLER = ["we praten ook over het weer", "de wethouder was er die dag niet", "het gebouw staat in het centrum",
          "ik werk hier sinds een paar jaar", "de vergadering begon om negen uur", "er kwamen veel mensen"]


def synthetic_examples(n: int = 60, seed: int = 1, rare: int = 2) -> list[Example]:
    """``n`` labelled fragments; knelpunt.status occurs only ``rare`` times."""
    rng = random.Random(seed)
    codes = list(PHRASES)
    examples = []
    for i in range(n):
        chosen = [c for c in codes if rng.random() < 0.35]
        parts = [rng.choice(PHRASES[c]) for c in chosen] + [rng.choice(FILLER)]
        if i < rare:
            chosen.append("knelpunt.status")
            parts.append("de regio heeft geen formele status")
        rng.shuffle(parts)
        text = ". ".join(p.capitalize() for p in parts) + "."
        labels = {c: c in chosen for c in CODES}
        valences = {"opinie.proeftuin": "positief"} if "opinie.proeftuin" in chosen else {}
        examples.append(Example(f"doc-{i:04d}", "doc", text, text.lower().replace(".", " ."), labels, valences,
                                [f"synthetic:{i}"]))
    return examples


PARAMS = {"classify": {"min_examples": 4, "C": 4.0, "threshold_folds": 3, "cv_folds": 3,
                       "learning_curve": [0.5, 1.0], "seed": 7}}


def fragments_of(examples: list[Example]) -> list[dict]:
    return [{"fragment_id": e.fragment_id, "doc_id": e.doc_id, "text": e.text, "lemmas": e.lemmas,
             "codable": True} for e in examples]


# ------------------------------------------------------------------------------------ training

def test_two_trainings_give_identical_codings_and_model(tmp_path):
    examples = synthetic_examples()
    frags = fragments_of(synthetic_examples(n=30, seed=99))
    model_a, _ = train(examples, CODES, PARAMS, "cb1")
    model_b, _ = train(list(reversed(examples)), CODES, PARAMS, "cb1")
    rows_a, rows_b = classifier_rows(model_a, frags), classifier_rows(model_b, frags)
    assert rows_a, "the classifier should code some of the fragments"
    assert "\n".join(map(dumps, rows_a)) == "\n".join(map(dumps, rows_b))
    assert model_a.version == model_b.version and model_a.thresholds == model_b.thresholds
    save_model(model_a, tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    assert "\n".join(map(dumps, classifier_rows(loaded, frags))) == "\n".join(map(dumps, rows_a))
    meta = json.loads((tmp_path / "model" / "model.json").read_text())
    assert meta["codebook_version"] == "cb1"
    assert meta["training_data_hash"] == training_data_hash(examples)
    assert set(meta["thresholds"]) == set(model_a.trained_codes)


def test_thresholds_decide_which_codes_are_given():
    examples = synthetic_examples()
    model, _ = train(examples, CODES, PARAMS, "cb1")
    code = "knelpunt.tijdsdruk"
    assert 0.0 < model.thresholds[code] < 1.0
    probs, _ = model.scores(examples)
    predicted = model.predict(examples)
    for i, preds in enumerate(predicted):
        given = {p.code for p in preds}
        for c in model.trained_codes:
            assert (c in given) == (probs[c][i] >= model.thresholds[c])
    model.thresholds[code] = 1.01
    assert not any(p.code == code for preds in model.predict(examples) for p in preds)
    model.thresholds[code] = 0.0
    assert all(any(p.code == code for p in preds) for preds in model.predict(examples))


def test_threshold_shrinkage_moves_a_code_with_few_examples_toward_the_pooled_threshold(tmp_path):
    """classify.threshold_shrinkage k: a code's threshold moves toward the pooled one by k / (n + k) of the
    way, n its positive examples, so the rare code moves most; the model records its own and the pooled one."""
    examples = synthetic_examples(n=90, rare=9)
    params = {"classify": {**PARAMS["classify"], "threshold_method": "balanced"}}
    plain, _ = train(examples, CODES, params, "cb1")
    k = 20
    shrunk, _ = train(examples, CODES, {"classify": {**params["classify"], "threshold_shrinkage": k}}, "cb1")
    rare, common = "knelpunt.status", "doel.samenwerking_regio"
    cv = shrunk.threshold_cv
    pooled = cv[rare]["pooled"]
    assert 0 < pooled < 1 and {c["pooled"] for c in cv.values()} == {pooled}
    moved = {}
    for code in (rare, common):
        own, n = plain.thresholds[code], cv[code]["positives"]
        assert cv[code]["chosen"] == own and shrunk.thresholds[code] == cv[code]["threshold"]
        assert own != pooled, "the test needs a code whose own threshold differs from the pooled one"
        assert shrunk.thresholds[code] == pytest.approx(own + k / (n + k) * (pooled - own), abs=1e-4)
        moved[code] = (shrunk.thresholds[code] - own) / (pooled - own)
    assert cv[rare]["positives"] < cv[common]["positives"]
    assert moved[rare] > moved[common] > 0
    assert shrunk.version != plain.version and shrunk.settings["threshold_shrinkage"] == k
    save_model(shrunk, tmp_path / "shrunk")
    assert json.loads((tmp_path / "shrunk/model.json").read_text())["threshold_cv"][rare]["pooled"] == pooled

    # off (0) is the model as before the setting existed: same settings, same version, same bytes
    off, _ = train(examples, CODES, {"classify": {**params["classify"], "threshold_shrinkage": 0}}, "cb1")
    assert "threshold_shrinkage" not in off.settings and off.version == plain.version
    assert off.threshold_cv == plain.threshold_cv and "pooled" not in off.threshold_cv[rare]
    save_model(off, tmp_path / "off")
    save_model(plain, tmp_path / "plain")
    for name in ("model.joblib", "model.json"):
        assert (tmp_path / "off" / name).read_bytes() == (tmp_path / "plain" / name).read_bytes()


@pytest.mark.parametrize("value", [-1, True, "veel"])
def test_threshold_shrinkage_must_be_a_number_from_zero(value):
    from kwalitatief.classifier.settings import ClassifyError

    with pytest.raises(ClassifyError, match="threshold_shrinkage"):
        train(synthetic_examples(), CODES, {"classify": {**PARAMS["classify"], "threshold_shrinkage": value}}, "cb1")


def test_opinie_codings_carry_a_valence_and_others_none():
    examples = synthetic_examples()
    for i, ex in enumerate(examples):       # give the valence model two classes to learn
        if "opinie.proeftuin" in ex.valences and i % 3 == 0:
            ex.valences["opinie.proeftuin"] = "negatief"
    model, _ = train(examples, CODES, PARAMS, "cb1")
    rows = classifier_rows(model, fragments_of(examples))
    assert {r["valence"] for r in rows if r["code"].startswith("opinie.")} <= {"positief", "negatief", "gemengd"}
    assert any(r["code"].startswith("opinie.") for r in rows)
    assert all(r["valence"] is None for r in rows if not r["code"].startswith("opinie."))
    assert all(r["source"] == "classifier" and 0 <= r["score"] <= 1 for r in rows)


def test_code_with_too_few_annotations_falls_back_to_rules_with_a_clear_message():
    examples = synthetic_examples(rare=2)
    model, problems = train(examples, CODES, PARAMS, "cb1")
    assert "knelpunt.status" in model.fallback and "knelpunt.status" not in model.trained_codes
    messages = [p["message"] for p in problems if "knelpunt.status" in p["message"]]
    assert messages and "rules only" in messages[0] and "2 positive" in messages[0]
    frags = fragments_of(examples)
    clf = classifier_rows(model, frags)
    assert not any(r["code"] == "knelpunt.status" for r in clf)
    rule = [{"fragment_id": frags[0]["fragment_id"], "code": "knelpunt.status", "valence": None, "source": "rule",
             "rule_id": "knelpunt.status.geen_status", "evidence": "geen formele status", "start": 8, "end": 27,
             "score": None, "codebook_version": "cb1", "model_version": None}]
    for policy in ("union", "intersection", "classifier", "rules_only"):
        merged = merge_codings(rule, clf, policy, model.trained_codes)
        status = [r for r in merged if r["code"] == "knelpunt.status"]
        assert len(status) == 1 and status[0]["sources"] == "rule", policy


def test_no_training_data_at_all_does_not_crash():
    model, problems = train([], CODES, PARAMS, "cb1")
    assert model.trained_codes == [] and set(model.fallback) == set(CODES)
    assert classifier_rows(model, fragments_of(synthetic_examples(n=3))) == []


# ------------------------------------------------------------------------------------ training data

def write_annotations(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_annotations_match_pseudonymised_fragments_and_unmatched_ones_are_reported(tmp_path):
    original = "Ik sprak met Jan  de Vries over de krappe deadline.\nDaarna niets meer."
    pseudo = "Ik sprak met [PERSOON-1] over de krappe deadline.\nDaarna niets meer."
    # Jan  de Vries: original 13..26, tag in pseudonymised text 13..24
    reps = [{"start": 13, "end": 24, "tag": "[PERSOON-1]", "orig_start": 13, "orig_end": 26}]
    assert original_offset(reps, 49) == 51
    (tmp_path / "work/pseudonymised").mkdir(parents=True)
    (tmp_path / "private/extracted").mkdir(parents=True)
    (tmp_path / "work/pseudonymised/d1.json").write_text(json.dumps({"text": pseudo, "replacements": reps}))
    (tmp_path / "private/extracted/d1.json").write_text(json.dumps({"text": original}))
    frags = [{"fragment_id": "d1-a", "doc_id": "d1", "text": pseudo[:49], "start": 0, "end": 49, "lemmas": ""},
             {"fragment_id": "d1-b", "doc_id": "d1", "text": pseudo[50:], "start": 50, "end": 68, "lemmas": ""}]
    from kwalitatief.classifier.annotations import original_texts

    originals = original_texts(frags, tmp_path / "work/pseudonymised", tmp_path / "private/extracted")
    assert originals["d1-a"] == "Ik sprak met Jan  de Vries over de krappe deadline."
    write_annotations(tmp_path / "ann/a.jsonl", [
        {"doc_id": "d1", "text": "Ik sprak met Jan de Vries over de  krappe deadline.",
         "codes": [{"code": "knelpunt.tijdsdruk"}], "coder": "A"},
        {"doc_id": "d1", "text": "Daarna niets meer.", "codes": [], "coder": "A"},
        {"doc_id": "d1", "text": "Een zin die nergens staat.", "codes": [], "coder": "A"},
        {"doc_id": "d9", "text": "Daarna niets meer.", "codes": [], "coder": "A"},
    ])
    (tmp_path / "ann/b.jsonl").write_text('{"doc_id": "d1", "text": "x", "codes": [{"code": "doel.bestaat_niet"}]}\n'
                                          "{not json\n", encoding="utf-8")
    annotations, problems = load_annotations(tmp_path / "ann", CODES)
    assert len(annotations) == 4
    assert any("b.jsonl:1" in p["message"] and "doel.bestaat_niet" in p["message"] for p in problems)
    assert any("b.jsonl:2" in p["message"] and "not valid JSON" in p["message"] for p in problems)
    pairs, match_problems = match_annotations(annotations, frags, originals)
    assert [(a.origin.rsplit(":", 1)[1], f["fragment_id"]) for a, f in pairs] == [("1", "d1-a"), ("2", "d1-b")]
    assert len(match_problems) == 2
    assert any("a.jsonl:3" in p["message"] and "no fragment" in p["message"] for p in match_problems)
    assert any("a.jsonl:4" in p["message"] and "'d9'" in p["message"] for p in match_problems)
    # Without the original documents the tags still match any name.
    pairs2, _ = match_annotations(annotations, frags, {})
    assert [f["fragment_id"] for _, f in pairs2] == ["d1-a", "d1-b"]


def test_extra_labels_from_reviews_join_and_override_the_annotations():
    frags = [{"fragment_id": f"d-{i}", "doc_id": "d", "text": f"tekst {i}", "lemmas": f"tekst {i}"} for i in range(3)]
    ann = Annotation("d", "tekst 0", {"knelpunt.tijdsdruk": None}, "A", "a.jsonl:1")
    examples, problems = build_examples([(ann, frags[0])], CODES, frags, [
        LabelRow("d-0", "knelpunt.tijdsdruk", False, origin="reviews.jsonl:1"),
        LabelRow("d-1", "opinie.proeftuin", True, "negatief", origin="reviews.jsonl:2"),
        LabelRow("d-gone", "opinie.proeftuin", True, "positief", origin="reviews.jsonl:3"),
    ])
    by_id = {e.fragment_id: e for e in examples}
    assert by_id["d-0"].labels["knelpunt.tijdsdruk"] is False
    assert by_id["d-1"].labels == {"opinie.proeftuin": True}          # other codes stay unknown
    assert by_id["d-1"].valences == {"opinie.proeftuin": "negatief"}
    assert any("reviews.jsonl:3" in p["message"] and "no longer exists" in p["message"] for p in problems)


def test_an_annotation_change_changes_the_training_hash_and_retrains_through_dvc():
    examples = synthetic_examples()
    before = training_data_hash(examples)
    examples[5].labels["knelpunt.tijdsdruk"] = not examples[5].labels["knelpunt.tijdsdruk"]
    assert training_data_hash(examples) != before
    model_a, _ = train(synthetic_examples(), CODES, PARAMS, "cb1")
    model_b, _ = train(examples, CODES, PARAMS, "cb1")
    assert model_a.version != model_b.version
    stage = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["classify"]
    deps = set(stage["deps"])
    assert {"codebook/annotations", "codebook/codebook.yaml", "outputs/work/fragments"} <= deps
    assert "classify" in stage["params"]
    assert {"outputs/work/codings", "outputs/work/codings_classifier"} <= {
        next(iter(o)) if isinstance(o, dict) else o for o in stage["outs"]}


# ------------------------------------------------------------------------------------ merging

def test_merge_policies_keep_provenance_of_both_sources():
    rule = [{"fragment_id": "f1", "code": "opinie.proeftuin", "valence": "negatief", "rule_id": "opinie.proeftuin.r",
             "evidence": "rommelig", "start": 3, "end": 11, "codebook_version": "cb"},
            {"fragment_id": "f2", "code": "knelpunt.tijdsdruk", "valence": None, "rule_id": "knelpunt.tijdsdruk.r",
             "evidence": "krap", "start": 0, "end": 4, "codebook_version": "cb"}]
    clf = [{"fragment_id": "f1", "code": "opinie.proeftuin", "valence": "positief", "score": 0.8,
            "model_version": "clf-1"},
           {"fragment_id": "f3", "code": "knelpunt.tijdsdruk", "valence": None, "score": 0.6, "model_version": "clf-1"}]
    trained = ["opinie.proeftuin", "knelpunt.tijdsdruk"]
    union = {(r["fragment_id"], r["code"]): r for r in merge_codings(rule, clf, "union", trained)}
    both = union[("f1", "opinie.proeftuin")]
    assert both["sources"] == "rule+classifier" and both["rule_id"] == "opinie.proeftuin.r"
    assert both["score"] == 0.8 and both["start"] == 3 and both["valence"] == "negatief"
    assert both["status"] == "unreviewed" and both["reviewer"] is None
    assert union[("f2", "knelpunt.tijdsdruk")]["sources"] == "rule"
    assert union[("f3", "knelpunt.tijdsdruk")]["sources"] == "classifier"
    assert union[("f3", "knelpunt.tijdsdruk")]["model_version"] == "clf-1"
    assert union[("f2", "knelpunt.tijdsdruk")]["model_version"] is None
    keys = lambda rows: {(r["fragment_id"], r["code"]) for r in rows}  # noqa: E731
    assert keys(merge_codings(rule, clf, "intersection", trained)) == {("f1", "opinie.proeftuin")}
    assert keys(merge_codings(rule, clf, "classifier", trained)) == {("f1", "opinie.proeftuin"),
                                                                     ("f3", "knelpunt.tijdsdruk")}
    assert keys(merge_codings(rule, clf, "rules_only", trained)) == keys(rule)
    flipped = merge_codings(rule, clf, "union", trained, valence_from="classifier_first")
    assert flipped[0]["valence"] == "positief"


# ------------------------------------------------------------------------------------ evaluation

def test_folds_are_stratified_and_deterministic():
    examples = synthetic_examples(n=60, rare=6)
    folds = stratified_folds(examples, 3, seed=7)
    assert folds == stratified_folds(list(examples), 3, seed=7)
    for code in CODES:
        per_fold = [sum(1 for e, f in zip(examples, folds) if f == k and e.labels[code]) for k in range(3)]
        assert max(per_fold) - min(per_fold) <= 1, (code, per_fold)
    sizes = [folds.count(k) for k in range(3)]
    assert max(sizes) - min(sizes) <= 2


def test_scores_match_a_hand_computed_example():
    examples = [Example(str(i), "d", "t", "t", {"knelpunt.tijdsdruk": g}) for i, g in
                enumerate([True, True, True, False, False, False, False, False])]
    preds = [{"knelpunt.tijdsdruk": None}, {"knelpunt.tijdsdruk": None}, {}, {"knelpunt.tijdsdruk": None},
             {}, {}, {}, {}]
    s = score(examples, preds, ["knelpunt.tijdsdruk"])
    code = s["per_code"]["knelpunt.tijdsdruk"]
    # tp=2 fp=1 fn=1 tn=4: p=r=f1=2/3; po=6/8, pe=(3*3+5*5)/64=34/64 -> kappa=(48-34)/(64-34)=14/30
    assert code["precision"] == code["recall"] == code["f1"] == round(2 / 3, 4)
    assert code["kappa"] == round(14 / 30, 4)
    assert s["micro_f1"] == round(2 / 3, 4)


def test_cross_validation_reports_rules_classifier_merged_and_a_learning_curve():
    examples = synthetic_examples(n=60, rare=6)
    rule_preds = {e.fragment_id: {"knelpunt.status": None} for e in examples if "formele status" in e.text}
    cv = cross_validate(examples, CODES, PARAMS, rule_preds)
    results = cv["results"]
    assert results["rules"]["per_code"]["knelpunt.status"]["f1"] == 1.0
    assert results["rules"]["per_code"]["knelpunt.tijdsdruk"]["f1"] == 0.0
    assert results["classifier"]["per_code"]["knelpunt.tijdsdruk"]["f1"] > 0.7
    assert results["merged"]["micro_f1"] >= results["rules"]["micro_f1"]
    assert [p["n_annotations"] for p in cv["learning_curve"]] == [20, 40]
    assert cv == cross_validate(examples, CODES, PARAMS, rule_preds)


# ------------------------------------------------------------------------------------ the stage

MINI_CODEBOOK = """\
lexicon: lexicon/valence.tsv
negators: [niet, geen, nooit, nauwelijks]
clause_breaks: [want, omdat]
contrast: [maar, echter]
cues: {}
categories:
  - id: doel
    label: Doelen
    codes:
      - id: doel.samenwerking_regio
        label: Samenwerking in de regio
        definition: De regio is er om samen te werken.
        include: [Samenwerking binnen de regio als doel.]
        exclude: [Samenwerking met het rijk.]
        examples: [We willen samenwerken in de regio., Het samenwerkingsverband versterkt de regio.]
        rules:
          - id: doel.samenwerking_regio.samenwerking
            match: [samenwerking|samenwerkingsverband]
  - id: knelpunt
    label: Knelpunten
    codes:
      - id: knelpunt.tijdsdruk
        label: Tijdsdruk
        definition: Te weinig tijd.
        include: [Krappe termijnen.]
        exclude: [Planning zonder probleem.]
        examples: [De deadline was krap., Er was geen tijd.]
        rules:
          - id: knelpunt.tijdsdruk.deadline
            match: [deadline]
      - id: knelpunt.status
        label: Geen status
        definition: De regio heeft geen formele status.
        include: [Geen formele status.]
        exclude: [Status als feit.]
        examples: [De regio heeft geen formele status., Zonder status telt de regio niet.]
        rules:
          - id: knelpunt.status.formeel
            match: [formeel|formele status]
            negation: ignore
  - id: opinie
    label: Opinies
    valence: true
    codes:
      - id: opinie.proeftuin
        label: Proeftuin
        definition: Een oordeel over de proeftuin.
        include: [Evaluatie van de proeftuin.]
        exclude: [De proeftuin alleen genoemd.]
        examples: [De proeftuin was waardevol., De proeftuin was rommelig.]
        rules:
          - id: opinie.proeftuin.topic
            match: [proeftuin]
"""
LEXICON = "waardevol\tpositief\npositief\tpositief\nrommelig\tnegatief\n"


def make_project(root: Path, examples: list[Example]) -> list[dict]:
    """A tiny project: codebook, fragments (tokenised), rule codings of the code stage, annotations."""
    from kwalitatief.codebook import load_codebook
    from kwalitatief.coding import code_fragments, tokenise
    from kwalitatief.jsonio import write_jsonl
    from kwalitatief.nlp import load_nlp

    (root / "codebook/lexicon").mkdir(parents=True)
    (root / "codebook/codebook.yaml").write_text(MINI_CODEBOOK, encoding="utf-8")
    (root / "codebook/lexicon/valence.tsv").write_text(LEXICON, encoding="utf-8")
    nlp = load_nlp("blank:nl+lookup")
    frags = tokenise([e.text for e in examples], nlp)
    for frag, ex in zip(frags, examples):
        frag.update(fragment_id=ex.fragment_id, doc_id=ex.doc_id, codable=True,
                    lemmas=" ".join(t[2] for t in frag["tokens"]))
    write_jsonl(root / "outputs/work/fragments/corpus.jsonl", frags)
    codebook = load_codebook(root / "codebook/codebook.yaml")
    rows = [{"fragment_id": f["fragment_id"], "codebook_version": codebook.version, "model_version": None, **r}
            for f, coded in zip(frags, code_fragments(frags, codebook, nlp)) for r in coded]
    write_jsonl(root / "outputs/work/codings_rule/corpus.jsonl", rows)
    write_annotations(root / "codebook/annotations/a.jsonl", [
        {"doc_id": e.doc_id, "text": e.text, "coder": "T",
         "codes": [{"code": c, **({"valence": e.valences[c]} if c in e.valences else {})} for c in e.positives()]}
        for e in examples])
    return frags


STAGE_PARAMS = {"workers": 1, "nlp": {"model": "blank:nl+lookup"}, **PARAMS}


def test_the_classify_stage_trains_codes_merges_and_evaluates_deterministically(tmp_path):
    import shutil
    import subprocess
    import sys

    make_project(tmp_path, synthetic_examples(n=60, rare=2))
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(STAGE_PARAMS), encoding="utf-8")
    script = ROOT / "pipeline" / "classify.py"
    run = lambda: subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,  # noqa: E731
                                 text=True, timeout=120)
    first = run()
    assert first.returncode == 0, first.stderr
    assert "knelpunt.status is coded by the rules only" in first.stderr
    out = tmp_path / "outputs"
    files = ["work/codings_classifier", "work/codings", "metrics.json", "plots/f1_per_code.csv",
             "plots/learning_curve.csv", "model/model.json", "work/problems_classify.jsonl", "metrics_detail.json"]
    def read(name: str) -> bytes:   # a codings folder: its per-document files in name order
        folder = out / name
        return b"".join(p.read_bytes() for p in sorted(folder.glob("*.jsonl"))) if folder.is_dir() else folder.read_bytes()

    snapshot = {name: read(name) for name in files}
    merged = [json.loads(line) for line in snapshot["work/codings"].splitlines()]
    sources = {r["sources"] for r in merged}
    # the fragments of this project are annotated: their annotation is their coding (manual coding counts)
    assert "annotation" in sources and sources <= {"annotation", "rule", "classifier", "rule+classifier"}
    assert "knelpunt.status" in {r["code"] for r in merged if r["sources"] == "annotation"}
    summary = json.loads(snapshot["metrics.json"])  # what `dvc metrics show` prints: one row per system
    assert {"rules", "classifier", "merged"} <= set(summary) and "per_code" not in summary
    metrics = json.loads(snapshot["metrics_detail.json"])
    assert {"rules", "classifier", "merged", "learning_curve", "per_code"} <= set(metrics)
    assert metrics["per_code"]["knelpunt.status"]["rules"]["f1"] == 1.0
    assert "knelpunt.status" in metrics["rules_only_codes"]
    assert json.loads(snapshot["model/model.json"])["rules_only_codes"]["knelpunt.status"].startswith("2 positive")
    shutil.rmtree(out / "model")
    for name in files[:5]:
        shutil.rmtree(out / name) if (out / name).is_dir() else (out / name).unlink()
    second = run()
    assert second.returncode == 0, second.stderr
    assert {name: read(name) for name in files} == snapshot


def test_code_file_uses_rules_and_the_trained_model_together(tmp_path):
    from click.testing import CliRunner

    from kwalitatief.classify import train_from_project
    from kwalitatief.cli import main

    make_project(tmp_path, synthetic_examples(n=60, rare=2))
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(STAGE_PARAMS), encoding="utf-8")
    inp = tmp_path / "in.jsonl"
    inp.write_text("\n".join(json.dumps({"id": i, "text": t}) for i, t in [
        ("a", "De deadline was veel te krap, we hadden nauwelijks tijd."),
        ("b", "De termijn was onhaalbaar kort, een race tegen de klok."),
        ("c", "Onze regio heeft geen formele status."),
        ("d", "De vergadering begon om negen uur."),
    ]) + "\n", encoding="utf-8")
    args = ["code-file", str(inp), str(tmp_path / "out.jsonl"), "--codebook", str(tmp_path / "codebook/codebook.yaml"),
            "--params", str(params)]
    without = CliRunner().invoke(main, args)
    assert without.exit_code == 0, without.output
    assert "rules only" in without.output and "kwal run" in without.output

    save_model(train_from_project(yaml.safe_load(params.read_text()), tmp_path).model, tmp_path / "outputs/model")
    with_model = CliRunner().invoke(main, args)
    assert with_model.exit_code == 0, with_model.output
    assert "rules and the classifier" in with_model.output
    rows = {r["id"]: {c["code"]: c for c in r["codes"]}
            for r in map(json.loads, (tmp_path / "out.jsonl").read_text().splitlines())}
    assert rows["a"]["knelpunt.tijdsdruk"]["source"] == "rule+classifier"        # rule: "deadline"
    assert rows["a"]["knelpunt.tijdsdruk"]["rule_id"] == "knelpunt.tijdsdruk.deadline"
    assert rows["b"]["knelpunt.tijdsdruk"]["source"] == "classifier"             # new wording, no rule
    assert 0 < rows["b"]["knelpunt.tijdsdruk"]["score"] <= 1
    assert rows["c"]["knelpunt.status"]["source"] == "rule"                      # too few annotations
    assert rows["d"] == {}


def test_saved_model_file_is_byte_identical_across_processes(tmp_path):
    """The model file must not depend on the process (hash seeds, memory addresses)."""
    script = (
        "import sys; from pathlib import Path; sys.path.insert(0, %r)\n"
        "from test_classify import CODES, PARAMS, synthetic_examples\n"
        "from kwalitatief.classifier.model import save_model\n"
        "from kwalitatief.classifier.training import train\n"
        "examples = synthetic_examples()\n"
        "for e in examples:   # several codes with a valence: sets of code ids must not reach the file\n"
        "    e.valences.update({c: 'positief' for c in CODES if e.labels[c]})\n"
        "from kwalitatief.classifier.cues import CueFamilies\n"
        "from kwalitatief.codebook import load_codebook\n"
        "cues = CueFamilies.of_codebook(load_codebook(%r))   # cue families and their pairs too\n"
        "params = {'classify': {**PARAMS['classify'], 'cue_features': True, 'cue_pairs': True}}\n"
        "model, _ = train(examples, CODES, params, 'cb1', cues=cues)\n"
        "model.featurizer.transform(synthetic_examples(5))\n"
        "save_model(model, Path(sys.argv[1]))\n" % (str(Path(__file__).parent),
                                                      str(Path(__file__).parents[1] / "codebook" / "codebook.yaml"))
    )
    digests = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        subprocess.run([sys.executable, "-c", script, str(out)], check=True, timeout=120,
                       env={**os.environ, "PYTHONHASHSEED": seed})
        digests.append((out / "model.joblib").read_bytes())
    assert digests[0] == digests[1]


def test_rerun_reuses_the_model_and_recodes_only_the_changed_document(tmp_path):
    """Incremental classify: same training data -> same model reused; an edited document is the only one
    coded again, and the codings equal a run without cache (1 or 2 workers)."""
    from kwalitatief.classify import train_from_project
    from kwalitatief.jsonio import read_jsonl, write_jsonl

    frags = make_project(tmp_path, synthetic_examples(n=60, rare=2))
    others = synthetic_examples(n=30, seed=5)
    extra = [{**f, "doc_id": f"x{i % 3}", "fragment_id": f"x{i % 3}-{i:03d}"} for i, f in enumerate(fragments_of(others))]
    write_jsonl(tmp_path / "outputs/work/fragments/corpus.jsonl", frags + extra)
    params = yaml.safe_load(yaml.safe_dump(STAGE_PARAMS))
    cache = tmp_path / "outputs/cache"

    def run(**kwargs):
        result = train_from_project(params, tmp_path, **kwargs)
        return result, "\n".join(map(dumps, result.classifier_rows))

    first, rows_first = run(workers=1, cache_dir=cache)
    assert first.cache == {"model_reused": 0, "documents_reused": 0, "documents_coded": 4}
    assert "x1-" in rows_first, "the classifier should code some of the unannotated fragments"
    again, rows_again = run(workers=2, cache_dir=cache)
    assert again.cache == {"model_reused": 1, "documents_reused": 4, "documents_coded": 0}
    assert rows_again == rows_first and again.model.version == first.model.version

    edited = list(read_jsonl(tmp_path / "outputs/work/fragments"))
    target = next(f for f in edited if f["doc_id"] == "x1")
    target["text"] = target["lemmas"] = "De deadline was veel te krap en de termijn onhaalbaar kort."
    write_jsonl(tmp_path / "outputs/work/fragments/corpus.jsonl", edited)
    after, rows_after = run(workers=2, cache_dir=cache)
    assert after.cache == {"model_reused": 1, "documents_reused": 3, "documents_coded": 1}
    _, rows_fresh = run(workers=1)
    assert rows_after == rows_fresh and rows_after != rows_first


def test_fast_character_ngrams_give_exactly_sklearns_matrix():
    """The classifier's faster char_wb features must not change a single score."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from kwalitatief.classifier.features import char_wb_tfidf

    texts = [e.text.lower() for e in synthetic_examples(n=40)] + [
        "a", "ab", "abc", "", "  x  y ", "zz\u00a0zz", "é ü ß", "a\tb\nc", "samenwerkingsverband samenwerking"]
    for ngrams in [(3, 5), (1, 3), (2, 2)]:
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=ngrams, min_df=1, sublinear_tf=True,
                                     lowercase=False).fit(texts[::2])
        expected, got = vectorizer.transform(texts), char_wb_tfidf(vectorizer, texts)
        assert (expected != got).nnz == 0 and (expected.indices == got.indices).all()


def test_documents_classified_in_one_batch_get_the_rows_of_classifying_each_alone(tmp_path):
    from kwalitatief.classify import train_from_project
    from kwalitatief.jsonio import write_jsonl

    frags = make_project(tmp_path, synthetic_examples(n=60, rare=2))
    others = fragments_of(synthetic_examples(n=30, seed=5))
    extra = [{**f, "doc_id": f"x{i % 3}", "fragment_id": f"x{i % 3}-{i:03d}"} for i, f in enumerate(others)]
    write_jsonl(tmp_path / "outputs/work/fragments/corpus.jsonl", frags + extra)
    result = train_from_project(yaml.safe_load(yaml.safe_dump(STAGE_PARAMS)), tmp_path, workers=1)
    hits = {fid: set(codes) for fid, codes in result.rule_preds.items()}
    by_doc: dict[str, list[dict]] = {}
    for fragment in frags + extra:
        by_doc.setdefault(fragment["doc_id"], []).append(fragment)
    alone = [row for doc in by_doc.values() for row in classifier_rows(result.model, doc, hits)]
    assert len(by_doc) == 4 and len(result.classifier_rows) > 10
    assert "\n".join(map(dumps, result.classifier_rows)) == "\n".join(map(dumps, alone))
