"""How much a claim's verdict depends on the method: merge policies, the sample of respondents, the code.

- **Merge policies**: every claim is recomputed on the codings the pipeline would have written with each
  merge policy (:func:`kwalitatief.classifier.merge.merge_codings`), the annotations and review decisions
  applied on top as the classify stage does, and on the human decisions alone (``reviewed``).
- **Respondent bootstrap**: ``resamples`` samples of the study's sources (respondents, and documents without
  a respondent), drawn with replacement within each region value (seeded); the share of samples in which
  the claim gets its reported verdict.
- **Flip point**: the count (or, for a comparison, the group's count) at which the verdict would change,
  the population kept as it is.
- **Code swap**: the same claim (unit, population, quantifier, valence) about every other code of the
  codebook. When every code gets the same verdict, the corpus cannot tell codes apart at this quantifier:
  the claim could not have been refuted by these data (README, "Robustness").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .aggregate import StudyFrame
from .claim_units import Members, Sources, code_counts, measure, measure_many, member_labels

POLICY_LABELS = {"rules_only": "alleen regels", "classifier": "alleen classifier",
                 "intersection": "intersection", "union": "union", "reviewed": "alleen beoordeeld"}
VARIANTS = tuple(POLICY_LABELS)
STATUS_LABELS = {"robuust": "robuust", "afhankelijk": "hangt af van een keuze", "wankel": "wankel"}


@dataclass
class RobustnessSettings:
    """params.yaml ``conclusions.robustness``."""

    resamples: int = 200
    seed: int = 17
    stable_share: float = 0.9     # a verdict held in fewer samples than this is "wankel"

    @classmethod
    def from_params(cls, settings: dict[str, Any] | None, where: str = "params.yaml: conclusions.robustness"
                    ) -> RobustnessSettings:
        settings = settings or {}
        unknown = sorted(set(settings) - {"resamples", "seed", "stable_share"})
        problems = [f"{where}.{k}: unknown setting; use resamples, seed, stable_share." for k in unknown]
        out = cls(**{k: settings[k] for k in ("resamples", "seed", "stable_share") if k in settings})
        if not isinstance(out.resamples, int) or isinstance(out.resamples, bool) or out.resamples < 0:
            problems.append(f"{where}.resamples: a whole number ≥ 0 (0 = no bootstrap), not {out.resamples!r}.")
        if not isinstance(out.seed, int) or isinstance(out.seed, bool):
            problems.append(f"{where}.seed: a whole number, not {out.seed!r}.")
        if not isinstance(out.stable_share, (int, float)) or not 0 < out.stable_share <= 1:
            problems.append(f"{where}.stable_share: a fraction between 0 and 1 (e.g. 0.9), not {out.stable_share!r}.")
        if problems:
            from .conclusions import ConclusionsError

            raise ConclusionsError(problems)
        return out


# --------------------------------------------------------------------------- merge-policy variants

def variant_codings(policy: str, rule_rows: Sequence[dict[str, Any]], classifier_rows: Sequence[dict[str, Any]],
                    trained_codes: Sequence[str], valence_from: str, manual: dict[str, Any],
                    apply_reviews: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The codings of one variant: the machine's by ``policy`` (none for ``reviewed``), then the annotations
    (``manual``, :func:`kwalitatief.manual.manual_codings`) and the review decisions, as the classify stage does."""
    from .classifier.merge import merge_codings
    from .manual import apply_annotations

    machine = [] if policy == "reviewed" else merge_codings(rule_rows, classifier_rows, policy, trained_codes,
                                                            valence_from)
    return apply_reviews(apply_annotations(machine, manual))


# --------------------------------------------------------------------------- bootstrap

def bootstrap_weights(sources: Sources, resamples: int, seed: int) -> Iterator[np.ndarray]:
    """``resamples`` weight vectors over the sources: each region value's sources drawn with replacement,
    as many as it has (numpy's PCG64 seeded with ``seed``: the same seed gives the same samples)."""
    rng = np.random.default_rng(seed)
    strata: dict[str, list[int]] = {}
    for i, stratum in enumerate(sources.strata):
        strata.setdefault(stratum, []).append(i)
    groups = [np.array(ix) for _, ix in sorted(strata.items())]
    for _ in range(resamples):
        weights = np.zeros(len(sources.ids))
        for ix in groups:
            np.add.at(weights, rng.choice(ix, size=len(ix), replace=True), 1.0)
        yield weights


@dataclass
class ClaimSample:
    """What the bootstrap needs of one claim: its members (and the comparison group's), with their valences."""

    members: Members
    own: list[tuple[str, ...]]
    other: Members | None = None
    other_own: list[tuple[str, ...]] | None = None


class _Counted:
    """A population's total and matching count in one bootstrap sample (what :func:`judge` reads)."""

    __slots__ = ("total", "count")

    def __init__(self, total: float, count: float):
        self.total, self.count = float(total), float(count)


def bootstrap_share(samples: Sequence[ClaimSample], judges: Sequence[Callable[[Any, Any], str]],
                    reported: Sequence[str], sources: Sources, settings: RobustnessSettings,
                    valences: Sequence[Sequence[str]], modes: dict[str, str]) -> list[float | None]:
    """Per claim: the share of bootstrap samples in which it gets its reported verdict (None without samples).

    ``judges[i](measure, other_measure)`` gives claim i's verdict for a sample (a measure has ``total`` and
    ``count``). Every sample of a claim is counted at once (:func:`measure_many`), the same sums as
    :func:`measure` per sample."""
    if settings.resamples <= 0:
        return [None] * len(samples)
    weights = np.array(list(bootstrap_weights(sources, settings.resamples, settings.seed)))
    shares: list[float | None] = []
    for i, s in enumerate(samples):
        totals, counts = measure_many(s.members, valences[i], modes, weights, s.own)
        if s.other is not None:
            other_totals, other_counts = measure_many(s.other, valences[i], modes, weights, s.other_own)
        verdicts: dict[tuple[float, ...], bool] = {}   # samples with the same counts get the same verdict
        same = 0
        for k in range(len(weights)):
            key = (totals[k], counts[k]) + ((other_totals[k], other_counts[k]) if s.other is not None else ())
            if key not in verdicts:
                other = _Counted(key[2], key[3]) if s.other is not None else None
                verdicts[key] = judges[i](_Counted(key[0], key[1]), other) == reported[i]
            same += verdicts[key]
        shares.append(round(float(same) / settings.resamples, 4))
    return shares


def claim_sample(members: Members, other: Members | None, modes: dict[str, str]) -> ClaimSample:
    return ClaimSample(members, member_labels(members, modes["respondent"]), other,
                       member_labels(other, modes["respondent"]) if other is not None else None)


# --------------------------------------------------------------------------- flip point

def flip_point(holds: Callable[[int], bool], count: int, total: int) -> dict[str, Any] | None:
    """The nearest count (0..total, population kept) at which ``holds`` changes, and the distance to it."""
    now = holds(count)
    candidates = [k for k in range(total + 1) if holds(k) != now]
    if not candidates:
        return None
    nearest = min(candidates, key=lambda k: (abs(k - count), k))
    return {"count": nearest, "margin": abs(nearest - count), "direction": "down" if nearest < count else "up"}


def flip_text(flip: dict[str, Any] | None, verdict: str, count: int, total: int, noun: str) -> str:
    """The flip point in words, e.g. "klopt bij 12/15; faalt bij 7/15 of minder: marge 5 regio's"."""
    if verdict == "te weinig gegevens":
        return "geen oordeel, dus geen kantelpunt"
    if flip is None:
        return f"{count}/{total}: geen enkele telling binnen de populatie geeft een ander oordeel"
    k, margin = flip["count"], flip["margin"]
    bound = "of minder" if flip["direction"] == "down" else "of meer"
    if verdict == "ondersteund":
        return f"klopt bij {count}/{total}; faalt bij {k}/{total} {bound}: marge {margin} {noun}"
    return f"faalt bij {count}/{total}; zou kloppen bij {k}/{total} {bound}: {margin} {noun} tekort"


# --------------------------------------------------------------------------- code swap

def swap_codes(code: str, valence: Sequence[str], frame: StudyFrame) -> list[str]:
    """The codes the claim is also tried for: all others, those with a valence when the claim names one."""
    return [c for c in frame.codes if c != code and (not valence or frame.has_valence(c))]


def robustness_status(verdict: str, variants: Sequence[dict[str, Any]], share: float | None,
                      settings: RobustnessSettings) -> dict[str, Any]:
    """The claim's robustness in one label: "ondersteund (robuust)", "ondersteund, maar niet bij
    intersection", "ondersteund; wankel: 58 % van de steekproeven" (or both)."""
    differing = [v["variant"] for v in variants if v["verdict"] != verdict]
    shaky = share is not None and share < settings.stable_share
    parts = [f"{verdict}, maar niet bij " + ", ".join(POLICY_LABELS.get(v, v) for v in differing)
             if differing else verdict]
    if shaky:
        parts.append(f"wankel: {share:.0%} van de steekproeven".replace("%", " %"))
    label = "; ".join(parts) if differing or shaky else f"{verdict} (robuust)"
    status = "wankel" if shaky else ("afhankelijk" if differing else "robuust")
    return {"status": status, "label": label, "depends_on": differing, "flagged": bool(differing or shaky)}


def with_code(c: Any, code: str) -> Any:
    """The claim about another code (its id and text kept; the population's expresses_opinion follows)."""
    return replace(c, code=code)


# --------------------------------------------------------------------------- everything, per claim

def assess(conclusions: Sequence[Any], results: Sequence[dict[str, Any]], frame: StudyFrame,
           variants: dict[str, StudyFrame], quantifiers: Sequence[Any], min_population: int, study: Any,
           modes: dict[str, str], settings: RobustnessSettings, configured: str | None = None) -> None:
    """Add ``robustness``, ``flip`` and ``refutation`` to each claim's result (in place).

    ``variants`` maps a variant (:data:`VARIANTS`) to the study frame of its codings; ``configured`` is the
    merge policy the reported codings used."""
    from .conclusions import EPS, claim_members, evaluate_conclusion, judge, unit_labels

    sources = Sources.of(frame)
    samples, judges = [], []
    for c, r in zip(conclusions, results):
        rows = []
        for name, vframe in variants.items():
            v = evaluate_conclusion(c, vframe, {}, quantifiers, min_population, 0, study, modes, sources)
            rows.append({"variant": name, "label": POLICY_LABELS.get(name, name), "configured": name == configured,
                         "n_population": v["n_population"], "n_matching": v["n_matching"], "share": v["share"],
                         "verdict": v["verdict"], "matching_units": v["matching_units"]})
        members = claim_members(c, frame, study, sources)
        other = claim_members(c, frame, study, sources, population=c.compare_to) if c.compare_to else None
        samples.append(claim_sample(members, other, modes))
        in_corpus = r["codings_in_corpus"]
        judges.append(lambda m, o, _c=c, _n=in_corpus: judge(_c, m.total, m.count, _n, quantifiers,
                                                              min_population, o)[0])
        r["robustness"] = {"variants": rows}
        total, count = r["n_population"], r["n_matching"]
        if r["verdict"] == "te weinig gegevens":
            flip = None
        elif c.compare_to is not None:
            other_share = r["comparison"]["share"] or 0.0
            flip = flip_point(lambda k, _t=total, _s=other_share: k / _t > _s + EPS, count, total)
        else:
            q = next(q for q in quantifiers if q.name == c.quantifier)
            flip = flip_point(lambda k, _q=q, _t=total: _q.holds(k, _t), count, total)
        noun = unit_labels(study)[c.unit]
        r["flip"] = {**(flip or {}), "text": flip_text(flip, r["verdict"], count, total, noun)}
        r["refutation"] = swap_test(c, r, frame, quantifiers, min_population, study, modes, sources)
    shares = bootstrap_share(samples, judges, [r["verdict"] for r in results], sources, settings,
                             [c.valence for c in conclusions], modes)
    for r, share in zip(results, shares):
        r["robustness"]["bootstrap"] = {"resamples": settings.resamples, "seed": settings.seed,
                                        "stable_share": settings.stable_share, "share_same_verdict": share}
        r["robustness"].update(robustness_status(r["verdict"], r["robustness"]["variants"], share, settings))


def swap_test(c: Any, r: dict[str, Any], frame: StudyFrame, quantifiers: Sequence[Any], min_population: int,
              study: Any, modes: dict[str, str], sources: Sources) -> dict[str, Any]:
    """The claim tried for every other code (:func:`swap_codes`, codes assigned at least once): how many get
    another verdict, and whether the claim could have been refuted (at least one does)."""
    from .conclusions import claim_members, judge

    rows = []
    counted = code_counts(frame)
    once = np.ones((1, len(sources.ids)))   # the data as they are: every source once (measure_many: no loops)

    def counted_once(members: Members) -> _Counted:
        total, count = measure_many(members, c.valence, modes, once)
        return _Counted(total[0], count[0])

    for code in swap_codes(c.code, c.valence, frame):
        in_corpus = int(counted.get(code, 0))
        if not in_corpus:
            continue
        m = counted_once(claim_members(c, frame, study, sources, code=code))
        o = counted_once(claim_members(c, frame, study, sources, code=code, population=c.compare_to)) \
            if c.compare_to else None
        verdict = judge(with_code(c, code), m.total, m.count, in_corpus, quantifiers, min_population, o)[0]
        rows.append({"code": code, "n_population": int(m.total), "n_matching": int(m.count), "verdict": verdict})
    decided = r["verdict"] != "te weinig gegevens"
    other = [x for x in rows if decided and x["verdict"] not in (r["verdict"], "te weinig gegevens")]
    return {"codes_tried": len(rows), "codes_other_verdict": len(other),
            "refutable": bool(other) if decided else None, "codes": rows}
