"""Merging rule and classifier codings into one coding per (fragment, code), by a policy, with provenance."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import Model

from .settings import MERGE_POLICIES, ClassifyError


def merge_fragment_rows(rows: Sequence[dict[str, Any]], model: Model | None, policy: str = "union",
                        valence_from: str = "rule_first") -> list[dict[str, Any]]:
    """Merge one fragment's rule and classifier rows (as ``code_fragments`` returns them) by ``policy``."""
    rule = [{**r, "fragment_id": ""} for r in rows if r.get("source") == "rule"]
    clf = [{**r, "fragment_id": ""} for r in rows if r.get("source") == "classifier"]
    merged = merge_codings(rule, clf, policy, model.trained_codes if model else (), valence_from,
                           model_version=model.version if model else None)
    for row in merged:
        del row["fragment_id"]
    return merged


def merge_codings(rule_rows: Iterable[dict[str, Any]], clf_rows: Iterable[dict[str, Any]],
                  policy: str = "union", trained_codes: Iterable[str] = (), valence_from: str = "rule_first",
                  codebook_version: str | None = None, model_version: str | None = None) -> list[dict[str, Any]]:
    """The merged codings (rows of ``codings.jsonl``), one per (fragment, code), with provenance.

    Policies, for the codes the classifier has a model for (``trained_codes``): ``union`` keeps a code
    found by either; ``intersection`` only one found by both; ``classifier`` the classifier's decision;
    ``rules_only`` the rules' decision. Codes without a model always follow the rules.
    """
    if policy not in MERGE_POLICIES:
        raise ClassifyError(f"merge policy '{policy}' is not one of {', '.join(MERGE_POLICIES)}.")
    trained = set(trained_codes)
    rules = {(r["fragment_id"], r["code"]): r for r in rule_rows}
    clf = {(r["fragment_id"], r["code"]): r for r in clf_rows}
    merged = []
    for key in sorted(set(rules) | set(clf)):
        rule, cls = rules.get(key), clf.get(key)
        code = key[1]
        if code not in trained or policy == "rules_only":
            keep = rule is not None
        elif policy == "union":
            keep = True
        elif policy == "intersection":
            keep = rule is not None and cls is not None
        else:   # classifier
            keep = cls is not None
        if not keep:
            continue
        if code not in trained or policy == "rules_only":
            cls = None
        sources = "+".join(name for name, row in (("rule", rule), ("classifier", cls)) if row is not None)
        valence = None
        if any(row is not None and row.get("valence") for row in (rule, cls)):   # codes with valence only
            order = (rule, cls) if valence_from == "rule_first" else (cls, rule)
            valence = next((row["valence"] for row in order if row is not None and row.get("valence")), None)
        merged.append({
            "fragment_id": key[0], "code": code, "valence": valence, "sources": sources,
            "rule_id": rule["rule_id"] if rule else None,
            "evidence": rule.get("evidence") if rule else None,
            "start": rule.get("start") if rule else None,
            "end": rule.get("end") if rule else None,
            "score": cls["score"] if cls else None,
            "status": "unreviewed", "reviewer": None,
            "codebook_version": codebook_version or (rule or cls or {}).get("codebook_version"),
            "model_version": (cls.get("model_version") or model_version) if cls else None,
        })
    return merged
