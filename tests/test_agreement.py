"""Agreement numbers against a hand-computed example, between reviewers and with the machine."""

from __future__ import annotations

import pytest

from kwalitatief.agreement import agreement_rows, cohen_kappa, interpret, krippendorff_alpha
from kwalitatief.review import Decision

# Ten (fragment, code) units, two coders, yes/no.
A = [1, 1, 1, 0, 0, 0, 1, 0, 1, 0]
B = [1, 1, 0, 0, 0, 1, 1, 0, 1, 0]
# By hand: 8 of 10 agree, p_o = 0.8; each coder says yes 5 times, p_e = 0.5*0.5 + 0.5*0.5 = 0.5;
# kappa = (0.8 - 0.5) / (1 - 0.5) = 0.6.
# Krippendorff (nominal, 2 coders, 20 values): coincidences o_00 = 8, o_11 = 8, o_01 = o_10 = 2;
# n_0 = n_1 = 10, n = 20; D_o = 4/20 = 0.2; D_e = 2*10*10 / (20*19) = 0.5263...; alpha = 1 - 0.2/0.5263 = 0.62.


def test_kappa_and_alpha_match_the_hand_computed_example():
    a, b = [bool(x) for x in A], [bool(x) for x in B]
    assert cohen_kappa(a, b) == pytest.approx(0.6)
    assert krippendorff_alpha(a, b) == pytest.approx(0.62)


def test_no_variation_means_undefined_not_a_number():
    assert cohen_kappa([True, True], [True, True]) is None
    assert krippendorff_alpha([True, True], [True, True]) is None
    assert interpret(None) == "niet te bepalen"


@pytest.mark.parametrize("alpha, reading", [(0.85, "betrouwbaar"), (0.8, "betrouwbaar"), (0.7, "voorlopig"),
                                            (0.667, "voorlopig"), (0.62, "onbetrouwbaar")])
def test_interpretation_thresholds(alpha, reading):
    assert interpret(alpha) == reading


def _decisions(labels, reviewer, codes):
    out = []
    for i, (value, code) in enumerate(zip(labels, codes)):
        out.append(Decision(f"2024-01-01T00:00:{i:02d}Z", reviewer, f"d-{i}", "", code,
                            "accept" if value else "reject", line=i + 1))
    return out


def test_rows_per_code_and_overall_between_reviewers_and_with_the_machine():
    codes = ["knelpunt.a"] * 5 + ["knelpunt.b"] * 5
    fragments = [{"fragment_id": f"d-{i}", "text": "t"} for i in range(10)]
    decisions = _decisions(A, "anna", codes) + _decisions(B, "bram", codes)
    # bram decided one more unit that anna did not: it is not compared
    decisions.append(Decision("2024-01-02T00:00:00Z", "bram", "d-0", "", "knelpunt.c", "accept", line=99))
    machine = {"rules": [{"fragment_id": f"d-{i}", "code": c} for i, (v, c) in enumerate(zip(A, codes)) if v]}
    rows = agreement_rows(decisions, fragments, machine, codes=["knelpunt.a", "knelpunt.b", "knelpunt.c"])
    overall = next(r for r in rows if r["comparison"] == "reviewers" and r["code"] == "(alle codes)")
    assert (overall["rater_a"], overall["rater_b"], overall["n"], overall["n_fragments"]) == ("anna", "bram", 10, 10)
    assert overall["kappa"] == pytest.approx(0.6) and overall["alpha"] == pytest.approx(0.62)
    assert overall["interpretation"] == "onbetrouwbaar" and overall["agreement"] == pytest.approx(0.8)
    per_code = {r["code"]: r for r in rows if r["comparison"] == "reviewers"}
    assert per_code["knelpunt.a"]["n"] == 5 and per_code["knelpunt.b"]["n"] == 5
    assert "knelpunt.c" not in per_code
    # anna against the rules: the rules proposed exactly anna's yes-codes -> perfect agreement
    anna_rules = next(r for r in rows if r["rater_a"] == "anna" and r["rater_b"] == "rules"
                      and r["code"] == "(alle codes)")
    assert anna_rules["n"] == 10 and anna_rules["alpha"] == pytest.approx(1.0)
    assert anna_rules["interpretation"] == "betrouwbaar"


def test_orphaned_decisions_are_not_compared():
    codes = ["knelpunt.a"] * 10
    fragments = [{"fragment_id": f"d-{i}", "text": "t"} for i in range(5)]   # d-5..d-9 are gone
    decisions = _decisions(A, "anna", codes) + _decisions(B, "bram", codes)
    rows = agreement_rows(decisions, fragments)
    assert rows[0]["n"] == 5


def test_too_few_pairs_read_te_weinig():
    assert interpret(0.95, n=4) == "te weinig (n < 10)"
    assert interpret(0.95, n=10) == "betrouwbaar"
