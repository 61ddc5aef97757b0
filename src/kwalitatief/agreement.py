"""Intercoder agreement: Cohen's kappa and Krippendorff's alpha between reviewers and with the machine.

The unit is a (fragment, code) pair with a yes/no label. A reviewer labels a pair by their own latest
decision on it (accept, add, change valence = yes; reject = no). Two reviewers are compared on the pairs
both decided; a reviewer and the machine (rules, classifier, merged) on the pairs the reviewer decided,
the machine's label being whether it proposed the code (the classifier only on codes it has a model for).
Reviews made in blind mode (``kwal review --blind``) decide every code of the sampled fragments, so they
give the comparisons with the most information; ordinary review decides only proposed codes.

Per code and overall (all pairs pooled); with the number of pairs (``n``) and fragments. Alpha is read as
≥ 0.800 reliable, ≥ 0.667 tentative, else unreliable (Krippendorff 2004).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from .review import Decision, latest_per_reviewer, split_orphans

ALL_CODES = "(alle codes)"
COLUMNS = ("comparison", "rater_a", "rater_b", "code", "n", "n_fragments", "agreement", "kappa", "alpha",
           "interpretation")

Key = tuple[str, str]


MIN_PAIRS = 10   # fewer (fragment, code) pairs than this: a value that means nothing yet


def interpret(alpha: float | None, n: int | None = None) -> str:
    """The reading of an alpha value for the report (Dutch, like the report); ``n`` pairs below
    :data:`MIN_PAIRS` read "te weinig"."""
    if n is not None and n < MIN_PAIRS:
        return f"te weinig (n < {MIN_PAIRS})"
    if alpha is None:
        return "niet te bepalen"
    if alpha >= 0.800:
        return "betrouwbaar"
    if alpha >= 0.667:
        return "voorlopig"
    return "onbetrouwbaar"


def cohen_kappa(a: Sequence[bool], b: Sequence[bool]) -> float | None:
    """Cohen's kappa (scikit-learn); None when it is undefined (both raters use one and the same label)."""
    if not a or len(set(a) | set(b)) < 2:
        return None
    from sklearn.metrics import cohen_kappa_score

    value = float(cohen_kappa_score([int(x) for x in a], [int(x) for x in b], labels=[0, 1]))
    return None if math.isnan(value) else value


def krippendorff_alpha(a: Sequence[bool], b: Sequence[bool]) -> float | None:
    """Krippendorff's alpha, nominal, two coders (``krippendorff`` package); None when undefined."""
    if not a or len(set(a) | set(b)) < 2:
        return None
    import krippendorff

    value = float(krippendorff.alpha(reliability_data=[[int(x) for x in a], [int(x) for x in b]],
                                     level_of_measurement="nominal"))
    return None if math.isnan(value) else value


def compare(a: dict[Key, bool], b: dict[Key, bool], comparison: str, rater_a: str, rater_b: str,
            codes: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Rows per code and overall for two label sets, on the pairs both labelled."""
    shared = sorted(set(a) & set(b))
    if not shared:
        return []
    per_code: dict[str, list[Key]] = {}
    for key in shared:
        per_code.setdefault(key[1], []).append(key)
    order = [c for c in (codes or sorted(per_code)) if c in per_code]
    rows = [_row(comparison, rater_a, rater_b, ALL_CODES, shared, a, b)]
    rows += [_row(comparison, rater_a, rater_b, code, per_code[code], a, b) for code in order]
    return rows


def _row(comparison: str, rater_a: str, rater_b: str, code: str, keys: list[Key], a: dict[Key, bool],
         b: dict[Key, bool]) -> dict[str, Any]:
    la, lb = [a[k] for k in keys], [b[k] for k in keys]
    alpha = krippendorff_alpha(la, lb)
    return {"comparison": comparison, "rater_a": rater_a, "rater_b": rater_b, "code": code, "n": len(keys),
            "n_fragments": len({k[0] for k in keys}),
            "agreement": round(sum(x == y for x, y in zip(la, lb)) / len(keys), 4),
            "kappa": _round(cohen_kappa(la, lb)), "alpha": _round(alpha), "interpretation": interpret(alpha, len(keys))}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def reviewer_labels(decisions: Iterable[Decision]) -> dict[str, dict[Key, bool]]:
    """reviewer -> {(fragment, code): present} from each reviewer's own latest decisions."""
    out: dict[str, dict[Key, bool]] = {}
    for (reviewer, fid, code), d in latest_per_reviewer(decisions).items():
        out.setdefault(reviewer, {})[(fid, code)] = d.decision != "reject"
    return out


def agreement_rows(decisions: Sequence[Decision], fragments: Sequence[dict[str, Any]],
                   machine: dict[str, Iterable[dict[str, Any]]] | None = None,
                   machine_codes: dict[str, Iterable[str]] | None = None,
                   codes: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """All comparisons: each pair of reviewers, then each reviewer against each machine coding.

    ``machine`` maps a name (rules, classifier, merged) to its coding rows; ``machine_codes`` optionally
    limits a machine to the codes it can give (e.g. the classifier's trained codes).
    """
    live, _ = split_orphans(decisions, fragments)
    labels = reviewer_labels(live)
    reviewers = sorted(labels)
    rows: list[dict[str, Any]] = []
    for i, ra in enumerate(reviewers):
        for rb in reviewers[i + 1:]:
            rows += compare(labels[ra], labels[rb], "reviewers", ra, rb, codes)
    for name, coding_rows in (machine or {}).items():
        present = {(r["fragment_id"], r["code"]) for r in coding_rows}
        limit = set(machine_codes[name]) if machine_codes and name in machine_codes else None
        for reviewer in reviewers:
            mine = {k: v for k, v in labels[reviewer].items() if limit is None or k[1] in limit}
            theirs = {k: k in present for k in mine}
            rows += compare(mine, theirs, "machine", reviewer, name, codes)
    return rows


def project_agreement(params: dict[str, Any] | None = None, root: str = ".") -> list[dict[str, Any]]:
    """Agreement of the project: decisions file, fragments, rule/classifier codings, their merge."""
    from pathlib import Path

    from . import paths
    from .classifier.merge import merge_codings
    from .classifier.settings import settings
    from .jsonio import read_json, read_jsonl
    from .review import read_decisions

    base = Path(root)

    def rows(path: Path) -> list[dict[str, Any]]:
        return list(read_jsonl(base / path)) if (base / path).exists() else []

    decisions, _ = read_decisions(base / paths.REVIEWS)
    if not decisions:
        return []
    fragments = rows(paths.FRAGMENTS)
    rule_rows, clf_rows = rows(paths.CODINGS_RULE), rows(paths.CODINGS_CLASSIFIER)
    meta_path = base / paths.MODEL_DIR / "model.json"
    meta = read_json(meta_path) if meta_path.exists() else {}
    trained = meta.get("trained_codes") or sorted({r["code"] for r in clf_rows})
    cfg = settings(params or {})
    merged = merge_codings(rule_rows, clf_rows, cfg["merge_policy"], trained, cfg["valence_from"])
    machine: dict[str, Iterable[dict[str, Any]]] = {"rules": rule_rows}
    if clf_rows or meta:
        machine["classifier"] = clf_rows
    machine["merged"] = merged
    codes = None
    try:
        from .codebook import load_codebook
        from .config import codebook_path

        codes = load_codebook(base / codebook_path(params)).code_ids
    except Exception:  # noqa: BLE001 - order codes alphabetically when the codebook cannot be read
        codes = None
    return agreement_rows(decisions, fragments, machine, {"classifier": trained}, codes)


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """A plain-text table of agreement rows (for ``kwal agreement``)."""
    if not rows:
        return "no review decisions to compare yet (review with `kwal review --reviewer NAME`)."
    head = ("comparison", "rater_a", "rater_b", "code", "n", "frag", "agree", "kappa", "alpha", "interpretation")
    body = [(r["comparison"], r["rater_a"], r["rater_b"], r["code"], str(r["n"]), str(r["n_fragments"]),
             f"{r['agreement']:.3f}", _fmt(r["kappa"]), _fmt(r["alpha"]), r["interpretation"]) for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(b, widths)) for b in body]
    lines.append("alpha >= 0.800 betrouwbaar (reliable), >= 0.667 voorlopig (tentative), else onbetrouwbaar.")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"
