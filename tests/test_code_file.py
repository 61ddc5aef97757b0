"""`kwal code-file`: codes arbitrary fragments; a malformed line is reported with its number and skipped."""

import json
from pathlib import Path

from click.testing import CliRunner

from kwalitatief.cli import main

CODEBOOK = Path(__file__).resolve().parents[1] / "codebook" / "codebook.yaml"


def test_code_file_codes_good_lines_and_reports_the_bad_one(tmp_path):
    inp = tmp_path / "in.jsonl"
    inp.write_text("\n".join([
        json.dumps({"id": "f1", "text": "De proeftuin was waardevol, maar ook rommelig."}),
        '{"id": "f2", "text": "kapot',
        json.dumps({"id": "f3", "text": "Die geldstromen zijn niet op elkaar afgestemd."}),
        json.dumps({"id": "f4", "text": "We hebben vergaderd."}),
    ]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    params = tmp_path / "params.yaml"
    params.write_text("nlp:\n  model: blank:nl+lookup\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["code-file", str(inp), str(out), "--codebook", str(CODEBOOK),
                                       "--params", str(params)])
    assert result.exit_code == 0, result.output
    assert f"{inp}:2" in result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["f1", "f3", "f4"]
    f1, f3, f4 = rows
    assert f1["codes"] == [{**f1["codes"][0], "code": "opinie.proeftuin", "valence": "gemengd", "source": "rule"}]
    assert "waardevol" in f1["codes"][0]["evidence"] and "rommelig" in f1["codes"][0]["evidence"]
    assert [c["code"] for c in f3["codes"]] == ["knelpunt.geldstromen"]
    assert "valence" not in f3["codes"][0] and f3["codes"][0]["score"] is None
    assert f4["codes"] == []


def test_code_step_codes_codable_fragments_with_question_context_and_caches_per_document(tmp_path):
    from kwalitatief.codebook import load_codebook
    from kwalitatief.coding import code_documents, tokenise
    from kwalitatief.nlp import load_nlp

    root = Path(__file__).resolve().parents[1]
    codebook = load_codebook(root / "codebook" / "codebook.yaml")
    texts = [("interviewer", False, "Hoe kijkt u terug op de proeftuin?"),
             ("respondent", True, "Heel waardevol, het gaf veel energie."),
             ("interviewer", False, "Die geldstromen zijn niet op elkaar afgestemd."),
             ("respondent", True, "Die geldstromen zijn niet op elkaar afgestemd.")]
    rows = tokenise([t for _, _, t in texts], load_nlp("blank:nl+lookup"))
    fragments = [{**row, "fragment_id": f"d1-{i}", "doc_id": "d1", "seq": i, "role": role, "codable": codable}
                 for i, (row, (role, codable, _)) in enumerate(zip(rows, texts))]
    loads = []

    def load():
        loads.append(1)
        return fragments

    def run():
        coded, stats = code_documents([("d1", "content-1", load)], codebook, "blank:nl+lookup", True,
                                      cache_dir=tmp_path / "cache")
        return [{"fragment_id": fid, **row} for fid, rs in zip(coded["d1"]["ids"], coded["d1"]["rows"])
                for row in rs], stats

    out, stats = run()
    assert {(r["fragment_id"], r["code"], r["valence"]) for r in out} == {
        ("d1-1", "opinie.proeftuin", "positief"),      # topic from the interviewer's question
        ("d1-3", "knelpunt.geldstromen", None),        # the interviewer fragment itself is not coded
    }
    assert all(r["source"] == "rule" and r["rule_id"] for r in out)
    again, stats_again = run()                         # the same content key: from the cache, not loaded
    assert again == out and stats_again == {"cache_hits": 1, "cache_misses": 0} and len(loads) == 1
    assert next(r for r in out if r["code"] == "opinie.proeftuin")["rule_id"].endswith("@context")
