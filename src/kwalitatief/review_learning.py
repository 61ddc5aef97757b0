"""Learning from review, simulated: how many review decisions does the coder need to reach a target?

A simulated reviewer works through a queue of gold fragments (fragments coded by people): for each fragment
in turn it gives the gold codes, as a researcher reviewing that fragment would (accept what is right, reject
what is wrong, add what is missing). Every ``k`` reviewed fragments the classifier is retrained with them as
extra training data, and the coding of the fragments not yet reviewed is scored. Two queues are compared:
``uncertain`` (the fragment whose scores are nearest their thresholds first, re-ranked after every retraining,
as the review page's "most uncertain first") and ``document`` (the order of the gold file).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .classifier.coding_model import CodingModel
from .classifier.examples import Example
from .classifier.model import Model
from .classifier.training import train
from .gold import GoldFragment, predicted_sets, score_gold

ORDERS = ("uncertain", "document")


@dataclass
class GoldSet:
    """Gold fragments with what coding them needs: token rows and rule codings (computed once)."""

    fragments: list[GoldFragment]
    rows: list[dict[str, Any]]              # fragment rows (text, tokens, sents), as coding.tokenise gives them
    rule_rows: list[list[dict[str, Any]]]   # the rule codings of each


def code_gold(model: Model, gold: GoldSet, idx: Sequence[int], cfg: dict[str, Any]) -> list[dict[str, str | None]]:
    """The merged codings (code -> valence) of the gold fragments ``idx``, as ``kwal code-file`` makes them."""
    coder = CodingModel(model, cfg["merge_policy"], cfg["valence_from"])
    rows = [gold.rows[i] for i in idx]
    rules = [gold.rule_rows[i] for i in idx]
    clf = model.predict_fragments(rows, rules)
    return predicted_sets([coder.merge_rows(list(r) + list(c)) for r, c in zip(rules, clf)])


def uncertainty(model: Model, gold: GoldSet, idx: Sequence[int]) -> list[float]:
    """Per fragment, the smallest distance of a code's score to its threshold (small = uncertain)."""
    from .classifier.examples import fragment_example

    items = [fragment_example({**gold.rows[i], "fragment_id": gold.fragments[i].id}) for i in idx]
    hits = [{r["code"] for r in gold.rule_rows[i]} for i in idx]
    probs, _ = model.scores(items, hits)
    out = []
    for j in range(len(idx)):
        distances = [abs(float(probs[c][j]) - model.thresholds[c]) for c in probs]
        out.append(min(distances) if distances else 1.0)
    return out


def gold_example(fragment: GoldFragment, row: dict[str, Any], codes: Sequence[str]) -> Example:
    """A reviewed gold fragment as a training example (every code labelled, valences kept)."""
    lemmas = " ".join(lemma for _, _, lemma in row["tokens"] if str(lemma).strip())
    return Example(f"review-{fragment.id}", "review-simulation", fragment.text, lemmas,
                   {c: c in fragment.codes for c in codes}, {c: v for c, v in fragment.codes.items() if v},
                   [f"gold:{fragment.line}"])


def simulate(examples: Sequence[Example], hits: dict[str, set[str]], gold: GoldSet, codes: Sequence[str],
             params: dict[str, Any], order: str, k: int, codebook_version: str = "", cues: Any = None
             ) -> list[dict[str, Any]]:
    """The learning curve of one queue order: a point per ``k`` decisions (reviewed fragments) with the
    micro F1 and kappa of the coding of the fragments not yet reviewed."""
    from .classifier.settings import settings

    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}")
    cfg = settings(params)
    rest = list(range(len(gold.fragments)))
    reviewed: list[int] = []
    extra_hits = dict(hits)
    points = []
    model, _ = train(list(examples), codes, params, codebook_version, extra_hits, cues)
    while True:
        if rest:
            s = score_gold([gold.fragments[i] for i in rest], code_gold(model, gold, rest, cfg), codes)
            points.append({"decisions": len(reviewed), "remaining": len(rest), "micro_f1": s["micro_f1"],
                           "kappa": s["kappa"], "precision": s["micro_precision"], "recall": s["micro_recall"]})
        if len(rest) <= k:
            return points
        if order == "uncertain":
            ranked = sorted(zip(uncertainty(model, gold, rest), rest))
            batch = [i for _, i in ranked[:k]]
        else:
            batch = rest[:k]
        reviewed += batch
        taken = set(batch)
        rest = [i for i in rest if i not in taken]
        new = [gold_example(gold.fragments[i], gold.rows[i], codes) for i in reviewed]
        for i, ex in zip(reviewed, new):
            extra_hits[ex.fragment_id] = {r["code"] for r in gold.rule_rows[i]}
        model, _ = train(list(examples) + new, codes, params, codebook_version, extra_hits, cues)


def decisions_to_reach(points: Sequence[dict[str, Any]], kappa: float = 0.8) -> int | None:
    """The first number of decisions after which the kappa on the rest reaches ``kappa`` (None: never)."""
    for p in points:
        if p["kappa"] is not None and p["kappa"] >= kappa:
            return p["decisions"]
    return None
