"""The report's part on robustness: which verdicts depend on a choice, how many claims the data could have
refuted, and per claim its variants, bootstrap share, flip point and valence split (HTML and Markdown)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .claim_units import LABELS

MODE_LABELS = {"majority": "meerderheid", "any": "minstens één", "all": "allemaal"}


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}".replace("%", " %")


def claim_view(r: dict[str, Any]) -> dict[str, Any]:
    """Display strings for one claim's robustness, flip point, refutability and valence."""
    rob, ref = r.get("robustness") or {}, r.get("refutation") or {}
    boot = rob.get("bootstrap") or {}
    variants = " · ".join(f"{v['label']}{' (gebruikt)' if v['configured'] else ''}: {v['n_matching']}/"
                          f"{v['n_population']} {v['verdict']}" for v in rob.get("variants") or [])
    if boot.get("share_same_verdict") is not None:
        variants += (f" · {boot['resamples']} steekproeven (seed {boot['seed']}): zelfde oordeel in "
                     f"{_pct(boot['share_same_verdict'])}")
    if ref.get("refutable") is None:
        refutable = "niet te bepalen (geen oordeel)"
    elif ref["refutable"]:
        refutable = (f"ja: {ref['codes_other_verdict']} van de {ref['codes_tried']} andere codes krijgen bij deze "
                     "kwantor en populatie een ander oordeel")
    else:
        refutable = (f"nee: alle {ref['codes_tried']} andere codes krijgen hetzelfde oordeel; deze gegevens "
                     "maken bij deze kwantor geen onderscheid")
    valence = ""
    modes = r.get("valence_modes") or {}
    if modes:
        counts = r.get("valence_split") or {}
        split = ", ".join(f"{counts[v]} {v}" for v in LABELS if counts.get(v)) or "–"
        mode = modes.get("region" if r["unit"] == "region" else "respondent")
        basis = "respondenten" if r["unit"] == "region" else "coderingen"
        valence = f"{split} (waardering per eenheid: {MODE_LABELS.get(mode, mode)} van de {basis})"
        members = r.get("member_split") or {}
        if members:
            valence += "; " + "; ".join(
                f"{unit}: {', '.join(f'{split_[v]} {v}' for v in LABELS if split_.get(v))} → {r['unit_valences'].get(unit)}"
                for unit, split_ in sorted(members.items()))
    return {"robustness_label": rob.get("label", ""), "robustness_class": rob.get("status", ""),
            "variants_text": variants, "flip_text": (r.get("flip") or {}).get("text", ""),
            "refutable_text": refutable, "valence_text_split": valence}


def summary(results: Sequence[dict[str, Any]], unit_nouns: dict[str, str]) -> dict[str, Any]:
    """The top of the report: claims whose verdict depends on a choice or a sample, and refutability per unit."""
    flagged = [{"id": r["id"], "text": r["text"].rstrip("."), "label": (r.get("robustness") or {}).get("label", "")}
               for r in results if (r.get("robustness") or {}).get("flagged")]
    refutable = []
    for unit, noun in unit_nouns.items():
        decided = [r for r in results if r["unit"] == unit and (r.get("refutation") or {}).get("refutable") is not None]
        if decided:
            n = sum(1 for r in decided if r["refutation"]["refutable"])
            refutable.append({"unit": unit, "noun": noun, "n": n, "of": len(decided),
                              "ids": ", ".join(r["id"] for r in decided if not r["refutation"]["refutable"])})
    return {"flagged": flagged, "refutable": refutable}


def markdown_summary(s: dict[str, Any], md: Any) -> list[str]:
    """The summary as Markdown lines (``md`` escapes a cell)."""
    lines = ["## Hangt het oordeel af van een keuze?", ""]
    if s["flagged"]:
        lines += [f"- **{md(f['id'])}** {md(f['text'])}: {md(f['label'])}" for f in s["flagged"]]
    else:
        lines.append("Geen: elk oordeel is hetzelfde bij elke samenvoegregel en in de steekproeven.")
    lines.append("")
    for x in s["refutable"]:
        lines.append(f"- Claims over {md(x['noun'])}: {x['n']} van {x['of']} hadden door deze gegevens weerlegd "
                     "kunnen worden (een andere code krijgt een ander oordeel)"
                     + (f"; niet: {md(x['ids'])}" if x["ids"] else "") + ".")
    return lines + [""]


def markdown_claim(c: dict[str, Any], md: Any) -> list[str]:
    """The claim's robustness lines (Markdown list items)."""
    lines = [f"- Robuustheid: **{md(c['robustness_label'])}** ({md(c['variants_text'])})",
             f"- Kantelpunt: {md(c['flip_text'])}",
             f"- Weerlegbaar door deze gegevens: {md(c['refutable_text'])}"]
    if c.get("valence_text_split"):
        lines.append(f"- Waardering: {md(c['valence_text_split'])}")
    return lines
