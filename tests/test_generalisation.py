"""Coding that generalises: Dutch word knowledge, the codebook and free-standing texts as training data,
thresholds calibrated for new wording, explanations of classifier codings, and the review simulation."""

import json
from pathlib import Path

import numpy as np
import pytest
from test_classify import CODES, PARAMS, fragments_of, synthetic_examples

from kwalitatief.classifier.cached import classifier_rows
from kwalitatief.classifier.examples import Example
from kwalitatief.classifier.lexical import expand, joined_verbs, split_compound, vocabulary
from kwalitatief.classifier.standalone import codebook_texts, load_training_texts, standalone_examples
from kwalitatief.classifier.thresholds import choose_threshold
from kwalitatief.classifier.training import train
from kwalitatief.codebook import load_codebook
from kwalitatief.nlp import load_nlp

ROOT = Path(__file__).resolve().parents[1]
CODEBOOK = ROOT / "codebook" / "codebook.yaml"


# ------------------------------------------------------------------------------ Dutch word knowledge

KNOWN = vocabulary(["de cultuur en het geld", "de samenwerking in het verband", "samen optrekken",
                    "elkaar opzoeken", "de regio", "het subsidie", "de aanvraag"])


@pytest.mark.parametrize("word, parts", [
    ("cultuurgeld", ["cultuur", "geld"]),
    ("samenwerkingsverband", ["samenwerking", "verband"]),     # linking -s-
    ("subsidieaanvraag", ["subsidie", "aanvraag"]),
    ("regiocultuur", ["regio", "cultuur"]),
    ("geld", []),                                              # known as a whole
    ("fietsenstalling", []),                                   # parts unknown: nothing invented
])
def test_compounds_are_split_into_known_words(word, parts):
    assert split_compound(word, KNOWN) == parts


@pytest.mark.parametrize("lemmas, verb", [
    ("we trekken samen op .", ["optrekken"]),
    ("de instellingen zoeken elkaar op , zeker nu", ["opzoeken"]),
    ("ze zoeken elkaar op omdat het moet", ["opzoeken"]),
    ("we trekken op de weg", []),            # 'op' starts a phrase here, it does not close the clause
    ("ik loop op .", []),                    # 'oplopen' is not in the training vocabulary
])
def test_separable_verbs_are_joined_when_their_particle_closes_the_clause(lemmas, verb):
    assert joined_verbs(lemmas.split(), KNOWN) == verb


def test_a_new_compound_gets_the_features_of_its_known_parts():
    """Trained on 'cultuur'/'geld' wording only, the model still scores a fragment with 'cultuurgeld'."""
    def ex(i, text, label):
        return Example(f"f{i:03d}", f"d{i}", text, text, {"knelpunt.financiering": label})
    pos = ["het geld voor cultuur is op", "geen geld meer voor de cultuur", "het geld stopt", "cultuur zonder geld"]
    neg = ["de vergadering was lang", "we spraken over het weer", "de wethouder kwam laat", "het gebouw is mooi"]
    examples = [ex(i, t, True) for i, t in enumerate(pos * 3)] + [ex(100 + i, t, False) for i, t in enumerate(neg * 3)]
    params = {"classify": {**PARAMS["classify"], "min_examples": 3, "char_ngrams": [9, 9], "lexical": True}}
    model, _ = train(examples, ["knelpunt.financiering"], params)
    plain, _ = train(examples, ["knelpunt.financiering"], {"classify": {**params["classify"], "lexical": False}})
    new = [Example("n", "n", "het cultuurgeld", "het cultuurgeld", {})]
    assert expand("het cultuurgeld", model.featurizer.known) == "het cultuurgeld cultuur geld"
    assert model.scores(new)[0]["knelpunt.financiering"][0] > plain.scores(new)[0]["knelpunt.financiering"][0] + 0.1


# ------------------------------------------------------------------- the codebook and free-standing texts

def test_the_codebook_gives_labelled_training_texts():
    codebook = load_codebook(CODEBOOK)
    texts = codebook_texts(codebook)
    code = codebook.codes[0]
    examples = [t for t in texts if t.text in code.examples]
    assert len(examples) == len(code.examples) and all(t.labels[code.id] for t in examples)
    assert all(not t.labels[c] for t in examples for c in codebook.code_ids if c != code.id)
    excluded = [t for t in texts if t.text in code.exclude]
    assert excluded and all(t.labels == {code.id: False} for t in excluded)
    only_examples = codebook_texts(codebook, ("examples",))
    assert len(only_examples) == sum(len(c.examples) for c in codebook.codes)


def test_training_files_are_validated_with_file_and_line(tmp_path):
    (tmp_path / "a.jsonl").write_text("\n".join([
        json.dumps({"text": "Het geld is op.", "codes": [{"code": "knelpunt.financiering"}], "coder": "x"}),
        '{"text": "kapot',
        json.dumps({"text": "Iets.", "codes": [{"code": "knelpunt.bestaat_niet"}]}),
        json.dumps({"codes": []}),
    ]) + "\n", encoding="utf-8")
    codes = load_codebook(CODEBOOK).code_ids
    texts, problems = load_training_texts(tmp_path, codes)
    assert [t.text for t in texts] == ["Het geld is op."]
    assert texts[0].labels["knelpunt.financiering"] and not texts[0].labels["knelpunt.tijdsdruk"]
    messages = [p["message"] for p in problems]
    assert any(m.startswith(f"{tmp_path / 'a.jsonl'}:2: not valid JSON") for m in messages)
    assert any(m.startswith(f"{tmp_path / 'a.jsonl'}:3: unknown code id 'knelpunt.bestaat_niet'") for m in messages)
    assert any(m.startswith(f"{tmp_path / 'a.jsonl'}:4:") for m in messages)


def test_free_standing_texts_get_lemmas_and_rule_hits_like_fragments():
    codebook = load_codebook(CODEBOOK)
    nlp = load_nlp("blank:nl+lookup")
    texts, _ = load_training_texts(ROOT / "codebook" / "training", codebook.code_ids)
    assert len(texts) >= 200, "the project's own training fragments in other wording"
    sample = texts[:40] + texts[:1]                      # the same text twice is one example
    examples, hits = standalone_examples(sample, codebook, nlp)
    assert len(examples) == len({t.text for t in sample})
    assert all(e.fragment_id.startswith("standalone-") and e.lemmas for e in examples)
    assert any(hits[e.fragment_id] for e in examples), "the rules code some of them"


def test_free_standing_examples_from_the_cache_equal_fresh_ones_and_need_no_spacy(tmp_path, monkeypatch):
    """The classify stage reuses the examples made from unchanged texts without loading the spaCy pipeline;
    a changed text makes them again."""
    from kwalitatief import nlp as nlp_module
    from kwalitatief.classifier.cached import standalone_cached
    from kwalitatief.classifier.examples import training_data_hash

    codebook = load_codebook(CODEBOOK)
    texts, _ = load_training_texts(ROOT / "codebook" / "training", codebook.code_ids)
    sample = texts[:30]
    fresh, fresh_hits = standalone_examples(sample, codebook, load_nlp("blank:nl+lookup"))
    assert standalone_cached(sample, codebook, "blank:nl+lookup", tmp_path) == (fresh, fresh_hits)

    def no_spacy(model):
        raise AssertionError("the pipeline was loaded although the examples are cached")

    monkeypatch.setattr(nlp_module, "load_nlp", no_spacy)
    cached, cached_hits = standalone_cached(sample, codebook, "blank:nl+lookup", tmp_path)
    assert cached_hits == fresh_hits
    assert training_data_hash(cached) == training_data_hash(fresh)
    assert [(e.fragment_id, e.labels, e.valences, e.origins) for e in cached] == \
        [(e.fragment_id, e.labels, e.valences, e.origins) for e in fresh]
    with pytest.raises(AssertionError, match="pipeline was loaded"):
        standalone_cached(texts[:31], codebook, "blank:nl+lookup", tmp_path)


# ------------------------------------------------------- cue families: concepts, negation, stance

def _lemmas(text: str) -> str:
    from kwalitatief.coding import tokenise

    row = tokenise([text], load_nlp("blank:nl+lookup"))[0]
    return " ".join(lemma for _, _, lemma in row["tokens"] if str(lemma).strip())


@pytest.mark.parametrize("text, present, absent", [
    # a problem that is solved, hedging, reported speech: the codebook's stance families
    ("Dat probleem met de aanvragen is inmiddels opgelost.", ["@opgelost"], []),
    ("De afstemming liep eerst stroef, maar dat is verholpen.", ["@opgelost"], []),
    ("Misschien is het doel van de regio niet helder.", ["@onzeker"], []),
    ("De wethouder zegt dat het geld op is.", ["@weergave"], []),
    ("Volgens de directeur kost de administratie te veel tijd.", ["@weergave"], []),
    # negation scope: a negator in the clause before a cue turns it into "niet @cue" ...
    ("Er is geen probleem met de regelingen.", ["niet @probleem"], ["@probleem"]),
    # ... but not across a clause break, and not when the cue itself contains the negation
    ("Het probleem is dat niemand het weet.", ["@probleem"], ["niet @probleem"]),
    ("Er is niet genoeg geld voor de instellingen.", ["@probleem"], ["niet @probleem"]),
    # a paraphrase is the family of the word the model has seen
    ("Het wringt tussen de gemeenten.", ["@probleem"], []),
])
def test_cue_families_of_the_codebook_find_concepts_stance_and_negation(text, present, absent):
    from kwalitatief.classifier.cues import CueFamilies

    found = CueFamilies.of_codebook(load_codebook(CODEBOOK)).found(_lemmas(text))
    assert set(present) <= set(found), found
    assert not set(absent) & set(found), found


def test_a_family_member_never_seen_in_training_raises_the_score_of_its_code():
    from kwalitatief.classifier.cues import CueFamilies

    cues = CueFamilies({"haast": ["deadline|krap|haast|termijn|tijdsdruk|snel|gehaast"]}, ["niet", "geen"])
    params = {"classify": {**PARAMS["classify"], "cue_features": True, "cue_weight": 0.5}}
    with_cues, _ = train(synthetic_examples(), CODES, params, "cb1", cues=cues)
    without, _ = train(synthetic_examples(), CODES, PARAMS, "cb1")
    new = Example("new", "d", "Het ging allemaal veel te gehaast.", "het gaan allemaal veel te gehaast .", {})
    negated = Example("neg", "d", "Er was geen haast.", "er zijn geen haast .", {})
    score = lambda model, ex: model.scores([ex])[0]["knelpunt.tijdsdruk"][0]  # noqa: E731
    assert score(with_cues, new) > score(without, new) + 0.05
    assert score(with_cues, negated) < score(with_cues, new)
    rows = classifier_rows(with_cues, fragments_of([new]))
    assert any("@haast" in row["features"] for row in rows if row["code"] == "knelpunt.tijdsdruk"), \
        "the review card names the family that drove the coding"
    import pickle

    from kwalitatief.classifier.model import clear_memory_addresses

    again, _ = train(synthetic_examples(), CODES, params, "cb1",
                     cues=CueFamilies({"haast": ["deadline|krap|haast|termijn|tijdsdruk|snel|gehaast"]}, ["niet", "geen"]))
    for model in (with_cues, again):
        clear_memory_addresses(model)
    assert pickle.dumps(with_cues) == pickle.dumps(again), "what a model has coded is not part of its bytes"


def test_cue_pairs_give_a_topic_and_a_stance_in_one_fragment_as_one_feature():
    """``cue_pairs``: two families (not negated) of one fragment are also one conjunction column, so a linear
    model can tell "overheden + probleem" (a knelpunt) from "overheden + doel" (a doel)."""
    from kwalitatief.classifier.cues import CueFamilies

    cues = CueFamilies({"overheden": ["rijk|provincie|gemeente"], "probleem": ["probleem|lastig"],
                        "doel": ["doel|willen"]}, ["niet", "geen"])
    names = cues.feature_names(pairs=True)
    assert names[:6] == cues.feature_names() and "@doel+@overheden" in names and "@overheden+@probleem" in names
    texts = ["rijk en provincie zijn een probleem", "wij willen dat rijk en provincie samenwerken",
             "rijk en provincie zijn geen probleem"]
    matrix = cues.matrix(texts, 0.5, pairs=True).toarray()
    column = {n: matrix[:, i] for i, n in enumerate(names)}
    assert list(column["@overheden+@probleem"]) == [0.5, 0.0, 0.0], "a negated family makes no pair"
    assert list(column["@doel+@overheden"]) == [0.0, 0.5, 0.0]
    assert cues.matrix(texts, 0.5).shape[1] == 6, "without pairs: the families alone"
    params = {"classify": {**PARAMS["classify"], "cue_features": True, "cue_pairs": True}}
    model, _ = train(synthetic_examples(), CODES, params, "cb1", cues=cues)
    assert any("+" in model.featurizer.feature_name(i) for i in range(next(iter(model.estimators.values())).coef_.shape[1]))


# ----------------------------------------------------------------------------------- thresholds

def test_balanced_threshold_codes_as_many_as_have_the_code_and_never_exceeds_the_f1_threshold():
    rng = np.random.default_rng(3)
    y = np.array([1] * 30 + [0] * 170)
    scores = np.concatenate([rng.uniform(0.3, 0.9, 30), rng.uniform(0.0, 0.5, 170)])
    t_f1, _ = choose_threshold(y, scores, "f1")
    t_bal, _ = choose_threshold(y, scores, "balanced")
    assert t_bal <= t_f1
    assert abs(int((scores >= t_bal).sum()) - 30) <= 3


def test_a_fragment_nothing_codes_gets_its_nearest_code_only_when_close_to_its_threshold():
    from kwalitatief.classifier.settings import ClassifyError, settings

    params = {"classify": {**PARAMS["classify"], "nearest_code_ratio": 0.8}}
    model, _ = train(synthetic_examples(), CODES, params, "cb1")
    item = Example("n", "d", "Het was wat krap.", "het zijn wat krap .", {})
    probs = model.scores([item])[0]
    near = "knelpunt.tijdsdruk"
    for code in probs:                        # every code far below its threshold, one at 0.9 x its threshold
        model.thresholds[code] = min(0.99, float(probs[code][0]) / (0.9 if code == near else 0.5))
    assert all(probs[c][0] < model.thresholds[c] for c in probs)
    [preds] = model.predict([item])
    assert [p.code for p in preds] == [near] and preds[0].score < preds[0].threshold
    assert model.predict([item], [{"knelpunt.status"}]) == [[]], "a rule hit codes the fragment already"
    model.thresholds[near] = float(probs[near][0]) / 0.7      # 0.7 x its threshold: not near enough
    assert model.predict([item]) == [[]]
    model.thresholds[near] = float(probs[near][0]) / 0.9
    model.settings["nearest_code_ratio"] = 0.0                # off
    assert model.predict([item]) == [[]]
    with pytest.raises(ClassifyError, match="nearest_code_ratio"):
        settings({"classify": {"nearest_code_ratio": 1.5}})


def test_document_grouped_threshold_folds_keep_a_document_together():
    from kwalitatief.classifier.settings import settings
    from kwalitatief.classifier.training import threshold_splits

    examples = synthetic_examples(60)
    for i, ex in enumerate(examples):
        ex.doc_id = f"doc{i % 6}"
    y = np.array([int(ex.labels["knelpunt.tijdsdruk"]) for ex in examples])
    cfg = settings({"classify": {"threshold_groups": "document"}})
    for _, test in threshold_splits(y, examples, 3, cfg):
        docs_in = {examples[i].doc_id for i in test}
        assert all(examples[i].doc_id not in docs_in for i in range(60) if i not in set(test))


# --------------------------------------------------------------------------------- explanations

def test_classifier_codings_keep_score_threshold_and_the_words_that_drove_them():
    model, _ = train(synthetic_examples(), CODES, PARAMS, "cb1")
    frags = fragments_of([Example("new", "d", "De deadline was veel te krap.", "de deadline zijn veel te krap .", {})])
    rows = classifier_rows(model, frags)
    row = next(r for r in rows if r["code"] == "knelpunt.tijdsdruk")
    assert row["score"] >= row["threshold"] == model.thresholds["knelpunt.tijdsdruk"]
    assert row["features"], "the features that drove the score"
    words = "de deadline zijn veel te krap".split()
    assert all(any(w in f.strip("~") or f.strip("~") in w for w in words) for f in row["features"])


# ------------------------------------------------------------------------------- review simulation

def test_review_simulation_retrains_on_reviewed_fragments_and_scores_the_rest():
    from test_classify import FILLER, PHRASES

    from kwalitatief.coding import code_fragments, tokenise
    from kwalitatief.gold import GoldFragment
    from kwalitatief.review_learning import GoldSet, decisions_to_reach, simulate

    codebook = load_codebook(CODEBOOK)
    nlp = load_nlp("blank:nl+lookup")
    items = [(text.capitalize() + ".", {code: ("positief" if code.startswith("opinie.") else None)})
             for code, texts in PHRASES.items() for text in texts] + [(f.capitalize() + ".", {}) for f in FILLER]
    fragments = [GoldFragment(f"g{i}", text, codes, i + 1) for i, (text, codes) in enumerate(items)]
    rows = tokenise([g.text for g in fragments], nlp)
    gold = GoldSet(fragments, rows, code_fragments(rows, codebook, nlp))
    examples = synthetic_examples(40)
    params = {"classify": {**PARAMS["classify"], "rule_features": False}}
    curves = {order: simulate(examples, {}, gold, CODES, params, order, 5) for order in ("uncertain", "document")}
    for points in curves.values():
        assert [p["decisions"] for p in points] == list(range(0, 5 * len(points), 5))
        assert [p["remaining"] for p in points] == [len(fragments) - p["decisions"] for p in points]
        assert all(0.0 <= p["micro_f1"] <= 1.0 for p in points)
    assert curves["uncertain"][0] == curves["document"][0]        # the same model before any decision
    assert decisions_to_reach([{"decisions": 0, "kappa": 0.5}, {"decisions": 5, "kappa": 0.85}]) == 5
    assert decisions_to_reach([{"decisions": 0, "kappa": 0.5}]) is None


def test_cue_families_pickle_is_byte_identical_across_hash_seeds():
    """A saved model holds the cue families: their pickle may not depend on the hash seed (sets of
    alternatives and clause breaks), and a loaded copy finds what the original finds."""
    import os
    import subprocess
    import sys

    script = (
        "import pickle, sys\n"
        "from kwalitatief.classifier.cues import CueFamilies\n"
        "cues = CueFamilies({'geld': ['geld|budget|subsidie|middelen|bijdrage|pot|potje'],\n"
        "                    'probleem': ['probleem|knelpunt|lastig|moeilijk|gedoe _2 ontstaan|blijven']},\n"
        "                   negators=['niet', 'geen', 'nooit', 'nergens'], clause_breaks=['maar', 'want', 'omdat', 'terwijl'])\n"
        "cues.found('het potje zijn leeg')\n"
        "sys.stdout.buffer.write(pickle.dumps(cues))\n"
    )
    dumps = [subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, timeout=120,
                            env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")]
    assert dumps[0] == dumps[1] == dumps[2]
    import pickle

    loaded = pickle.loads(dumps[0])
    assert loaded.found("het potje zijn leeg") == ["@geld"]
    assert loaded.found("er zijn geen geld") == ["niet @geld"]
    assert loaded.found("geen probleem maar geld") == ["@geld"]     # the negation ends at the clause break
