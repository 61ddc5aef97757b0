"""`kwal eval GOLD.jsonl`: scoring the coding against fragments coded by people."""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from kwalitatief.cli import main
from kwalitatief.gold import GoldError, GoldFragment, load_gold, score_gold

ROOT = Path(__file__).resolve().parents[1]
CODEBOOK = ROOT / "codebook" / "codebook.yaml"
CODES = ["knelpunt.a", "knelpunt.b", "opinie.c"]


def _gold(*codes: dict) -> list[GoldFragment]:
    return [GoldFragment(f"g{i}", "tekst", c, i + 1) for i, c in enumerate(codes)]


def test_scores_agree_with_scikit_learn_and_strict_needs_the_valence():
    from sklearn.metrics import cohen_kappa_score, precision_recall_fscore_support

    gold = _gold({"knelpunt.a": None}, {"knelpunt.a": None, "opinie.c": "positief"}, {}, {"knelpunt.b": None},
                 {"opinie.c": "negatief"}, {})
    pred = [{"knelpunt.a": None}, {"knelpunt.b": None, "opinie.c": "positief"}, {"knelpunt.a": None}, {},
            {"opinie.c": "positief"}, {}]
    result = score_gold(gold, pred, CODES)
    y_true = np.array([[c in g.codes for c in CODES] for g in gold], dtype=int)
    y_pred = np.array([[c in p for c in CODES] for p in pred], dtype=int)
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average="micro", zero_division=0)
    assert (result["micro_precision"], result["micro_recall"], result["micro_f1"]) == pytest.approx((p, r, f), abs=1e-4)
    assert result["kappa"] == pytest.approx(cohen_kappa_score(y_true.ravel(), y_pred.ravel()), abs=1e-4)
    for j, code in enumerate(CODES):
        pc, rc, fc, _ = precision_recall_fscore_support(y_true[:, j], y_pred[:, j], average="binary",
                                                        zero_division=0)
        got = result["per_code"][code]
        assert (got["precision"], got["recall"], got["f1"]) == pytest.approx((pc, rc, fc), abs=1e-4)
    # opinie.c is found twice, but with the gold valence only once: strict has one hit fewer
    assert result["strict_precision"] == pytest.approx(2 / 5) and result["micro_precision"] == pytest.approx(3 / 5)
    assert {"gold": "knelpunt.a", "predicted": "knelpunt.b", "n": 1} in result["errors"]["confusions"]
    assert result["errors"]["valence"] == [{"code": "opinie.c", "gold": "negatief", "predicted": "positief", "n": 1}]


def test_a_bad_gold_file_is_refused_with_every_bad_line(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join([
        json.dumps({"id": "a", "text": "goed", "codes": [{"code": "knelpunt.a"}]}),
        '{"id": "b", "text": "kapot',
        json.dumps({"id": "c", "text": "x", "codes": [{"code": "knelpunt.zzz"}]}),
        json.dumps({"id": "a", "text": "dubbel", "codes": []}),
        json.dumps({"id": "d", "codes": []}),
    ]) + "\n", encoding="utf-8")
    with pytest.raises(GoldError) as info:
        load_gold(path, CODES)
    message = str(info.value)
    assert f"{path}:2: not valid JSON" in message
    assert f"{path}:3: unknown code id 'knelpunt.zzz'" in message
    assert f"{path}:4: id 'a' is also used on line 1" in message
    assert f"{path}:5: field 'text'" in message


def test_kwal_eval_scores_a_gold_file_with_the_rules(tmp_path):
    gold = tmp_path / "gold.jsonl"
    rows = [{"id": "f1", "text": "De proeftuin was waardevol, maar ook rommelig.",
             "codes": [{"code": "opinie.proeftuin", "valence": "gemengd"}]},
            {"id": "f2", "text": "Die geldstromen zijn niet op elkaar afgestemd.",
             "codes": [{"code": "knelpunt.geldstromen"}]},
            {"id": "f3", "text": "We hebben vergaderd.", "codes": [{"code": "knelpunt.tijdsdruk"}]}]
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    params = tmp_path / "params.yaml"
    params.write_text("nlp:\n  model: blank:nl+lookup\n", encoding="utf-8")
    out = tmp_path / "scores.json"
    result = CliRunner().invoke(main, ["eval", str(gold), "--codebook", str(CODEBOOK), "--params", str(params),
                                       "--rules-only", "--out", str(out)])
    assert result.exit_code == 0, result.output
    scores = json.loads(out.read_text(encoding="utf-8"))
    assert scores["n_fragments"] == 3 and scores["n_gold_codes"] == 3
    assert scores["micro_precision"] == 1.0 and scores["micro_recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert scores["strict_f1"] == scores["micro_f1"]
    assert scores["errors"]["missed"] == [{"code": "knelpunt.tijdsdruk", "n": 1}]
    assert "knelpunt.tijdsdruk" in result.output and "micro" in result.output


def test_kwal_eval_names_the_line_of_an_unknown_code(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "x", "text": "tekst", "codes": ["doel.bestaat_niet"]}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["eval", str(gold), "--codebook", str(CODEBOOK), "--rules-only",
                                       "--params", str(tmp_path / "none.yaml")])
    assert result.exit_code != 0
    assert f"{gold}:1: unknown code id 'doel.bestaat_niet'" in result.output
