"""The units a claim counts and which of them match it: one implementation for the reported verdict, the
merge-policy variants, the respondent bootstrap and the code-swap test (:mod:`kwalitatief.robustness`).

A claim counts *units* (respondents, regions or documents). Its *members* are what carries codings and what
the bootstrap resamples: for a respondent or document claim the unit itself, for a region claim the region's
*sources* (its respondents, and its documents without a respondent). Every member belongs to one *source*
of the study (``respondent:<id>`` or ``document:<id>``); a bootstrap sample is a weight per source (how
often it was drawn), and every count below is a weighted sum (weight 1 for the data as they are).

Valence, for a code with valence (``valence_modes``, params ``conclusions.valence``):
- a member's valence comes from its codings of the code by the ``respondent`` mode;
- a region's valence from its members' valences by the ``region`` mode
  (:func:`kwalitatief.aggregate.valence_labels`: majority, any or all).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .aggregate import UNKNOWN_VALENCE, VALENCES, StudyFrame, valence_labels

LABELS = (*VALENCES, UNKNOWN_VALENCE)


@dataclass
class Sources:
    """Every source of the study (respondents of the register, documents without a respondent), with the
    stratum the bootstrap resamples within (the source's region value)."""

    ids: list[str]
    strata: list[str]

    @classmethod
    def of(cls, frame: StudyFrame) -> Sources:
        ids, strata = [], []
        for rid, region in zip(frame.respondents["respondent_id"], frame.respondents["region"]):
            ids.append(f"respondent:{rid}")
            strata.append(str(region))
        docs = frame.documents
        for doc_id, region, rid in zip(docs["doc_id"], docs["region"], docs["respondent_id"]):
            if not isinstance(rid, str) or not rid:
                ids.append(f"document:{doc_id}")
                strata.append(str(region))
        return cls(ids, strata)

    def index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.ids)}


@dataclass
class Members:
    """The members of one claim's population (see the module docstring), as parallel arrays."""

    unit: str
    units: list[str]            # region claims: the base regions; else the member ids
    ids: list[str]              # member ids
    unit_of: np.ndarray         # index into ``units``
    source: np.ndarray          # index into :class:`Sources`
    opinion: np.ndarray         # the member carries the population's has_code (True without such a filter)
    carries: np.ndarray         # the member carries the claim's code
    counts: np.ndarray          # members × len(VALENCES): codings per valence
    n_valued: np.ndarray        # codings of the code with a valence
    filtered_opinion: bool      # the population has a has_code / expresses_opinion filter


@dataclass
class Measure:
    """What a claim's population shows under one set of weights."""

    total: float
    count: float
    matching: list[str]
    labels: dict[str, tuple[str, ...]]          # unit -> its valence(s), for the units carrying the code
    member_split: dict[str, dict[str, int]]     # region claims: region -> members per valence

    def split(self) -> dict[str, int]:
        """Units carrying the code per valence (a unit with several valences, mode any, counts for each)."""
        return {v: sum(1 for labels in self.labels.values() if v in labels) for v in LABELS}


MEMBER_KEY = {"region": "source_unit", "respondent": "respondent_id", "document": "doc_id"}


@dataclass
class Layout:
    """Who the members of a population of ``base`` units are, before any code is looked at."""

    units: list[str]
    ids: list[str]
    unit_of: np.ndarray
    source: np.ndarray


def layout(unit: str, base: Sequence[str], frame: StudyFrame, sources: Sources) -> Layout:
    """The members of a population of ``base`` units (already filtered by type, region, group)."""
    index = sources.index()
    if unit == "region":
        wanted = set(base)
        resp = frame.respondents[frame.respondents["region"].isin(wanted)]
        docs = frame.documents[frame.documents["region"].isin(wanted) & frame.documents["respondent_id"].isna()]
        ids = [f"respondent:{r}" for r in resp["respondent_id"]] + [f"document:{d}" for d in docs["doc_id"]]
        position = {u: i for i, u in enumerate(base)}
        unit_of = np.array([position[r] for r in list(resp["region"]) + list(docs["region"])], dtype=int)
        return Layout(list(base), ids, unit_of, np.array([index[i] for i in ids], dtype=int))
    ids = list(base)
    if unit == "respondent":
        keys = [f"respondent:{r}" for r in ids]
    else:
        owner = dict(zip(frame.documents["doc_id"], frame.documents["respondent_id"]))
        keys = [f"respondent:{owner[d]}" if isinstance(owner.get(d), str) else f"document:{d}" for d in ids]
    return Layout(ids, ids, np.arange(len(ids)), np.array([index[k] for k in keys], dtype=int))


@dataclass(frozen=True)
class Encoded:
    """A code's counted codings as numbers: each row's member (an index into the frame's member names for
    the unit, -1 for none) and valence (an index into VALENCES, -1 for none)."""

    member: np.ndarray
    valence: np.ndarray


def encode(rows: pd.DataFrame, key: str, names: pd.Index) -> Encoded:
    """``rows`` (codings of one code) by their ``key`` column (:data:`MEMBER_KEY`) among ``names``."""
    return Encoded(names.get_indexer(rows[key]),
                   pd.Categorical(rows["valence"], categories=VALENCES).codes.astype(int))


NO_CODINGS = Encoded(np.zeros(0, dtype=int), np.zeros(0, dtype=int))


def build_members(unit: str, where: Layout, of_code: Encoded, opinion: Encoded | None,
                  local: np.ndarray) -> Members:
    """The members of ``where`` for a code: ``of_code`` its codings that count, ``opinion`` the codings of the
    population's has_code (None without such a filter); ``local`` maps a member name to its place in
    ``where`` (-1: not in this population)."""
    ids = where.ids

    def places(encoded: Encoded) -> np.ndarray:
        return np.where(encoded.member >= 0, local[encoded.member] if len(local) else -1, -1)

    at = places(of_code)
    carries = np.zeros(len(ids), dtype=bool)
    carries[at[at >= 0]] = True
    if opinion is None:
        has_opinion = np.ones(len(ids), dtype=bool)
    else:
        has_opinion = np.zeros(len(ids), dtype=bool)
        held = places(opinion)
        has_opinion[held[held >= 0]] = True
    counts = np.zeros((len(ids), len(VALENCES)))
    valued = (at >= 0) & (of_code.valence >= 0)
    np.add.at(counts, (at[valued], of_code.valence[valued]), 1)
    return Members(
        unit=unit, units=where.units, ids=ids, unit_of=where.unit_of, source=where.source, opinion=has_opinion,
        carries=carries, counts=counts, n_valued=counts.sum(axis=1), filtered_opinion=opinion is not None)


def member_labels(members: Members, mode: str) -> list[tuple[str, ...]]:
    """Each member's valence(s) from its codings (the respondent mode); worked out once per distinct
    combination of counts (most members share one: no coding of the code, or one)."""
    if not len(members.ids):
        return []
    rows, inverse = np.unique(np.column_stack([members.counts, members.n_valued]), axis=0, return_inverse=True)
    labels = [valence_labels(dict(zip(VALENCES, row[:-1])), row[-1], mode) for row in rows]
    return [labels[i] for i in np.ravel(inverse)]


def code_counts(frame: StudyFrame) -> dict[str, int]:
    """Codings per code in the frame (computed once per frame)."""
    if "code_counts" not in frame.cache:
        frame.cache["code_counts"] = {str(k): int(v) for k, v in frame.coded["code"].value_counts().items()}
    return frame.cache["code_counts"]


def measure(members: Members, valence: Sequence[str], modes: dict[str, str],
            weights: np.ndarray | None = None, own_labels: list[tuple[str, ...]] | None = None) -> Measure:
    """Count the population and its matching units under ``weights`` (per source; None = each once).

    ``own_labels`` (the members' valences, :func:`member_labels`) can be passed when measuring the same
    members many times (the bootstrap)."""
    w = np.ones(len(members.ids)) if weights is None else weights[members.source].astype(float)
    own = own_labels if own_labels is not None else member_labels(members, modes["respondent"])
    wanted = set(valence)
    if members.unit != "region":
        in_pop = members.opinion & (w > 0)   # the base units passed the population's other filters
        labels = {members.ids[i]: own[i] for i in np.flatnonzero(in_pop & members.carries)}
        match = [i for i in np.flatnonzero(in_pop & members.carries) if not wanted or wanted & set(own[i])]
        return Measure(float(w[in_pop].sum()), float(w[match].sum()) if match else 0.0,
                       sorted(members.ids[i] for i in match), labels, {})
    n_units = len(members.units)
    drawn = w > 0
    opinion = np.bincount(members.unit_of, weights=(drawn & members.opinion).astype(float), minlength=n_units) > 0
    in_pop = opinion if members.filtered_opinion else np.ones(n_units, dtype=bool)
    carrying = np.bincount(members.unit_of, weights=(drawn & members.carries).astype(float), minlength=n_units) > 0
    counts = np.zeros((n_units, len(LABELS)))
    valued = np.zeros(n_units)   # members with a valence (one a member, whatever the mode gave it)
    for i in np.flatnonzero(drawn & members.carries):
        for label in own[i]:
            counts[members.unit_of[i], LABELS.index(label)] += w[i]
        if own[i] != (UNKNOWN_VALENCE,):
            valued[members.unit_of[i]] += w[i]
    labels: dict[str, tuple[str, ...]] = {}
    split: dict[str, dict[str, int]] = {}
    matching = []
    for u in np.flatnonzero(in_pop & carrying):
        name = members.units[u]
        row = dict(zip(LABELS, counts[u]))
        labels[name] = valence_labels(row, valued[u], modes["region"])
        split[name] = {k: int(v) for k, v in row.items() if v}
        if not wanted or wanted & set(labels[name]):
            matching.append(name)
    return Measure(float(in_pop.sum()), float(len(matching)), sorted(matching), labels, split)


def measure_many(members: Members, valence: Sequence[str], modes: dict[str, str], weights: np.ndarray,
                 own_labels: list[tuple[str, ...]] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`measure`'s total and count under every row of ``weights`` (samples × sources) at once.

    The same sums as :func:`measure` row by row (weights are whole numbers: float sums are exact in any
    order); the bootstrap calls this once per claim instead of once per claim and sample."""
    own = own_labels if own_labels is not None else member_labels(members, modes["respondent"])
    w = weights[:, members.source].astype(float)                        # samples × members
    wanted = set(valence)
    valence_ok = np.array([not wanted or bool(wanted & set(labels)) for labels in own], dtype=bool)
    if members.unit != "region":
        total = w @ members.opinion.astype(float)
        count = w @ (members.opinion & members.carries & valence_ok).astype(float)
        return total, count
    n_units = len(members.units)
    incidence = np.zeros((len(members.ids), n_units))
    incidence[np.arange(len(members.ids)), members.unit_of] = 1.0
    drawn = (w > 0).astype(float)
    if members.filtered_opinion:
        in_pop = (drawn * members.opinion) @ incidence > 0
    else:
        in_pop = np.ones((len(w), n_units), dtype=bool)
    carrying = (drawn * members.carries) @ incidence > 0
    carried = w * members.carries
    counts = {v: (carried * np.array([v in labels for labels in own])) @ incidence for v in VALENCES}
    valued = (carried * np.array([labels != (UNKNOWN_VALENCE,) for labels in own])) @ incidence
    labels = _unit_labels(counts, valued, modes["region"])
    match = in_pop & carrying
    if wanted:
        match &= np.logical_or.reduce([labels[v] for v in wanted if v in labels] or [np.zeros_like(match)])
    return in_pop.sum(axis=1).astype(float), match.sum(axis=1).astype(float)


def _unit_labels(counts: dict[str, np.ndarray], n: np.ndarray, mode: str) -> dict[str, np.ndarray]:
    """:func:`kwalitatief.aggregate.valence_labels` on arrays: per label, where a unit carries it."""
    known = n > 0
    present = {v: counts[v] > 0 for v in VALENCES}
    if mode == "any":
        out = {v: known & present[v] for v in VALENCES}
        out[UNKNOWN_VALENCE] = ~known
        return out
    if mode == "all":
        single = np.sum([present[v] for v in VALENCES], axis=0) == 1
        out = {v: known & single & present[v] & (counts[v] >= n) for v in VALENCES}
    elif mode == "majority":
        out = {v: known & (counts[v] > n / 2) for v in VALENCES}
    else:
        raise ValueError(f"unknown valence mode '{mode}'")
    none = ~np.logical_or.reduce([out[v] for v in VALENCES])
    out["gemengd"] = out["gemengd"] | (known & none)
    out[UNKNOWN_VALENCE] = ~known
    return out
