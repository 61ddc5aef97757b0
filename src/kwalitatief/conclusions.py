"""The report's conclusions as checkable claims, recomputed from the codings and traced to their quotes.

A claim (``codebook/conclusions.yaml``, researcher input) names a code (and for a code with valence the valence),
the unit that is counted (``respondent``, ``region`` or ``document``), the population of units the claim is
about, and the Dutch quantifier the report uses ("vrijwel alle regio's", "de meeste respondenten", ...).
:func:`evaluate_conclusions` counts the units of the population that carry the code (with that valence),
finds the strongest quantifier the data support, gives a verdict and ranks the evidence fragments.

Verdicts:
- ``ondersteund``: the claimed quantifier holds for the measured count and share;
- ``niet ondersteund``: it does not (the strongest quantifier the data do support is reported next to it);
- ``te weinig gegevens``: the population has fewer units than ``conclusions.min_population`` in params.yaml,
  or the code was not assigned to a single fragment in the whole corpus (then the coding, not the claim,
  is what needs checking first).

A unit carries the code when any of its fragments does; its valence follows the valence modes (params
``conclusions.valence``, :mod:`kwalitatief.claim_units`). A comparison claim (``compare_to``) holds when the
population's share exceeds the other group's. How robust each verdict is: :mod:`kwalitatief.robustness`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from .aggregate import DEFAULT_VALENCE_MODES as DEFAULT_MODES
from .aggregate import VALENCE_MODES, VALENCES, StudyFrame
from .claim_units import (MEMBER_KEY, NO_CODINGS, Encoded, Measure, Members, Sources, build_members, code_counts,
                          encode, layout, measure)
from .study import Study, unknown

UNITS = ("respondent", "region", "document")
VERDICTS = ("ondersteund", "niet ondersteund", "te weinig gegevens")
CONCLUSION_FIELDS = ("id", "chapter", "section", "source", "text", "code", "valence", "unit", "population",
                     "quantifier", "doc_types", "note", "compare_to")
REQUIRED_FIELDS = ("id", "text", "code", "unit", "population")
POPULATION_KEYS = {
    "respondent": ("respondent_type", "region", "region_group", "has_code", "expresses_opinion"),
    "region": ("region", "has_code", "expresses_opinion"),
    "document": ("doc_type", "region", "region_group", "has_code", "expresses_opinion"),
}
QUANTIFIER_KEYS = ("min_share", "share_above", "max_share", "share", "tolerance", "min_count", "max_count",
                   "description")
UNIT_LABELS = {"respondent": "respondenten", "region": "regio's", "document": "documenten"}
REVIEWED = ("accepted", "added", "valence_changed", "annotated")   # a researcher's decision
EPS = 1e-9


class ConclusionsError(Exception):
    """``conclusions.yaml`` or the quantifier table cannot be used; ``problems`` names file, line, field, fix."""

    def __init__(self, problems: list[str]):
        super().__init__("the conclusions cannot be evaluated:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


@dataclass
class Quantifier:
    """A Dutch quantifier as a condition on the count and share of matching units."""

    name: str
    min_share: float | None = None
    share_above: float | None = None
    max_share: float | None = None
    min_count: int | None = None
    max_count: int | None = None
    description: str = ""

    def holds(self, count: int, total: int) -> bool:
        """Whether "<quantifier> of the <total> units" is true when ``count`` of them match."""
        share_needed = any(v is not None for v in (self.min_share, self.share_above, self.max_share))
        if share_needed and total <= 0:
            return False
        if self.min_share is not None and count < self.min_share * total - EPS:
            return False
        if self.share_above is not None and count <= self.share_above * total + EPS:
            return False
        if self.max_share is not None and count > self.max_share * total + EPS:
            return False
        if self.min_count is not None and count < self.min_count:
            return False
        if self.max_count is not None and count > self.max_count:
            return False
        return True

    def rule(self) -> str:
        """The condition in words (for the report)."""
        parts = []
        if self.min_share is not None and self.max_share is not None:
            parts.append(f"{self.min_share:.0%}–{self.max_share:.0%}")
        elif self.min_share is not None:
            parts.append(f"≥ {self.min_share:.0%}")
        elif self.max_share is not None:
            parts.append(f"≤ {self.max_share:.0%}")
        if self.share_above is not None:
            parts.append(f"> {self.share_above:.0%}")
        if self.min_count is not None and self.max_count is not None:
            parts.append(f"{self.min_count}" if self.min_count == self.max_count
                         else f"{self.min_count}–{self.max_count} eenheden")
        elif self.min_count is not None:
            parts.append(f"≥ {self.min_count} eenheden")
        elif self.max_count is not None:
            parts.append(f"≤ {self.max_count} eenheden")
        return ", ".join(parts)


def parse_quantifiers(table: Any, where: str = "params.yaml: conclusions.quantifiers") -> list[Quantifier]:
    """The quantifier table from params, strongest first (file order); raise ConclusionsError on problems."""
    problems: list[str] = []
    if not isinstance(table, dict) or not table:
        raise ConclusionsError([f"{where}: missing or not a mapping of quantifier -> condition; "
                                "copy the table from the README into params.yaml."])
    quantifiers = []
    for name, spec in table.items():
        if not isinstance(spec, dict):
            problems.append(f"{where}.{name}: expected a mapping such as {{min_share: 0.9}}.")
            continue
        unknown = sorted(set(spec) - set(QUANTIFIER_KEYS))
        if unknown:
            problems.append(f"{where}.{name}: unknown key(s) {', '.join(unknown)}; use {', '.join(QUANTIFIER_KEYS)}.")
            continue
        values = {k: v for k, v in spec.items() if k != "description"}
        if not values:
            problems.append(f"{where}.{name}: no condition; give min_share, share_above, max_share, "
                            "share + tolerance, min_count and/or max_count.")
            continue
        bad = [k for k, v in values.items() if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0]
        if bad:
            problems.append(f"{where}.{name}: {', '.join(bad)} must be a number ≥ 0 (shares as fractions: 0.9).")
            continue
        q = Quantifier(str(name), description=str(spec.get("description", "")))
        for key in ("min_share", "share_above", "max_share"):
            setattr(q, key, float(values[key]) if key in values else None)
        if "share" in values:
            tol = float(values.get("tolerance", 0.0))
            q.min_share, q.max_share = max(0.0, values["share"] - tol), min(1.0, values["share"] + tol)
        elif "tolerance" in values:
            problems.append(f"{where}.{name}: tolerance needs share (e.g. share: 0.5, tolerance: 0.1).")
        for key in ("min_count", "max_count"):
            if key in values:
                setattr(q, key, int(values[key]))
        if any(v is not None and v > 1 for v in (q.min_share, q.share_above, q.max_share)):
            problems.append(f"{where}.{name}: shares are fractions between 0 and 1 (90 % is 0.9).")
        quantifiers.append(q)
    if problems:
        raise ConclusionsError(problems)
    return quantifiers


def strongest(quantifiers: Sequence[Quantifier], count: int, total: int) -> str | None:
    """The first (strongest) quantifier of the table that holds, or None."""
    for q in quantifiers:
        if q.holds(count, total):
            return q.name
    return None


# --------------------------------------------------------------------------- conclusions.yaml

@dataclass
class Conclusion:
    id: str
    text: str
    code: str
    unit: str
    population: dict[str, Any]
    quantifier: str
    valence: list[str] = field(default_factory=list)
    doc_types: list[str] = field(default_factory=list)
    chapter: Any = None
    section: str = ""
    note: str = ""
    line: int = 0
    source: str = ""                           # where in the study report the claim comes from
    compare_to: dict[str, Any] | None = None   # a comparison claim: share in population > share in compare_to


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def load_conclusions(path: str | Path, codes: Sequence[str], quantifiers: Sequence[Quantifier],
                     regions: Sequence[str] | None = None, study: Study | None = None,
                     valenced: Sequence[str] | None = None) -> list[Conclusion]:
    """Read and validate ``conclusions.yaml``; every problem names file:line, conclusion id, field and fix.

    ``study`` (its declared respondent types, document types and region groups) and ``valenced`` (the codes
    that carry a valence) are checked when given."""
    from .codebook import LineDict, LineList, load_yaml_with_lines  # YAML with line numbers

    path = Path(path)
    if not path.exists():
        raise ConclusionsError([f"{path}: not found; write the report's conclusions there "
                                "(see the README section 'Findings and conclusies')."])
    try:
        data, duplicates = load_yaml_with_lines(path)
    except Exception as exc:  # yaml.YAMLError and friends
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ConclusionsError([f"{path}{line}: invalid YAML ({getattr(exc, 'problem', exc)}); fix the syntax."])
    problems = [f"{path}:{line}: key '{key}' appears twice; keep one." for key, line in duplicates]
    items = data.get("conclusions") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ConclusionsError(problems + [f"{path}: expected a top-level key 'conclusions:' with a list of claims."])
    known_codes, known_q = set(codes), {q.name for q in quantifiers}
    known_regions = set(regions) if regions is not None else None
    seen: dict[str, int] = {}
    out: list[Conclusion] = []

    for index, item in enumerate(items):
        item_line = items.item_lines[index] if isinstance(items, LineList) else 0
        if not isinstance(item, dict):
            problems.append(f"{path}:{item_line}: conclusion #{index + 1} is not a mapping (id:, text:, code:, ...).")
            continue
        cid = str(item.get("id") or f"#{index + 1}")

        def err(fld: str, message: str, _item: Any = item, _cid: str = cid) -> None:
            line = _item.key_lines.get(fld, _item.line) if isinstance(_item, LineDict) else item_line
            problems.append(f"{path}:{line}: conclusion '{_cid}', field '{fld}': {message}")

        before = len(problems)
        for fld in REQUIRED_FIELDS:
            if item.get(fld) in (None, "", []):
                err(fld, "missing; every conclusion needs " + ", ".join(REQUIRED_FIELDS) + ".")
        for fld in sorted(set(item) - set(CONCLUSION_FIELDS)):
            err(fld, f"unknown field; use {', '.join(CONCLUSION_FIELDS)}.")
        if cid in seen:
            err("id", f"duplicate id (also on line {seen[cid]}); give each conclusion its own id.")
        seen.setdefault(cid, item_line)
        code = item.get("code")
        if code and code not in known_codes:
            err("code", f"unknown code '{code}'; use a code id of codebook/codebook.yaml "
                        f"(e.g. {', '.join(sorted(known_codes)[:3])}).")
        valence = [str(v) for v in _as_list(item.get("valence"))]
        if valence and code and valenced is not None and code not in valenced:
            err("valence", f"code '{code}' has no valence (its category does not declare `valence: true`); "
                           "remove the valence or use a code with valence.")
        for v in valence:
            if v not in VALENCES:
                err("valence", f"unknown valence '{v}'; use {', '.join(VALENCES)} (or a list of them).")
        unit = item.get("unit")
        if unit and unit not in UNITS:
            err("unit", f"unknown unit '{unit}'; use {', '.join(UNITS)}.")
        quant = item.get("quantifier")
        compare_to = item.get("compare_to")
        if compare_to is None and not quant:
            err("quantifier", "missing; a claim needs a quantifier, or compare_to for a comparison claim.")
        if compare_to is not None and quant:
            err("quantifier", "a comparison claim (compare_to) has no quantifier; remove one of the two.")
        if compare_to is not None and (not isinstance(compare_to, dict) or not compare_to):
            err("compare_to", "use a mapping such as {respondent_type: [<a declared type>]}: the group whose "
                              "share the population's share must exceed.")
            compare_to = None
        elif compare_to is not None and unit in UNITS:
            for key in sorted(set(compare_to) - set(POPULATION_KEYS[unit])):
                err("compare_to", f"'{key}' does not apply to unit {unit}; use {', '.join(POPULATION_KEYS[unit])}.")
            for fld in ("respondent_type", "region_group", "doc_type"):
                for v in _as_list(compare_to.get(fld)):
                    if study is not None and v not in _declared(study)[fld]:
                        err("compare_to", unknown(fld, v, _declared(study)[fld], str(study.path)))
        if quant and quant not in known_q:
            err("quantifier", f"unknown quantifier '{quant}'; use one of params.yaml conclusions.quantifiers: "
                              f"{', '.join(q.name for q in quantifiers)}.")
        population = item.get("population")
        if population == "alle":
            population = {}
        if population is not None and not isinstance(population, dict):
            err("population", "use 'alle' or a mapping, e.g. {respondent_type: [<a declared type>]} or "
                              "{expresses_opinion: true}.")
            population = {}
        population = dict(population or {})
        if unit in UNITS:
            for key in sorted(set(population) - set(POPULATION_KEYS[unit])):
                err("population", f"'{key}' does not apply to unit {unit}; use {', '.join(POPULATION_KEYS[unit])}.")
        declared = _declared(study)
        for fld, values in (("respondent_type", _as_list(population.get("respondent_type"))),
                            ("region_group", _as_list(population.get("region_group"))),
                            ("doc_type", _as_list(population.get("doc_type")))):
            for v in values:
                if study is not None and v not in declared[fld]:
                    err("population", unknown(fld, v, declared[fld], str(study.path)))
        if known_regions is not None:
            for v in _as_list(population.get("region")):
                if v not in known_regions:
                    err("population", f"unknown region '{v}'; use a region of corpus/regions.csv.")
        if population.get("has_code") and population["has_code"] not in known_codes:
            err("population", f"unknown has_code '{population['has_code']}'; use a code id of the codebook.")
        if "expresses_opinion" in population and not isinstance(population["expresses_opinion"], bool):
            err("population", "expresses_opinion is true or false.")
        source = item.get("source")
        if source is not None and (not isinstance(source, str) or not source.strip() or len(source) > 300
                                   or "\n" in source.strip()):
            err("source", "give the report's chapter, section and page as one line of text, e.g. "
                          "\"hoofdstuk 4, Resultaten, p. 12\".")
        doc_types = [str(v) for v in _as_list(item.get("doc_types"))]
        for v in doc_types:
            if study is not None and v not in declared["doc_type"]:
                err("doc_types", unknown("doc_type", v, declared["doc_type"], str(study.path)))
        if len(problems) == before:
            out.append(Conclusion(
                id=cid, text=str(item["text"]).strip(), code=str(code), unit=str(unit), population=population,
                quantifier=str(quant or ""), valence=valence,
                compare_to=dict(compare_to) if compare_to is not None else None, doc_types=doc_types, chapter=item.get("chapter"),
                section=str(item.get("section") or ""), source=str(source or "").strip(), note=str(item.get("note") or "").strip(), line=item_line))
    if problems:
        raise ConclusionsError(problems)
    return out


def conclusions_problems(path: str | Path, params: dict[str, Any], codes: Sequence[str],
                         regions: Sequence[str] | None = None) -> list[str]:
    """Every problem ``kwal run``'s conclusions stage would stop on (the quantifier table of params and each
    claim of ``path``: unknown code, quantifier, population field ...), for ``kwal check``."""
    from .robustness import RobustnessSettings

    settings = params.get("conclusions") or {}
    problems: list[str] = []
    for check in (lambda: valence_modes(settings.get("valence")),
                  lambda: RobustnessSettings.from_params(settings.get("robustness"))):
        try:
            check()
        except ConclusionsError as exc:
            problems.extend(exc.problems)
    try:
        quantifiers = parse_quantifiers(settings.get("quantifiers"))
        load_conclusions(path, codes, quantifiers, regions)
    except ConclusionsError as exc:
        problems.extend(exc.problems)
    return problems


# --------------------------------------------------------------------------- evaluation

def _declared(study: Study | None) -> dict[str, Any]:
    """The declared values per population field (empty without a study)."""
    if study is None:
        return {"respondent_type": {}, "region_group": {}, "doc_type": {}}
    return {"respondent_type": study.respondent_types, "region_group": study.region_groups,
            "doc_type": study.document_types}


def unit_labels(study: Study | None) -> dict[str, str]:
    """The counted units in the study's words (regions by the study's own name for them)."""
    return {**UNIT_LABELS, "region": study.region_plural} if study else dict(UNIT_LABELS)


def population_label(c: Conclusion, n_regions: int, study: Study | None = None) -> str:
    """The population in Dutch words, e.g. "respondenten van type <label>, <label> die zich uitspreken over <code>"."""
    pop = c.population
    noun = unit_labels(study)[c.unit]
    if c.unit == "region" and not pop.get("region"):
        noun = f"de {n_regions} {noun}"
    parts = [noun]
    if pop.get("respondent_type"):
        parts.append("van type " + ", ".join(study.respondent_label(t) if study else str(t)
                                              for t in _as_list(pop["respondent_type"])))
    if pop.get("doc_type"):
        parts.append("van soort " + ", ".join(study.doc_type_label(t) if study else str(t)
                                               for t in _as_list(pop["doc_type"])))
    if pop.get("region_group"):
        names = study.region_groups if study else {}
        parts.append(" of ".join(names.get(g, g) for g in _as_list(pop["region_group"])))
    if pop.get("region"):
        parts.append("in " + ", ".join(_as_list(pop["region"])))
    if pop.get("expresses_opinion"):
        parts.append(f"die zich uitspreken over {c.code}")
    if pop.get("has_code"):
        parts.append(f"met code {pop['has_code']}")
    if c.doc_types:
        parts.append("— geteld in: " + ", ".join(study.doc_type_plural(t) if study else t for t in c.doc_types))
    if len(parts) == 1 and c.unit != "region":
        return "alle " + noun
    return " ".join(parts)


def _base_units(frame: StudyFrame, c: Conclusion, study: Study | None) -> list[str]:
    pop = c.population
    if c.unit == "region":
        wanted = set(_as_list(pop.get("region"))) or None
        return [r for r in frame.regions if wanted is None or r in wanted]
    table = frame.respondents if c.unit == "respondent" else frame.documents
    key = "respondent_id" if c.unit == "respondent" else "doc_id"
    mask = pd.Series(True, index=table.index)
    if pop.get("respondent_type"):
        mask &= table["respondent_type"].isin(_as_list(pop["respondent_type"]))
    if pop.get("doc_type"):
        mask &= table["doc_type"].isin(_as_list(pop["doc_type"]))
    if pop.get("region"):
        mask &= table["region"].isin(_as_list(pop["region"]))
    if pop.get("region_group"):
        groups = _as_list(pop["region_group"])
        in_group = pd.Series(False, index=table.index)
        if study is not None and study.population_group in groups:
            in_group |= table["region"].isin(frame.regions)
        for outside in (study.outside if study else ()):
            if outside in groups:
                in_group |= table["region"] == outside
        mask &= in_group
    return sorted(table.loc[mask, key].dropna().unique())


def _unit_column(unit: str) -> str:
    return {"respondent": "respondent_id", "region": "region", "document": "doc_id"}[unit]


def claim_members(c: Conclusion, frame: StudyFrame, study: Study | None, sources: Sources,
                  code: str | None = None, population: dict[str, Any] | None = None) -> Members:
    """The members of the claim's population (:mod:`kwalitatief.claim_units`) for ``code`` (default the
    claim's), with ``population`` instead of the claim's (a comparison group). The codings that count and the
    population's layout are computed once per frame (``frame.cache``)."""
    code = code or c.code
    c = replace(c, code=code, population=c.population if population is None else population)
    names, encoded = _encoded(frame, c)
    key = ("layout", c.unit, json.dumps(c.population, sort_keys=True, default=str))
    if key not in frame.cache:
        where = layout(c.unit, _base_units(frame, c, study), frame, sources)
        frame.cache[key] = where, pd.Index(where.ids).get_indexer(names)
    where, local = frame.cache[key]
    opinion_code = c.population.get("has_code") or (code if c.population.get("expresses_opinion") else None)
    return build_members(c.unit, where, encoded.get(code, NO_CODINGS),
                         encoded.get(opinion_code, NO_CODINGS) if opinion_code else None, local)


def _encoded(frame: StudyFrame, c: Conclusion) -> tuple[pd.Index, dict[str, Encoded]]:
    """The member names of the claim's unit and its counted codings per code as numbers (once per frame)."""
    key = ("encoded", tuple(c.doc_types), c.unit)
    if key not in frame.cache:
        column = MEMBER_KEY[c.unit]
        names = pd.Index(frame.coded[column].dropna().unique())
        frame.cache[key] = names, {code: encode(rows, column, names) for code, rows in _counted(frame, c).items()}
    return frame.cache[key]


def _counted(frame: StudyFrame, c: Conclusion) -> dict[str, pd.DataFrame]:
    """The codings a claim counts (its doc_types; for regions only the real regions), split by code."""
    key = ("coded", tuple(c.doc_types), c.unit == "region")
    if key not in frame.cache:
        coded = frame.coded
        if c.doc_types:
            coded = coded[coded["doc_type"].isin(c.doc_types)]
        if c.unit == "region":
            coded = coded[coded["real_region"]]
        frame.cache[key] = {code: rows for code, rows in coded.groupby("code", sort=False)}
    return frame.cache[key]


def judge(c: Conclusion, total: float, count: float, in_corpus: int, quantifiers: Sequence[Quantifier],
          min_population: int, other: Measure | None = None, study: Study | None = None) -> tuple[str, str]:
    """The verdict and its reason for ``count`` matching of ``total`` units (comparison: ``other``)."""
    by_name = {q.name: q for q in quantifiers}
    share = count / total if total else None
    units = unit_labels(study)[c.unit]
    if in_corpus == 0:
        return "te weinig gegevens", (
            f"code {c.code} is in het hele corpus aan geen enkel fragment toegekend; controleer eerst de "
            "regels en annotaties van deze code.")
    if total < min_population:
        return "te weinig gegevens", (
            f"de populatie telt {total:g} {units}, minder dan het minimum van {min_population} "
            "(params.yaml conclusions.min_population).")
    if c.compare_to is not None:
        assert other is not None
        if other.total < min_population:
            return "te weinig gegevens", (f"de vergelijkingsgroep telt {other.total:g} {units}, minder dan "
                                          f"het minimum van {min_population}.")
        other_share = other.count / other.total
        verdict = "ondersteund" if (share or 0.0) > other_share + EPS else "niet ondersteund"
        return verdict, (f"{count:g} van {total:g} ({share:.0%}) tegen {other.count:g} van {other.total:g} "
                         f"({other_share:.0%}) in de vergelijkingsgroep.")
    q = by_name[c.quantifier]
    if q.holds(count, total):
        return "ondersteund", f"'{c.quantifier}' ({q.rule()}) klopt met {count:g} van {total:g}."
    supported = strongest(quantifiers, count, total)
    return "niet ondersteund", (
        f"'{c.quantifier}' vraagt {q.rule()}; gemeten {count:g} van {total:g}"
        + (f" ({share:.0%})" if share is not None else "") + "; "
        + (f"de gegevens ondersteunen '{supported}'." if supported else "geen enkele kwantor past."))


def evaluate_conclusion(c: Conclusion, frame: StudyFrame, fragments: dict[str, dict[str, Any]],
                        quantifiers: Sequence[Quantifier], min_population: int = 5,
                        evidence_max: int = 5, study: Study | None = None,
                        modes: dict[str, str] | None = None, sources: Sources | None = None) -> dict[str, Any]:
    """Count, share, strongest supported quantifier, verdict and ranked evidence of one claim.

    ``modes`` are the valence modes (respondent, region); default the frame's (``frame.valence_modes``)."""
    modes = {**DEFAULT_MODES, **frame.valence_modes, **(modes or {})}
    sources = sources or Sources.of(frame)
    col = _unit_column(c.unit)
    members = claim_members(c, frame, study, sources)
    m = measure(members, c.valence, modes)
    total, count = int(m.total), int(m.count)
    share = round(count / total, 4) if total else None
    in_corpus = code_counts(frame).get(c.code, 0)
    supported = strongest(quantifiers, count, total)
    comparison: dict[str, Any] | None = None
    other = None
    if c.compare_to is not None:
        other = measure(claim_members(c, frame, study, sources, population=c.compare_to), c.valence, modes)
        compare = replace(c, population=c.compare_to, compare_to=None)
        comparison = {"population_label": population_label(compare, len(frame.regions), study),
                      "population": c.compare_to, "n_population": int(other.total), "n_matching": int(other.count),
                      "share": round(other.count / other.total, 4) if other.total else None}
    verdict, reason = judge(c, total, count, in_corpus, quantifiers, min_population, other, study)
    valences = {u: "+".join(labels) for u, labels in m.labels.items()}
    valence_split = m.split() if frame.has_valence(c.code) else {}
    evidence = []
    if evidence_max > 0:
        of_code = _counted(frame, c).get(c.code, frame.coded.iloc[0:0])
        evidence = rank_evidence(of_code[of_code[col].isin(set(m.labels))], m.matching, valences, c, fragments,
                                 col, evidence_max)
    return {
        "id": c.id, "chapter": c.chapter, "section": c.section, "source": c.source, "text": c.text,
        "note": c.note, "code": c.code, "valence": c.valence, "unit": c.unit, "population": c.population,
        "population_label": population_label(c, len(frame.regions), study), "doc_types": c.doc_types,
        "quantifier": c.quantifier or None,
        "quantifier_rule": _rule(quantifiers, c.quantifier) if c.quantifier else "aandeel groter dan in de vergelijkingsgroep",
        "comparison": comparison,
        "n_population": total, "n_matching": count, "share": share,
        "n_with_code": len(m.labels), "valence_modes": dict(modes) if frame.has_valence(c.code) else {},
        "valence_split": valence_split, "unit_valences": valences if frame.has_valence(c.code) else dict.fromkeys(valences),
        "member_split": m.member_split if frame.has_valence(c.code) else {},
        "codings_in_corpus": in_corpus,
        "supported_quantifier": supported, "verdict": verdict, "reason": reason,
        "matching_units": m.matching, "evidence": evidence,
    }


def _rule(quantifiers: Sequence[Quantifier], name: str) -> str:
    return next(q.rule() for q in quantifiers if q.name == name)


def _source_rank(sources: Any) -> int:
    return {"review": 0, "annotation": 0, "rule+classifier": 1}.get(sources, 2)


def rank_evidence(of_code: pd.DataFrame, matching: list[str], valences: dict[str, str], c: Conclusion,
                  fragments: dict[str, dict[str, Any]], col: str, limit: int) -> list[dict[str, Any]]:
    """The strongest fragments for a claim, ranked; at most one per unit until every unit had its turn.

    Order within a unit: human-reviewed (accepted, added, valence changed) first, then codings found by
    rule and classifier together, then classifier score (high first), then fragment id.
    """
    rows = of_code[of_code[col].isin(matching)]
    if c.valence:
        keep = rows["valence"].isin(c.valence)
        if "gemengd" in c.valence:  # a gemengd unit shows both poles: all its codings are evidence
            keep |= rows[col].map(valences).eq("gemengd")
        rows = rows[keep]
    candidates = []
    for row in rows.to_dict(orient="records"):
        score = row["score"] if isinstance(row["score"], (int, float)) and row["score"] == row["score"] else None
        key = (0 if row["status"] in REVIEWED else 1, _source_rank(row["sources"]), -(score or 0.0),
               row["fragment_id"])
        candidates.append((key, row, score))
    per_unit: dict[str, list] = {}
    for key, row, score in sorted(candidates, key=lambda t: t[0]):
        per_unit.setdefault(row[col], []).append((key, row, score))
    queues = sorted(per_unit.values(), key=lambda q: q[0][0])
    ordered: list = []
    depth = 0
    while len(ordered) < limit and any(len(q) > depth for q in queues):
        for queue in queues:
            if len(queue) > depth and len(ordered) < limit:
                ordered.append(queue[depth])
        depth += 1
    evidence = []
    for rank, (_, row, score) in enumerate(ordered, start=1):
        frag = fragments.get(row["fragment_id"], {})
        clean = {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}  # NaN -> None
        evidence.append({
            "rank": rank, "fragment_id": clean["fragment_id"], "doc_id": clean["doc_id"],
            "doc_type": clean["doc_type"], "respondent_type": clean["respondent_type"], "region": clean["region"],
            "valence": clean["valence"], "sources": clean["sources"], "status": clean["status"] or "unreviewed",
            "score": score, "text": frag.get("text", ""),
        })
    return evidence


def evaluate_conclusions(conclusions: Sequence[Conclusion], frame: StudyFrame,
                         fragments: dict[str, dict[str, Any]], quantifiers: Sequence[Quantifier],
                         min_population: int = 5, evidence_max: int = 5,
                         study: Study | None = None, modes: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Evaluate every claim (in file order)."""
    sources = Sources.of(frame)
    return [evaluate_conclusion(c, frame, fragments, quantifiers, min_population, evidence_max, study, modes, sources)
            for c in conclusions]


def valence_modes(settings: Any, where: str = "params.yaml: conclusions.valence") -> dict[str, str]:
    """The valence modes (respondent, region) of params, defaults filled in; raise ConclusionsError on problems."""
    settings = settings or {}
    if not isinstance(settings, dict):
        raise ConclusionsError([f"{where}: expected a mapping such as {{respondent: majority, region: majority}}."])
    problems = [f"{where}.{k}: unknown unit; use respondent, region." for k in sorted(set(settings) - set(DEFAULT_MODES))]
    for unit, mode in settings.items():
        if unit in DEFAULT_MODES and mode not in VALENCE_MODES:
            problems.append(f"{where}.{unit}: unknown mode '{mode}'; use {', '.join(VALENCE_MODES)}.")
    if problems:
        raise ConclusionsError(problems)
    return {**DEFAULT_MODES, **settings}


def conclusion_tables(results: Sequence[dict[str, Any]]) -> dict[str, pd.DataFrame]:
    """The database tables ``conclusions``, ``conclusion_evidence``, ``conclusion_robustness`` (claim ×
    variant, the bootstrap as one row), ``conclusion_units`` (claim × unit of its population that carries the
    code: valence and, for regions, its members' valences) and ``conclusion_refutation`` (claim × other code)."""
    main, evidence, robust, units, refutation = [], [], [], [], []
    for r in results:
        rob, flip, ref = r.get("robustness") or {}, r.get("flip") or {}, r.get("refutation") or {}
        boot = rob.get("bootstrap") or {}
        main.append({
            "conclusion_id": r["id"], "chapter": str(r["chapter"]) if r["chapter"] is not None else None,
            "source": r.get("source") or None,
            "text": r["text"], "code": r["code"], "valence": "|".join(r["valence"]) or None, "unit": r["unit"],
            "population": r["population_label"],
            "population_spec": json.dumps(r["population"], sort_keys=True, ensure_ascii=False),
            "quantifier": r["quantifier"], "quantifier_rule": r["quantifier_rule"],
            "n_population": r["n_population"], "n_matching": r["n_matching"], "share": r["share"],
            "n_with_code": r["n_with_code"],
            "valence_modes": json.dumps(r.get("valence_modes") or {}, sort_keys=True) if r.get("valence_modes") else None,
            "valence_split": _split_text(r.get("valence_split") or {}) or None,
            "compare_population": (r.get("comparison") or {}).get("population_label"),
            "compare_n_population": (r.get("comparison") or {}).get("n_population"),
            "compare_n_matching": (r.get("comparison") or {}).get("n_matching"),
            "compare_share": (r.get("comparison") or {}).get("share"),
            "supported_quantifier": r["supported_quantifier"],
            "verdict": r["verdict"], "reason": r["reason"], "matching_units": "; ".join(r["matching_units"]),
            "robustness": rob.get("status"), "robustness_label": rob.get("label"),
            "depends_on": ", ".join(rob.get("depends_on") or []) or None,
            "bootstrap_share_same": boot.get("share_same_verdict"),
            "flip_count": flip.get("count"), "flip_margin": flip.get("margin"), "flip_direction": flip.get("direction"),
            "flip_text": flip.get("text"),
            "swap_codes_tried": ref.get("codes_tried"), "swap_codes_other_verdict": ref.get("codes_other_verdict"),
            "refutable": None if ref.get("refutable") is None else int(ref["refutable"]),
        })
        for e in r["evidence"]:
            evidence.append({"conclusion_id": r["id"], **e})
        for v in rob.get("variants") or []:
            robust.append({"conclusion_id": r["id"], "variant": v["variant"], "label": v["label"],
                           "configured": int(v["configured"]), "n_population": v["n_population"],
                           "n_matching": v["n_matching"], "share": v["share"], "verdict": v["verdict"],
                           "same_verdict": int(v["verdict"] == r["verdict"]), "resamples": None, "seed": None,
                           "share_same_verdict": None, "matching_units": "; ".join(v["matching_units"])})
        if boot.get("resamples"):
            robust.append({"conclusion_id": r["id"], "variant": "bootstrap", "label": "steekproeven van respondenten",
                           "configured": 0, "n_population": None, "n_matching": None, "share": None,
                           "verdict": None, "same_verdict": None, "resamples": boot["resamples"], "seed": boot["seed"],
                           "share_same_verdict": boot["share_same_verdict"], "matching_units": None})
        for unit, label in sorted((r.get("unit_valences") or {}).items()):
            units.append({"conclusion_id": r["id"], "unit": unit, "valence": label,
                          "matches": int(unit in set(r["matching_units"])),
                          "members": _split_text((r.get("member_split") or {}).get(unit, {})) or None})
        for x in ref.get("codes") or []:
            refutation.append({"conclusion_id": r["id"], **x, "same_verdict": int(x["verdict"] == r["verdict"])})
    return {
        "conclusions": pd.DataFrame(main, dtype=object),   # object: whole numbers stay integers next to NULL
        "conclusion_evidence": pd.DataFrame(evidence, columns=[
            "conclusion_id", "rank", "fragment_id", "doc_id", "doc_type", "respondent_type", "region",
            "valence", "sources", "status", "score", "text"]),
        "conclusion_robustness": pd.DataFrame(robust, columns=[
            "conclusion_id", "variant", "label", "configured", "n_population", "n_matching", "share", "verdict",
            "same_verdict", "resamples", "seed", "share_same_verdict", "matching_units"], dtype=object),
        "conclusion_units": pd.DataFrame(units, columns=["conclusion_id", "unit", "valence", "matches", "members"],
                                         dtype=object),
        "conclusion_refutation": pd.DataFrame(refutation, columns=[
            "conclusion_id", "code", "n_population", "n_matching", "verdict", "same_verdict"], dtype=object),
    }


def _split_text(split: dict[str, int]) -> str:
    """A valence split in words: "3 positief, 1 negatief, 2 gemengd" (zeros left out)."""
    return ", ".join(f"{n} {v}" for v, n in split.items() if n)
