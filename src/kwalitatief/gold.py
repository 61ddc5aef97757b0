"""Scoring the coding against a gold file of fragments coded by people (``kwal eval FILE``).

A gold file has one JSON object per line: ``{"id": ..., "text": ..., "codes": [{"code": ..., "valence": ...}]}``
(other fields are ignored). The fragments are coded by the same path as ``kwal code-file`` (rules and the
trained classifier, merged by ``classify.merge_policy``) and scored per code and overall: precision, recall,
F1, Cohen's kappa (per code, their mean, and pooled over all fragment x code decisions), strict scores that
also require the valence of codes with valence, and the most frequent errors.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .classifier.annotations import json_lines, parse_codes
from .classifier.examples import Example
from .evaluate import Predicted, _f1, _kappa, score


class GoldError(Exception):
    """A gold file that cannot be scored; the message names the file, line and field."""


@dataclass
class GoldFragment:
    """One coded fragment of a gold file."""

    id: str
    text: str
    codes: dict[str, str | None]      # code -> valence (codes with valence) or None
    line: int


def load_gold(path: str | Path, code_ids: Sequence[str]) -> list[GoldFragment]:
    """The fragments of a gold file, validated against the codebook's code ids.

    Raises :class:`GoldError` listing every unusable line (bad JSON, missing id/text/codes, unknown code id,
    duplicate id): a partly unreadable gold file would give a score that means nothing.
    """
    known = set(code_ids)
    errors: list[str] = []
    out: list[GoldFragment] = []
    seen: dict[str, int] = {}
    try:
        lines = list(json_lines(path))
    except OSError as exc:
        raise GoldError(f"{path}: cannot be read ({exc.strerror}).") from exc
    for where, row, error in lines:
        if error:
            errors.append(f"{where}: {error}.")
            continue
        if not isinstance(row, dict):
            errors.append(f"{where}: expected a JSON object with id, text and codes.")
            continue
        frag_id, text, codes = row.get("id"), row.get("text"), row.get("codes")
        if not isinstance(frag_id, (str, int)) or frag_id == "":
            errors.append(f"{where}: field 'id' is missing (a string or number per fragment).")
            continue
        if not isinstance(text, str) or not text.strip():
            errors.append(f"{where}: field 'text' is missing or empty.")
            continue
        if not isinstance(codes, list):
            errors.append(f"{where}: field 'codes' must be a list (use [] for a fragment without a code).")
            continue
        parsed, issues = parse_codes(codes, where, known, consequence="Correct the line and score again.")
        errors.extend(p["message"] for p in issues if p["severity"] == "error")
        if parsed is None:
            continue
        number = int(where.rsplit(":", 1)[1])
        if str(frag_id) in seen:
            errors.append(f"{where}: id '{frag_id}' is also used on line {seen[str(frag_id)]}; ids must be "
                          "unique.")
            continue
        seen[str(frag_id)] = number
        out.append(GoldFragment(str(frag_id), text, parsed, number))
    if errors:
        raise GoldError("\n".join(errors))
    if not out:
        raise GoldError(f"{path}: no fragments to score.")
    return out


def score_gold(gold: Sequence[GoldFragment], predictions: Sequence[Predicted], codes: Sequence[str],
               top_errors: int = 12) -> dict[str, Any]:
    """Per-code and overall scores of ``predictions`` (code -> valence per fragment) against ``gold``.

    Adds to :func:`kwalitatief.evaluate.score`: pooled ``kappa`` over every fragment x code decision, strict
    micro scores (a code with valence only counts as found with the gold valence) and ``errors``: the most
    frequent confusions (gold code -> predicted code in the same fragment), misses and false codings.
    """
    examples = [Example(g.id, "", g.text, "", {c: c in g.codes for c in codes},
                        {c: v for c, v in g.codes.items() if v}) for g in gold]
    result = score(examples, predictions, codes)
    counts = _counts(gold, predictions, codes)
    result["kappa"] = _round(_kappa(*counts["pooled"]))
    sp, sr, sf = _f1(counts["strict_tp"], counts["n_pred"] - counts["strict_tp"], counts["n_gold"] - counts["strict_tp"])
    result.update({"strict_precision": round(sp, 4), "strict_recall": round(sr, 4), "strict_f1": round(sf, 4),
                   "n_fragments": len(gold), "n_gold_codes": counts["n_gold"], "n_predicted_codes": counts["n_pred"]})
    result["errors"] = _errors(gold, predictions, top_errors)
    return result


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _counts(gold: Sequence[GoldFragment], predictions: Sequence[Predicted], codes: Sequence[str]) -> dict[str, Any]:
    tp = fp = fn = tn = strict_tp = 0
    for g, pred in zip(gold, predictions):
        for code in codes:
            want, got = code in g.codes, code in pred
            tp += want and got
            fp += got and not want
            fn += want and not got
            tn += not want and not got
            if want and got and (g.codes[code] is None or g.codes[code] == pred[code]):
                strict_tp += 1
    return {"pooled": (tp, fp, fn, tn), "strict_tp": strict_tp, "n_gold": tp + fn, "n_pred": tp + fp}


def _errors(gold: Sequence[GoldFragment], predictions: Sequence[Predicted], top: int) -> dict[str, list]:
    """The most frequent confusions, misses and false codings (counts over fragments)."""
    confused: Counter[tuple[str, str]] = Counter()
    missed: Counter[str] = Counter()
    spurious: Counter[str] = Counter()
    valence: Counter[tuple[str, str, str]] = Counter()
    for g, pred in zip(gold, predictions):
        lost = sorted(set(g.codes) - set(pred))
        extra = sorted(set(pred) - set(g.codes))
        missed.update(lost)
        spurious.update(extra)
        confused.update((a, b) for a in lost for b in extra)
        for code in sorted(set(g.codes) & set(pred)):
            if g.codes[code] and pred[code] != g.codes[code]:
                valence[(code, g.codes[code], str(pred[code]))] += 1

    def ranked(counter: Counter) -> list:
        return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top]

    return {"confusions": [{"gold": a, "predicted": b, "n": n} for (a, b), n in ranked(confused)],
            "missed": [{"code": c, "n": n} for c, n in ranked(missed)],
            "false": [{"code": c, "n": n} for c, n in ranked(spurious)],
            "valence": [{"code": c, "gold": v, "predicted": p, "n": n} for (c, v, p), n in ranked(valence)]}


def predicted_sets(rows_per_fragment: Sequence[Sequence[dict[str, Any]]]) -> list[Predicted]:
    """Coding rows per fragment (as ``coding.code_texts`` returns them) as code -> valence."""
    return [{row["code"]: row.get("valence") for row in rows} for rows in rows_per_fragment]


def format_report(result: dict[str, Any], title: str) -> str:
    """A plain-text report of :func:`score_gold` for the terminal."""
    lines = [f"{title}: {result['n_fragments']} fragments, {result['n_gold_codes']} gold codes, "
             f"{result['n_predicted_codes']} predicted",
             f"  micro  P {result['micro_precision']:.3f}  R {result['micro_recall']:.3f}  "
             f"F1 {result['micro_f1']:.3f}   kappa {result['kappa'] if result['kappa'] is not None else float('nan'):.3f}"
             f" (mean per code {result['mean_kappa']:.3f})",
             f"  macro  F1 {result['macro_f1']:.3f}",
             f"  strict (with valence)  P {result['strict_precision']:.3f}  R {result['strict_recall']:.3f}  "
             f"F1 {result['strict_f1']:.3f}   valence accuracy "
             + (f"{result['valence_accuracy']:.3f}" if result["valence_accuracy"] is not None else "-"),
             "", f"  {'code':34} {'P':>6} {'R':>6} {'F1':>6} {'kappa':>6} {'gold':>5} {'pred':>5}"]
    for code, m in result["per_code"].items():
        kappa = f"{m['kappa']:.3f}" if m["kappa"] is not None else "-"
        lines.append(f"  {code:34} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f} {kappa:>6} "
                     f"{m['support']:5d} {m['predicted']:5d}")
    errors = result["errors"]
    if errors["confusions"]:
        lines += ["", "  most frequent confusions (gold -> predicted instead, same fragment):"]
        lines += [f"    {e['n']:3d}  {e['gold']} -> {e['predicted']}" for e in errors["confusions"]]
    if errors["missed"]:
        lines += ["", "  most missed: " + ", ".join(f"{e['code']} ({e['n']})" for e in errors["missed"])]
    if errors["false"]:
        lines += ["  most false:  " + ", ".join(f"{e['code']} ({e['n']})" for e in errors["false"])]
    if errors["valence"]:
        lines += ["  valence errors: " + ", ".join(f"{e['code']} {e['gold']}->{e['predicted']} ({e['n']})"
                                                for e in errors["valence"])]
    return "\n".join(lines)
