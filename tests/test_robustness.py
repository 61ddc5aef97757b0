"""Robustness of the verdicts: merge-policy variants, the seeded respondent bootstrap, flip points, the
code-swap test, valence modes of respondents and regions, comparison claims — on small synthetic studies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kwalitatief.aggregate import build_frame, unit_valence, valence_labels
from kwalitatief.claim_units import Sources
from kwalitatief.conclusions import (Conclusion, ConclusionsError, conclusion_tables, evaluate_conclusion,
                                     evaluate_conclusions, parse_quantifiers, valence_modes)
from kwalitatief.config import load_params
from kwalitatief.manual import ManualCoding
from kwalitatief.robustness import (RobustnessSettings, assess, bootstrap_weights, flip_point, flip_text,
                                    variant_codings)
from study_factory import declarations

PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"
VALENCED = ["opinie.proeftuin"]
CODES = ["knelpunt.financiering", "knelpunt.tijdsdruk", "doel.matching", "opinie.proeftuin"]


@pytest.fixture(scope="module")
def quantifiers():
    return parse_quantifiers(load_params(PARAMS)["conclusions"]["quantifiers"])


def make_study(n_regions: int, per_region: int):
    """``n_regions`` regions R0.. with ``per_region`` respondents each (ids P<region>_<i>), one fragment each."""
    regions = [f"R{r}" for r in range(n_regions)]
    respondents, documents, fragments = [], [], []
    for r in regions:
        for i in range(per_region):
            rid = f"P{r}_{i}"
            respondents.append({"respondent_id": rid, "respondent_type": "gemeente", "organisation": rid, "region": r})
            documents.append({"doc_id": f"t{rid}", "doc_type": "transcript", "region": r, "respondent_id": rid})
            for k in range(3):
                fragments.append({"fragment_id": f"t{rid}-{k}", "doc_id": f"t{rid}", "respondent_id": rid,
                                  "text": f"fragment {k} van {rid}"})
    return regions, respondents, documents, fragments


def frame_of(codings, study):
    regions, respondents, documents, fragments = study
    return build_frame(codings, fragments, documents, respondents, regions, CODES, VALENCED, [])


def claim(**kw) -> Conclusion:
    base = {"id": "c", "text": "t", "code": "knelpunt.financiering", "unit": "region", "population": {},
            "quantifier": "de meeste"}
    return Conclusion(**{**base, **kw})


# --------------------------------------------------------------------------- valence modes

def test_valence_modes_of_one_unit():
    members = ["positief", "positief", "negatief"]
    assert unit_valence(members, "all") == "gemengd"
    assert unit_valence(members, "majority") == "positief"
    assert unit_valence(members, "any") == "positief+negatief"
    assert unit_valence(["positief", "negatief"], "majority") == "gemengd"   # no majority
    assert unit_valence(["gemengd", "gemengd", "positief"], "majority") == "gemengd"
    assert unit_valence([None], "majority") == "onbekend"
    assert valence_labels({"positief": 1, "negatief": 1}, 1, "all") == ("gemengd",)   # one member, both poles
    with pytest.raises(ValueError, match="unknown valence mode 'meestal'"):
        valence_labels({}, 1, "meestal")


def _valence_study():
    """Region R0: 2 positive respondents and 1 negative; R1: 1 positive, 1 negative, 1 without opinion;
    R2: 3 negative. Respondent P_R1_0 says positief twice and negatief once."""
    study = make_study(3, 3)
    said = {"PR0_0": ["positief"], "PR0_1": ["positief"], "PR0_2": ["negatief"],
            "PR1_0": ["positief", "positief", "negatief"], "PR1_1": ["negatief"],
            "PR2_0": ["negatief"], "PR2_1": ["negatief"], "PR2_2": ["negatief"]}
    codings = [{"fragment_id": f"t{rid}-{k}", "code": "opinie.proeftuin", "valence": v, "source": "rule"}
               for rid, vals in said.items() for k, v in enumerate(vals)]
    return frame_of(codings, study)


@pytest.mark.parametrize("modes,positive_regions,split", [
    ({"respondent": "majority", "region": "majority"}, ["R0"], {"positief": 1, "negatief": 1, "gemengd": 1}),
    ({"respondent": "majority", "region": "any"}, ["R0", "R1"], {"positief": 2, "negatief": 3, "gemengd": 0}),
    ({"respondent": "majority", "region": "all"}, [], {"positief": 0, "negatief": 1, "gemengd": 2}),
    ({"respondent": "all", "region": "majority"}, ["R0"], {"positief": 1, "negatief": 1, "gemengd": 1}),
])
def test_region_valence_by_mode_with_its_split(quantifiers, modes, positive_regions, split):
    frame = _valence_study()
    c = claim(code="opinie.proeftuin", valence=["positief"], quantifier="een enkele")
    r = evaluate_conclusion(c, frame, {}, quantifiers, min_population=1, modes=modes)
    assert r["matching_units"] == positive_regions
    assert {k: r["valence_split"][k] for k in split} == split
    assert r["member_split"]["R0"] == {"positief": 2, "negatief": 1}


def test_respondent_valence_by_mode(quantifiers):
    frame = _valence_study()
    c = claim(code="opinie.proeftuin", valence=["positief"], unit="respondent", quantifier="meerdere")
    majority = evaluate_conclusion(c, frame, {}, quantifiers, 1, modes={"respondent": "majority"})
    everything = evaluate_conclusion(c, frame, {}, quantifiers, 1, modes={"respondent": "all"})
    assert majority["matching_units"] == ["PR0_0", "PR0_1", "PR1_0"]   # PR1_0: 2 of 3 positief
    assert everything["matching_units"] == ["PR0_0", "PR0_1"]
    assert everything["unit_valences"]["PR1_0"] == "gemengd"


def test_valence_settings_are_checked():
    assert valence_modes(None) == {"respondent": "majority", "region": "majority"}
    assert valence_modes({"region": "any"})["region"] == "any"
    with pytest.raises(ConclusionsError, match=r"conclusions.valence.region: unknown mode 'half'"):
        valence_modes({"region": "half"})
    with pytest.raises(ConclusionsError, match=r"conclusions.valence.regio: unknown unit"):
        valence_modes({"regio": "all"})


# --------------------------------------------------------------------------- merge-policy variants

def _policy_study():
    """Six regions of two respondents; financiering found by rule and classifier in R0-R2, by the rule
    alone in R3, by the classifier alone in R4. An annotation says R5's first fragment has it."""
    study = make_study(6, 2)
    rule = [{"fragment_id": f"tPR{r}_0-0", "code": "knelpunt.financiering", "valence": None, "rule_id": "x",
             "source": "rule"} for r in (0, 1, 2, 3)]
    clf = [{"fragment_id": f"tPR{r}_0-0", "code": "knelpunt.financiering", "valence": None, "score": 0.9,
            "source": "classifier"} for r in (0, 1, 2, 4)]
    manual = {"tPR5_0-0": ManualCoding(coders=["an"], present={"knelpunt.financiering": None})}
    return study, rule, clf, manual


def _variants(study, rule, clf, manual, reviews=lambda rows: rows):
    return {p: frame_of(variant_codings(p, rule, clf, ["knelpunt.financiering"], "rule_first", manual, reviews), study)
            for p in ("rules_only", "classifier", "intersection", "union", "reviewed")}


def test_intersection_flips_a_verdict_and_the_label_says_so(quantifiers):
    study, rule, clf, manual = _policy_study()
    frames = _variants(study, rule, clf, manual)
    c = claim(quantifier="de meeste")   # > 50 % of 6 regions: 4 or more
    counts = {p: evaluate_conclusion(c, f, {}, quantifiers, 1)["n_matching"] for p, f in frames.items()}
    # annotation R5 counts in every variant; intersection keeps R0-R2 only
    assert counts == {"rules_only": 5, "classifier": 5, "intersection": 4, "union": 6, "reviewed": 1}
    c3 = claim(quantifier="vrijwel alle")   # ≥ 90 %: 6 of 6
    results = evaluate_conclusions([c3], frames["union"], {}, quantifiers, 1)
    assess([c3], results, frames["union"], frames, quantifiers, 1, None, {"respondent": "majority", "region": "majority"},
           RobustnessSettings(resamples=0), configured="union")
    rob = results[0]["robustness"]
    assert results[0]["verdict"] == "ondersteund"
    assert rob["depends_on"] == ["rules_only", "classifier", "intersection", "reviewed"]
    assert rob["label"].startswith("ondersteund, maar niet bij alleen regels, alleen classifier, intersection")
    assert rob["flagged"] and rob["status"] == "afhankelijk"
    tables = conclusion_tables(results)
    rows = tables["conclusion_robustness"]
    assert list(rows["variant"]) == ["rules_only", "classifier", "intersection", "union", "reviewed"]
    assert rows.loc[rows["variant"] == "intersection", "n_matching"].item() == 4
    assert rows.loc[rows["variant"] == "union", "configured"].item() == 1


def test_review_decisions_apply_on_top_of_every_variant(quantifiers):
    study, rule, clf, manual = _policy_study()

    def reject_r0(rows):
        return [r for r in rows if r["fragment_id"] != "tPR0_0-0"]

    frames = _variants(study, rule, clf, manual, reject_r0)
    c = claim()
    assert [evaluate_conclusion(c, f, {}, quantifiers, 1)["matching_units"] for f in frames.values()][2] == \
        ["R1", "R2", "R5"]   # intersection: R0 rejected, R5 annotated


# --------------------------------------------------------------------------- bootstrap

def test_bootstrap_is_seeded_and_resamples_within_regions():
    study = make_study(4, 3)
    frame = frame_of([], study)
    sources = Sources.of(frame)
    a = list(bootstrap_weights(sources, 20, seed=5))
    b = list(bootstrap_weights(sources, 20, seed=5))
    c = list(bootstrap_weights(sources, 20, seed=6))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))
    for weights in a:   # every region keeps its three draws
        for r in range(4):
            assert weights[[i for i, s in enumerate(sources.strata) if s == f"R{r}"]].sum() == 3


def test_bootstrap_share_reports_a_shaky_verdict(quantifiers):
    """'de meeste' of 6 regions holds at 4 with one respondent of two carrying it: many samples lose one."""
    study = make_study(6, 2)
    codings = [{"fragment_id": f"tPR{r}_0-0", "code": "knelpunt.financiering", "source": "rule"} for r in range(4)]
    codings += [{"fragment_id": f"tPR{r}_{i}-0", "code": "knelpunt.tijdsdruk", "source": "rule"}
                for r in range(6) for i in range(2)]
    frame = frame_of(codings, study)
    claims = [claim(), claim(id="t", code="knelpunt.tijdsdruk")]
    settings = RobustnessSettings(resamples=300, seed=3)
    shares = []
    for _ in range(2):
        results = evaluate_conclusions(claims, frame, {}, quantifiers, 1)
        assess(claims, results, frame, {"union": frame}, quantifiers, 1, None,
               {"respondent": "majority", "region": "majority"}, settings, "union")
        shares.append([r["robustness"]["bootstrap"]["share_same_verdict"] for r in results])
    assert shares[0] == shares[1]                       # same seed, same samples
    shaky, solid = results
    # P(a region keeps its one carrier) = 3/4, all four of them: (3/4)^4 ≈ 0.32
    assert 0.2 < shaky["robustness"]["bootstrap"]["share_same_verdict"] < 0.45
    assert shaky["robustness"]["label"].startswith("ondersteund; wankel: ")
    assert shaky["robustness"]["status"] == "wankel" and shaky["robustness"]["flagged"]
    assert solid["robustness"]["bootstrap"]["share_same_verdict"] == 1.0
    assert solid["robustness"]["label"] == "ondersteund (robuust)"


def _mixed_study(seed: int):
    """Five regions of four respondents (some with a document of their own too, one region document
    without a respondent) coded at random with and without valences: a study where the bootstrap's
    samples differ in every way a count can."""
    rng = np.random.default_rng(seed)
    regions, respondents, documents, fragments = make_study(5, 4)
    documents.append({"doc_id": "beleid", "doc_type": "beleidsdocument", "region": "R2", "respondent_id": None})
    fragments += [{"fragment_id": f"beleid-{k}", "doc_id": "beleid", "respondent_id": None, "text": "b"}
                  for k in range(3)]
    codings = []
    for f in fragments:
        for code in CODES:
            if rng.random() < 0.35:
                valence = str(rng.choice(["positief", "negatief", "gemengd"])) if code in VALENCED else None
                codings.append({"fragment_id": f["fragment_id"], "code": code, "valence": valence, "source": "rule"})
    return frame_of(codings, (regions, respondents, documents, fragments))


@pytest.mark.parametrize("region_mode", ["majority", "any", "all"])
@pytest.mark.parametrize("respondent_mode", ["majority", "all"])
def test_bootstrap_counts_all_samples_at_once_as_sample_by_sample(quantifiers, region_mode, respondent_mode):
    """The bootstrap counts every sample of a claim in one go: the same totals, counts and shares as
    measuring the claim sample by sample (kwalitatief.claim_units.measure, the reported verdict's count)."""
    from kwalitatief.claim_units import measure, measure_many
    from kwalitatief.conclusions import claim_members, judge
    from kwalitatief.robustness import bootstrap_share, claim_sample

    modes = {"respondent": respondent_mode, "region": region_mode}
    claims = [claim(id="r1", quantifier="de meeste"),
              claim(id="r2", code="opinie.proeftuin", valence=["positief"], quantifier="enkele"),
              claim(id="r3", code="opinie.proeftuin", valence=["gemengd", "negatief"], quantifier="meerdere",
                    population={"expresses_opinion": True}),
              claim(id="p1", unit="respondent", code="opinie.proeftuin", valence=["negatief"], quantifier="enkele"),
              claim(id="p2", unit="respondent", quantifier="", population={"region": ["R0", "R1"]},
                    compare_to={"region": ["R2", "R3", "R4"]}),
              claim(id="d1", unit="document", quantifier="de meeste", population={"has_code": "doel.matching"})]
    for seed in (1, 2):
        frame = _mixed_study(seed)
        sources = Sources.of(frame)
        weights = np.array(list(bootstrap_weights(sources, 60, seed=seed)))
        samples, judges, reported = [], [], []
        for c in claims:
            members = claim_members(c, frame, None, sources)
            other = claim_members(c, frame, None, sources, population=c.compare_to) if c.compare_to else None
            sample = claim_sample(members, other, modes)
            totals, counts = measure_many(members, c.valence, modes, weights, sample.own)
            one_by_one = [measure(members, c.valence, modes, w) for w in weights]
            assert totals.tolist() == [m.total for m in one_by_one], c.id
            assert counts.tolist() == [m.count for m in one_by_one], c.id
            samples.append(sample)
            judges.append(lambda m, o, _c=c: judge(_c, m.total, m.count, 1, quantifiers, 1, o)[0])
            reported.append(judges[-1](measure(members, c.valence, modes),
                                       measure(other, c.valence, modes) if other is not None else None))
        settings = RobustnessSettings(resamples=60, seed=seed)
        expected = []
        for i, s in enumerate(samples):
            same = sum(judges[i](measure(s.members, claims[i].valence, modes, w),
                                 measure(s.other, claims[i].valence, modes, w) if s.other is not None else None)
                       == reported[i] for w in weights)
            expected.append(round(same / 60, 4))
        assert bootstrap_share(samples, judges, reported, sources, settings, [c.valence for c in claims],
                               modes) == expected
        assert len(set(expected)) > 2   # the samples do tell the claims apart


# --------------------------------------------------------------------------- flip points and code swap

@pytest.mark.parametrize("name,count,total,expected", [
    ("de meeste", 12, 15, {"count": 7, "margin": 5, "direction": "down"}),
    ("vrijwel alle", 15, 15, {"count": 13, "margin": 2, "direction": "down"}),
    ("vrijwel alle", 10, 15, {"count": 14, "margin": 4, "direction": "up"}),
    ("enkele", 3, 15, {"count": 4, "margin": 1, "direction": "up"}),
    ("enkele", 1, 15, {"count": 2, "margin": 1, "direction": "up"}),
    ("geen", 0, 15, {"count": 1, "margin": 1, "direction": "up"}),
])
def test_flip_point(quantifiers, name, count, total, expected):
    q = next(q for q in quantifiers if q.name == name)
    assert flip_point(lambda k: q.holds(k, total), count, total) == expected


def test_flip_text_and_no_flip():
    assert flip_text({"count": 7, "margin": 5, "direction": "down"}, "ondersteund", 12, 15, "regio's") == \
        "klopt bij 12/15; faalt bij 7/15 of minder: marge 5 regio's"
    assert flip_point(lambda k: True, 3, 5) is None


def test_code_swap_says_whether_the_data_could_refute_a_claim(quantifiers):
    """Every code reaches 3 of 6 regions: 'meerdere' holds for any code (not refutable); 'de meeste' holds
    for financiering (4 regions) and fails for the others (refutable)."""
    study = make_study(6, 1)
    codings = [{"fragment_id": f"tPR{r}_0-0", "code": code, "source": "rule"}
               for code, regions in (("knelpunt.financiering", range(4)), ("knelpunt.tijdsdruk", range(3)),
                                     ("doel.matching", range(2, 5)))
               for r in regions]
    frame = frame_of(codings, study)
    claims = [claim(id="m", quantifier="meerdere"), claim(id="d", quantifier="de meeste")]
    results = evaluate_conclusions(claims, frame, {}, quantifiers, 1)
    assess(claims, results, frame, {"union": frame}, quantifiers, 1, None,
           {"respondent": "majority", "region": "majority"}, RobustnessSettings(resamples=0), "union")
    meerdere, meeste = (r["refutation"] for r in results)
    assert (meerdere["codes_tried"], meerdere["codes_other_verdict"], meerdere["refutable"]) == (2, 0, False)
    assert (meeste["codes_other_verdict"], meeste["refutable"]) == (2, True)
    assert results[1]["flip"]["text"] == "klopt bij 4/6; faalt bij 3/6 of minder: marge 1 regio's"
    table = conclusion_tables(results)["conclusion_refutation"]
    assert set(table.loc[table["conclusion_id"] == "d", "verdict"]) == {"niet ondersteund"}


# --------------------------------------------------------------------------- comparison claims

def test_comparison_claim_shows_both_groups_and_flips(quantifiers):
    study = make_study(2, 4)
    regions, respondents, documents, fragments = study
    for r in respondents[4:]:
        r["respondent_type"] = "fonds"
    said = ["PR1_0", "PR1_1", "PR1_2", "PR0_0"]   # 3 of 4 funds against 1 of 4 municipalities
    codings = [{"fragment_id": f"t{rid}-0", "code": "knelpunt.financiering", "source": "rule"} for rid in said]
    frame = frame_of(codings, study)
    c = claim(unit="respondent", quantifier="", population={"respondent_type": ["fonds"]},
              compare_to={"respondent_type": ["gemeente"]})
    r = evaluate_conclusion(c, frame, {}, quantifiers, 1, study=declarations())
    assert r["verdict"] == "ondersteund"
    assert (r["n_matching"], r["n_population"]) == (3, 4)
    assert (r["comparison"]["n_matching"], r["comparison"]["n_population"], r["comparison"]["share"]) == (1, 4, 0.25)
    assert "3 van 4 (75%) tegen 1 van 4 (25%)" in r["reason"]
    results = [r]
    assess([c], results, frame, {"union": frame}, quantifiers, 1, declarations(),
           {"respondent": "majority", "region": "majority"}, RobustnessSettings(resamples=0), "union")
    assert r["flip"]["count"] == 1 and r["flip"]["margin"] == 2   # at 1 of 4 the funds equal the municipalities
    reversed_ = evaluate_conclusion(Conclusion(**{**c.__dict__, "population": c.compare_to,
                                                  "compare_to": c.population}), frame, {}, quantifiers, 1)
    assert reversed_["verdict"] == "niet ondersteund"


def test_robustness_settings_are_checked():
    assert RobustnessSettings.from_params({"resamples": 50}).resamples == 50
    with pytest.raises(ConclusionsError, match=r"conclusions.robustness.stable_share: a fraction"):
        RobustnessSettings.from_params({"stable_share": 90})
    with pytest.raises(ConclusionsError, match=r"conclusions.robustness.samples: unknown setting"):
        RobustnessSettings.from_params({"samples": 10})


def test_source_is_validated_with_file_line_and_field(tmp_path, quantifiers):
    from kwalitatief.conclusions import load_conclusions

    path = tmp_path / "conclusions.yaml"
    good = ("conclusions:\n  - id: a\n    text: t\n    code: knelpunt.financiering\n    unit: region\n"
            "    population: alle\n    quantifier: meerdere\n    source: \"hoofdstuk 7, Proeftuin, p. 53\"\n")
    path.write_text(good, encoding="utf-8")
    assert load_conclusions(path, CODES, quantifiers)[0].source == "hoofdstuk 7, Proeftuin, p. 53"
    for bad in ("source: 53", "source: \"\"", "source: [7, 53]"):
        path.write_text(good.replace("source: \"hoofdstuk 7, Proeftuin, p. 53\"", bad), encoding="utf-8")
        with pytest.raises(ConclusionsError, match=r"conclusions.yaml:8: conclusion 'a', field 'source': give the "):
            load_conclusions(path, CODES, quantifiers)


@pytest.mark.parametrize("modes,regions_split,respondents_split", [
    ({"respondent": "majority", "region": "majority"}, (1, 1, 1), (3, 5, 0)),
    ({"respondent": "all", "region": "all"}, (0, 1, 2), (2, 5, 1)),
])
def test_aggregates_follow_the_valence_modes(modes, regions_split, respondents_split):
    """Regions and respondents per valence (positief, negatief, gemengd) in agg_code_totals and agg_valence."""
    from kwalitatief.aggregate import aggregate_tables

    base = _valence_study()
    regions, respondents, documents, fragments = make_study(3, 3)
    codings = [{"fragment_id": f, "code": "opinie.proeftuin", "valence": v, "source": "rule"}
               for f, v in zip(base.coded["fragment_id"], base.coded["valence"])]
    frame = build_frame(codings, fragments, documents, respondents, regions, CODES, VALENCED, [], modes)
    tables = aggregate_tables(frame)
    totals = tables["agg_code_totals"].set_index("code").loc["opinie.proeftuin"]
    valences = ("positief", "negatief", "gemengd")
    assert tuple(int(totals[f"n_region_{v}"]) for v in valences) == regions_split
    assert tuple(int(totals[f"n_respondent_{v}"]) for v in valences) == respondents_split
    agg = tables["agg_valence"].query("code == 'opinie.proeftuin' and group_by == 'totaal'")
    assert tuple(int(agg.loc[agg["valence"] == v, "n_respondents"].item()) for v in valences) == respondents_split


def test_kwal_check_reports_bad_valence_and_robustness_settings(tmp_path):
    from kwalitatief.conclusions import conclusions_problems

    params = load_params(PARAMS)
    path = tmp_path / "conclusions.yaml"
    path.write_text("conclusions: []\n", encoding="utf-8")
    assert conclusions_problems(path, params, CODES) == []
    params["conclusions"] = {**params["conclusions"], "valence": {"region": "meeste"},
                             "robustness": {"resamples": -1}}
    problems = conclusions_problems(path, params, CODES)
    assert any("conclusions.valence.region: unknown mode 'meeste'" in p for p in problems)
    assert any("conclusions.robustness.resamples: a whole number ≥ 0" in p for p in problems)


@pytest.mark.parametrize("mode", ["majority", "any", "all"])
def test_respondent_valence_view_follows_the_valence_mode(mode):
    """The database view gives each respondent the valence aggregate.unit_valence gives (same mode)."""
    import sqlite_utils

    from kwalitatief.aggregate import unit_valence
    from kwalitatief.report import create_views

    members = {"R1": ["positief", "positief", "negatief"], "R2": ["positief", "negatief"],
               "R3": ["negatief"], "R4": ["gemengd", "positief", "gemengd"]}
    db = sqlite_utils.Database(memory=True)
    db["documents"].insert_all([{"doc_id": f"d{r}", "doc_type": "transcript", "region": "A", "respondent_id": r}
                                for r in members])
    db["respondents"].insert_all([{"respondent_id": r, "respondent_type": "gemeente", "region": "A"} for r in members])
    fragments, codings = [], []
    for r, valences in members.items():
        for i, v in enumerate(valences):
            fragments.append({"fragment_id": f"{r}-{i}", "doc_id": f"d{r}", "respondent_id": r})
            codings.append({"fragment_id": f"{r}-{i}", "code": "opinie.x", "valence": v})
    db["fragments"].insert_all(fragments)
    db["codings"].insert_all(codings)
    db["codes"].insert_all([{"code": "opinie.x", "label": "x", "category": "opinie", "valence": True}])
    create_views(db, respondent_valence=mode)
    got = {row["respondent_id"]: row["valence"] for row in db.query("select * from v_respondent_valence")}
    assert got == {r: unit_valence(v, mode) for r, v in members.items()}
    assert got["R1"] == {"majority": "positief", "any": "positief+negatief", "all": "gemengd"}[mode]
