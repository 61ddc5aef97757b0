"""The study's own declarations: ``study.yaml`` at the study's root (researcher input).

It declares what the code must not assume: the study's title and description, what its grouping unit is
called (regio, wijk, buurt ...) and which values of the register's ``region`` column are outside the
population, the respondent types and document types with their Dutch labels, and the terms the
pseudonymiser must never replace. Code categories (label, valence) are declared in the codebook.

:func:`parse_study` returns ``(Study or None, problems)``, each problem naming file and line;
:func:`load_study` raises :class:`StudyError`. ``kwal init`` writes a commented template.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .codebook import LineDict, load_yaml_with_lines

STUDY_FILE = "study.yaml"
TOP_KEYS = ("title", "description", "regions", "respondent_types", "document_types", "protected_terms")
REGION_KEYS = ("label", "plural", "population_group", "population_label", "outside")
DOC_TYPE_KEYS = ("label", "plural", "transcript")
TYPE_KEYS = ("label", "plural")
TRANSCRIPT_KIND, DOCUMENT_KIND = "transcript", "document"   # how a document type's files are read


class StudyError(Exception):
    """``study.yaml`` cannot be used; ``problems`` lists every one with file and line."""

    def __init__(self, problems: list[str]):
        super().__init__("the study declarations have problems:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Label:
    """A declared value's Dutch label (singular and plural)."""

    label: str
    plural: str


@dataclass(frozen=True)
class DocumentType:
    label: str
    plural: str
    transcript: bool = False      # parsed into speaker turns; needs a respondent


@dataclass
class Study:
    """The declarations of one study (see the module docstring)."""

    path: Path
    title: str
    description: str = ""
    region_label: str = "regio"
    region_plural: str = "regio's"
    population_group: str = "populatie"
    population_label: str = "in de populatie"
    outside: dict[str, str] = field(default_factory=dict)        # region value -> label (not in population)
    respondent_types: dict[str, Label] = field(default_factory=dict)
    document_types: dict[str, DocumentType] = field(default_factory=dict)
    protected_terms: tuple[str, ...] = ()

    @property
    def region_groups(self) -> dict[str, str]:
        """The ``region_group`` values of conclusions.yaml with their labels: population first."""
        return {self.population_group: self.population_label, **self.outside}

    def respondent_label(self, rtype: str) -> str:
        declared = self.respondent_types.get(rtype)
        return declared.label if declared else rtype

    def doc_type_label(self, dtype: str) -> str:
        declared = self.document_types.get(dtype)
        return declared.label if declared else dtype

    def doc_type_plural(self, dtype: str) -> str:
        declared = self.document_types.get(dtype)
        return declared.plural if declared else dtype

    def kind(self, dtype: str) -> str:
        """``transcript`` (speaker turns) or ``document``: how the files of a document type are read."""
        declared = self.document_types.get(dtype)
        return TRANSCRIPT_KIND if declared and declared.transcript else DOCUMENT_KIND

    @property
    def transcript_types(self) -> tuple[str, ...]:
        return tuple(t for t, d in self.document_types.items() if d.transcript)

    def population(self, regions: list[str]) -> list[str]:
        """The registered regions that form the population (those not declared ``outside``)."""
        return [r for r in regions if r not in self.outside]


def unknown(what: str, value: Any, declared: Any, where: str = STUDY_FILE) -> str:
    """The message for a value that is not declared, with the list of declared ones."""
    names = ", ".join(str(d) for d in declared) or "(none declared yet)"
    return f"unknown {what} '{value}'; declared in {where}: {names}."


def _where(path: Path, node: Any, key: str | None = None) -> str:
    if isinstance(node, LineDict):
        return f"{path}:{node.key_lines.get(key, node.line) if key else node.line}"
    return str(path)


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _labels(path: Path, data: Any, key: str, problems: list[str], allowed: tuple[str, ...]) -> dict[str, dict]:
    """A mapping id -> {label, plural, ...}; a plain string value is the label."""
    node = data.get(key)
    if node is None:
        problems.append(f"{path}: '{key}' is missing; declare each value with its Dutch label "
                        f"(e.g. `{key}: {{id: label}}`, see the template of `kwal init`).")
        return {}
    if not isinstance(node, dict) or not node:
        problems.append(f"{_where(path, data, key)}: no {key} declared yet; map each id to its Dutch label, "
                        f"e.g. `{key}: {{{'wijkteam: wijkteam' if key == 'respondent_types' else 'beleidsplan: beleidsplan'}}}`.")
        return {}
    out: dict[str, dict] = {}
    for ident, spec in node.items():
        where = _where(path, node, ident)
        if not isinstance(ident, str) or not ident.strip() or ident != ident.strip() or " " in ident:
            problems.append(f"{where}: {key} id {ident!r} must be one word without spaces (e.g. zorgaanbieder).")
            continue
        if _text(spec):
            spec = {"label": spec}
        if not isinstance(spec, dict) or not _text(spec.get("label")):
            problems.append(f"{where}: {key} '{ident}' needs a Dutch label (a text, or a mapping with 'label').")
            continue
        for extra in sorted(set(spec) - set(allowed)):
            problems.append(f"{_where(path, spec, extra)}: {key} '{ident}': unknown field '{extra}'; "
                            f"use {', '.join(allowed)}.")
        if not isinstance(spec, LineDict):    # a plain label: the lines are the entry's own
            spec = _located(spec, node.key_lines.get(ident, node.line))
        out[ident] = spec
    return out


def _located(values: dict, line: int) -> LineDict:
    """A mapping that reports ``line`` for itself and each of its keys."""
    located = LineDict(values)
    located.line, located.key_lines = line, {k: line for k in values}
    return located


def parse_study(path: str | Path = STUDY_FILE) -> tuple[Study | None, list[str]]:
    """Read and validate ``study.yaml``; returns (study or None, problems with file:line)."""
    path = Path(path)
    if not path.is_file():
        return None, [f"{path}: not found. Every study declares itself in {STUDY_FILE} (title, regions, "
                      "respondent and document types); `kwal init` writes a template."]
    try:
        data, duplicates = load_yaml_with_lines(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        return None, [f"{path}{line}: YAML syntax error: {getattr(exc, 'problem', None) or exc}; check the "
                      "indentation and quoting (a ':' or '#' inside text needs quotes)."]
    problems = [f"{path}:{line}: duplicate key '{key}'; keep one." for key, line in duplicates]
    if not isinstance(data, dict):
        return None, problems + [f"{path}:1: expected a mapping with {', '.join(TOP_KEYS)}."]
    for extra in sorted(set(data) - set(TOP_KEYS)):
        problems.append(f"{_where(path, data, extra)}: unknown key '{extra}'; use {', '.join(TOP_KEYS)}.")
    if not _text(data.get("title")):
        problems.append(f"{_where(path, data, 'title')}: 'title' is missing or empty; give the study's title "
                        "(shown in the report and exports).")
    if "description" in data and not isinstance(data.get("description"), str):
        problems.append(f"{_where(path, data, 'description')}: 'description' must be a text.")

    regions = data.get("regions") or {}
    if not isinstance(regions, dict):
        problems.append(f"{_where(path, data, 'regions')}: 'regions' must be a mapping ({', '.join(REGION_KEYS)}).")
        regions = {}
    for extra in sorted(set(regions) - set(REGION_KEYS)):
        problems.append(f"{_where(path, regions, extra)}: regions: unknown field '{extra}'; use "
                        f"{', '.join(REGION_KEYS)}.")
    for key in ("label", "plural", "population_group", "population_label"):
        if key in regions and not _text(regions[key]):
            problems.append(f"{_where(path, regions, key)}: regions.{key} must be a non-empty text.")
    outside = regions.get("outside") or {}
    if not isinstance(outside, dict) or not all(_text(k) and _text(v) for k, v in outside.items()):
        problems.append(f"{_where(path, regions, 'outside')}: regions.outside maps each region value that is not "
                        "part of the population to its label, e.g. `buiten: buiten het werkgebied`.")
        outside = {}
    group = str(regions.get("population_group") or "populatie")
    if group in outside:
        problems.append(f"{_where(path, regions, 'population_group')}: population_group '{group}' is also an "
                        "outside value; give the population its own name.")

    rtypes = _labels(path, data, "respondent_types", problems, TYPE_KEYS)
    dtypes = _labels(path, data, "document_types", problems, DOC_TYPE_KEYS)
    for ident, spec in dtypes.items():
        if not isinstance(spec.get("transcript", False), bool):
            problems.append(f"{_where(path, spec, 'transcript')}: document_types '{ident}': transcript is true "
                            "(speaker turns, needs a respondent) or false.")
    terms = data.get("protected_terms") or []
    if not isinstance(terms, list) or not all(_text(t) for t in terms):
        problems.append(f"{_where(path, data, 'protected_terms')}: protected_terms must be a list of terms "
                        "the pseudonymiser never replaces (organisations, programmes of the study).")
        terms = []
    if problems:
        return None, problems
    region_label = str(regions.get("label", "regio"))
    study = Study(
        path=path, title=str(data["title"]).strip(), description=str(data.get("description") or "").strip(),
        region_label=region_label, region_plural=str(regions.get("plural", region_label + "s")),
        population_group=group,
        population_label=str(regions.get("population_label", f"in een {region_label}")),
        outside={str(k): str(v) for k, v in outside.items()},
        respondent_types={k: Label(str(v["label"]), str(v.get("plural", v["label"]))) for k, v in rtypes.items()},
        document_types={k: DocumentType(str(v["label"]), str(v.get("plural", v["label"])), bool(v.get("transcript")))
                        for k, v in dtypes.items()},
        protected_terms=tuple(str(t) for t in terms),
    )
    return study, []


def load_study(path: str | Path = STUDY_FILE) -> Study:
    """The study's declarations; raise :class:`StudyError` listing every problem."""
    study, problems = parse_study(path)
    if study is None:
        raise StudyError(problems)
    return study
