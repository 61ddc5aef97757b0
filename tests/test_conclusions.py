"""Conclusions: quantifiers at their boundaries, verdicts, evidence ranking and clear validation errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kwalitatief.aggregate import build_frame
from kwalitatief.conclusions import (ConclusionsError, evaluate_conclusion, load_conclusions, parse_quantifiers,
                                     strongest)
from kwalitatief.config import load_params
from study_factory import CATEGORIES, OUTSIDE, REGIONS, VALENCED, declarations, study

PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"


@pytest.fixture(scope="module")
def quantifiers():
    return parse_quantifiers(load_params(PARAMS)["conclusions"]["quantifiers"])


def _q(quantifiers, name):
    return next(q for q in quantifiers if q.name == name)


@pytest.mark.parametrize("name,count,total,holds", [
    ("alle", 10, 10, True), ("alle", 9, 10, False),
    ("vrijwel alle", 9, 10, True), ("vrijwel alle", 27, 30, True), ("vrijwel alle", 89, 100, False),
    ("vrijwel alle", 13, 15, False), ("vrijwel alle", 14, 15, True),
    ("de meeste", 6, 10, True), ("de meeste", 5, 10, False), ("de meeste", 8, 15, True), ("de meeste", 7, 15, False),
    ("de helft", 5, 10, True), ("de helft", 4, 10, True), ("de helft", 6, 10, True),
    ("de helft", 3, 10, False), ("de helft", 7, 10, False),
    ("meerdere", 3, 15, True), ("meerdere", 2, 15, False),
    ("enkele", 2, 15, True), ("enkele", 3, 15, True), ("enkele", 1, 15, False), ("enkele", 4, 15, False),
    ("een enkele", 1, 15, True), ("een enkele", 2, 15, False), ("een enkele", 0, 15, False),
    ("geen", 0, 15, True), ("geen", 1, 15, False),
    ("alle", 0, 0, False),
])
def test_quantifier_boundaries(quantifiers, name, count, total, holds):
    assert _q(quantifiers, name).holds(count, total) is holds


@pytest.mark.parametrize("count,total,expected", [
    (15, 15, "alle"), (14, 15, "vrijwel alle"), (13, 15, "de meeste"), (5, 10, "de helft"),
    (4, 15, "meerdere"), (3, 15, "meerdere"), (2, 15, "enkele"), (1, 15, "een enkele"), (0, 15, "geen"),
])
def test_strongest_supported_quantifier(quantifiers, count, total, expected):
    assert strongest(quantifiers, count, total) == expected


def _claims(tmp_path, body: str, quantifiers, codes=None):
    path = tmp_path / "conclusions.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return load_conclusions(path, codes or study()[5], quantifiers, REGIONS, declarations(), VALENCED)


CLAIMS = """\
conclusions:
  - id: fin
    text: De meeste regio's missen toekomstperspectief.
    code: knelpunt.financiering
    unit: region
    population: alle
    quantifier: de meeste
  - id: tijd
    text: Meerdere respondenten noemen tijdsdruk.
    code: knelpunt.tijdsdruk
    unit: respondent
    population: alle
    quantifier: meerdere
  - id: proef
    text: De meeste respondenten met een oordeel zijn positief over de proeftuin.
    code: opinie.proeftuin
    valence: positief
    unit: respondent
    population: {expresses_opinion: true}
    quantifier: de meeste
  - id: gem
    text: Alle gemeenten noemen financiering.
    code: knelpunt.financiering
    unit: respondent
    population: {respondent_type: [gemeente]}
    quantifier: alle
"""


def _evaluate(tmp_path, quantifiers, min_population=2, texts=None):
    codings, fragments, documents, respondents, regions, codes = study(texts)
    frame = build_frame(codings, fragments, documents, respondents, regions, codes, VALENCED, OUTSIDE)
    claims = _claims(tmp_path, CLAIMS, quantifiers)
    by_id = {f["fragment_id"]: f for f in fragments}
    return {c.id: evaluate_conclusion(c, frame, by_id, quantifiers, min_population=min_population,
                                      study=declarations()) for c in claims}


def test_supported_claim_with_counts(tmp_path, quantifiers):
    fin = _evaluate(tmp_path, quantifiers)["fin"]
    assert (fin["n_matching"], fin["n_population"]) == (2, 3)   # Aland and Bland of three real regions
    assert fin["verdict"] == "ondersteund"
    assert fin["supported_quantifier"] == "de meeste"
    assert fin["matching_units"] == ["Aland", "Bland"]


def test_claim_on_a_code_without_data(tmp_path, quantifiers):
    tijd = _evaluate(tmp_path, quantifiers)["tijd"]
    assert tijd["verdict"] == "te weinig gegevens"
    assert tijd["n_matching"] == 0 and tijd["evidence"] == []
    assert "geen enkel fragment" in tijd["reason"]


def test_too_small_population(tmp_path, quantifiers):
    fin = _evaluate(tmp_path, quantifiers, min_population=5)["fin"]
    assert fin["verdict"] == "te weinig gegevens" and "minder dan het minimum van 5" in fin["reason"]


def test_unsupported_claim_names_what_the_data_support(tmp_path, quantifiers):
    proef = _evaluate(tmp_path, quantifiers)["proef"]
    # with an opinion: R1 positief, R2 gemengd, R4 negatief -> 1 of 3 is not "de meeste"
    assert (proef["n_matching"], proef["n_population"]) == (1, 3)
    assert proef["verdict"] == "niet ondersteund"
    assert proef["valence_split"]["gemengd"] == 1
    assert "een enkele" in proef["reason"]
    gem = _evaluate(tmp_path, quantifiers)["gem"]
    assert (gem["n_matching"], gem["n_population"]) == (2, 3)   # R1, R3 of R1, R3, R6
    assert gem["verdict"] == "niet ondersteund"


def test_evidence_ranked_one_per_unit_first_and_without_names(tmp_path, quantifiers):
    fin = _evaluate(tmp_path, quantifiers)["fin"]
    evidence = fin["evidence"]
    assert [e["rank"] for e in evidence] == list(range(1, len(evidence) + 1))
    assert {evidence[0]["region"], evidence[1]["region"]} == {"Aland", "Bland"}
    assert all("speaker" not in e for e in evidence)
    assert {"respondent_type", "region", "doc_id", "fragment_id", "text"} <= set(evidence[0])


def test_reviewed_and_agreeing_codings_rank_first(quantifiers):
    codings, fragments, documents, respondents, regions, codes = study()
    for c in codings:
        if c["fragment_id"] == "t1-2":
            c.update(status="accepted", sources="rule")
        elif c["fragment_id"] == "t1-1":
            c.update(sources="rule+classifier", score=0.9)
    frame = build_frame(codings, fragments, documents, respondents, regions, codes, VALENCED, OUTSIDE)
    from kwalitatief.conclusions import Conclusion

    claim = Conclusion(id="x", text="x", code="knelpunt.financiering", unit="respondent", population={},
                       quantifier="meerdere")
    result = evaluate_conclusion(claim, frame, {f["fragment_id"]: f for f in fragments}, quantifiers, 2, evidence_max=10)
    r1 = [e["fragment_id"] for e in result["evidence"] if e["doc_id"] == "t1"]
    assert r1 == ["t1-2", "t1-1", "t1-3"]
    assert result["evidence"][0]["fragment_id"] == "t1-2"


@pytest.mark.parametrize("field,value,expected", [
    ("code", "knelpunt.bestaat_niet", "unknown code 'knelpunt.bestaat_niet'"),
    ("quantifier", "bijna iedereen", "unknown quantifier 'bijna iedereen'"),
    ("unit", "persoon", "unknown unit 'persoon'"),
    ("population", "{leeftijd: oud}", "'leeftijd' does not apply to unit region"),
    ("valence", "blij", "code 'knelpunt.financiering' has no valence"),
    ("population", "{respondent_type: [wijkteam]}", "unknown respondent_type 'wijkteam'; declared in study.yaml: "
                                                    "gemeente, provincie, culturele_instelling, fonds"),
])
def test_validation_errors_name_file_line_id_and_field(tmp_path, quantifiers, field, value, expected):
    body = {"text": "Iets.", "code": "knelpunt.financiering", "unit": "region", "population": "alle",
            "quantifier": "de meeste"}
    body[field] = value
    lines = ["conclusions:", "  - id: c-1"] + [f"    {k}: {v}" for k, v in body.items()]
    with pytest.raises(ConclusionsError) as info:
        _claims(tmp_path, "\n".join(lines) + "\n", quantifiers)
    message = str(info.value)
    line = 3 + list(body).index(field)
    assert f"conclusions.yaml:{line}: conclusion 'c-1', field '{field}'" in message
    assert expected in message


def test_missing_fields_and_duplicate_ids_are_all_reported(tmp_path, quantifiers):
    body = """\
    conclusions:
      - id: a
        text: x
        code: knelpunt.financiering
        unit: region
        population: alle
        quantifier: de meeste
      - id: a
        text: y
        unit: region
        population: alle
        quantifier: de meeste
    """
    with pytest.raises(ConclusionsError) as info:
        _claims(tmp_path, body, quantifiers)
    problems = info.value.problems
    assert any("field 'code': missing" in p for p in problems)
    assert any("duplicate id" in p for p in problems)


def test_bad_quantifier_table_is_reported():
    with pytest.raises(ConclusionsError, match="vrijwel alle: shares are fractions"):
        parse_quantifiers({"vrijwel alle": {"min_share": 90}})
    with pytest.raises(ConclusionsError, match="unknown key"):
        parse_quantifiers({"de meeste": {"meer_dan": 0.5}})


def test_the_project_conclusions_file_is_valid(quantifiers):
    root = Path(__file__).resolve().parents[1]
    codebook = root / "codebook" / "codebook.yaml"
    if not codebook.exists():
        pytest.skip("no codebook yet")
    from kwalitatief.codebook import load_codebook

    claims = load_conclusions(root / "codebook" / "conclusions.yaml", load_codebook(codebook).code_ids, quantifiers)
    assert len([c for c in claims if str(c.chapter).startswith("7")]) >= 12
    assert len([c for c in claims if str(c.chapter).startswith("5")]) >= 5


def _compare(tmp_path, quantifiers, group_a, group_b):
    codings, fragments, documents, respondents, regions, codes = study()
    frame = build_frame(codings, fragments, documents, respondents, regions, codes, VALENCED, OUTSIDE)
    claims = _claims(tmp_path, f"""\
conclusions:
  - id: cmp
    text: Voor de ene groep geldt het sterker dan voor de andere.
    code: knelpunt.financiering
    unit: respondent
    population: {{respondent_type: {group_a}}}
    compare_to: {{respondent_type: {group_b}}}
""", quantifiers)
    by_id = {f["fragment_id"]: f for f in fragments}
    return evaluate_conclusion(claims[0], frame, by_id, quantifiers, min_population=1, study=declarations())


def test_comparison_claim_supported_and_refuted_with_both_shares(tmp_path, quantifiers):
    types = sorted({r["respondent_type"] for r in study()[3]} - {"gemeente"})
    more = _compare(tmp_path, quantifiers, ["gemeente"], types)
    less = _compare(tmp_path, quantifiers, types, ["gemeente"])
    assert (more["n_matching"], more["n_population"]) == (2, 3)   # R1, R3 of the gemeenten R1, R3, R6
    assert more["comparison"]["share"] < more["share"]
    assert more["verdict"] == "ondersteund" and less["verdict"] == "niet ondersteund"
    assert less["comparison"]["n_matching"] == 2 and "2 van 3" in less["reason"]


def test_comparison_claim_with_quantifier_or_bad_group_is_refused(tmp_path, quantifiers):
    with pytest.raises(ConclusionsError, match=r"conclusion 'cmp', field 'compare_to'.*respondent_type"):
        _claims(tmp_path, """\
conclusions:
  - id: cmp
    text: x
    code: knelpunt.financiering
    unit: respondent
    population: alle
    compare_to: {respondent_type: [bestaat_niet]}
""", quantifiers)
    with pytest.raises(ConclusionsError, match=r"conclusion 'cmp', field 'quantifier'"):
        _claims(tmp_path, """\
conclusions:
  - id: cmp
    text: x
    code: knelpunt.financiering
    unit: respondent
    population: alle
    quantifier: alle
    compare_to: {respondent_type: [gemeente]}
""", quantifiers)
