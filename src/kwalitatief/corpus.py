"""The corpus register: regions, respondents and the document manifest, validated before any work."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .csvfiles import read_rows
from .identifiers import id_problem, name_problem
from .study import STUDY_FILE, TRANSCRIPT_KIND, Study, parse_study, unknown

SUPPORTED_SUFFIXES = (".pdf", ".docx", ".txt", ".srt", ".vtt")

MANIFEST_COLUMNS = ("doc_id", "path", "doc_type", "region", "respondent_id", "date", "title")
RESPONDENT_COLUMNS = ("respondent_id", "respondent_type", "organisation", "region")
REGION_COLUMNS = ("region",)


class RegisterError(Exception):
    """The corpus register has problems; ``problems`` lists every one, each naming file and line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"the corpus register has {len(problems)} problem(s); nothing was processed:\n{listing}"
        )


@dataclass(frozen=True)
class Document:
    """One row of ``manifest.csv``."""

    doc_id: str
    path: str
    doc_type: str
    region: str
    respondent_id: str
    date: str
    title: str

    def source(self, corpus_dir: Path) -> Path:
        return corpus_dir / self.path


@dataclass
class Register:
    """The validated register of a corpus."""

    corpus_dir: Path
    regions: list[dict[str, str]]
    respondents: list[dict[str, str]]
    documents: list[Document] = field(default_factory=list)
    study: Study | None = None

    @property
    def respondent_by_id(self) -> dict[str, dict[str, str]]:
        return {r["respondent_id"]: r for r in self.respondents}

    @property
    def region_names(self) -> list[str]:
        """Every value of the ``region`` column: the rows of regions.csv, then the declared outside values."""
        names = [r["region"] for r in self.regions]
        outside = list(self.study.outside) if self.study else []
        return names + [o for o in outside if o not in names]

    @property
    def population(self) -> list[str]:
        """The regions that form the population for region shares (regions.csv minus declared outside)."""
        names = [r["region"] for r in self.regions]
        return self.study.population(names) if self.study else names


def _read_csv(path: Path, required: tuple[str, ...], problems: list[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a register CSV with their line numbers; file, encoding, column and field-count problems
    (see :mod:`csvfiles`) become problems."""
    return read_rows(path, required, problems)


def identifier_problems(where: str, values: dict[str, str]) -> list[str]:
    """Problems of the ids (``doc_id``, ``respondent_id``) and names (``region``) of one row; they become
    file names and database keys, so only the safe characters of :mod:`identifiers` are accepted."""
    problems = []
    for column, value in values.items():
        problem = name_problem(value) if column == "region" else id_problem(value)
        if value and problem:
            problems.append(f"{where}: {column} {problem}.")
    return problems


def study_for(corpus_dir: Path, study: Study | str | Path | None, problems: list[str]) -> Study | None:
    """The study's declarations: given, or read from ``study.yaml`` beside the corpus folder."""
    if isinstance(study, Study):
        return study
    path = Path(study) if study else corpus_dir.parent / STUDY_FILE
    declared, study_problems = parse_study(path)
    problems.extend(study_problems)
    return declared


def check_declared(study: Study | None, where: str, field_name: str, value: str, problems: list[str]) -> None:
    """A respondent_type or doc_type must be declared in study.yaml; the message lists the declared ones."""
    if study is None:
        return
    declared = study.respondent_types if field_name == "respondent_type" else study.document_types
    if value not in declared:
        problems.append(f"{where}: {unknown(field_name, value, declared, str(study.path))}")


def known_region_values(study: Study | None, region_names: set[str]) -> set[str]:
    """Values the ``region`` column may take: rows of regions.csv and the study's declared outside values."""
    return region_names | set(study.outside if study else ())


def register_gaps(register: Register, manifest: str | Path | None = None,
                  regions: str | Path | None = None) -> list[str]:
    """What a study still lacks before it can run (a new study from ``kwal init``): regions, documents."""
    gaps = []
    if not register.regions:
        gaps.append(f"{regions or register.corpus_dir / 'regions.csv'}: no groups yet; add one row per "
                    f"{register.study.region_label if register.study else 'region'} (column region).")
    if not register.documents:
        gaps.append(f"{manifest or register.corpus_dir / 'manifest.csv'}: no documents registered yet; add one "
                    "row per document (doc_id, path, doc_type, region, respondent_id, date, title).")
    return gaps


def load_register(corpus_dir: str | Path, manifest: str | Path | None = None,
                  respondents: str | Path | None = None, regions: str | Path | None = None,
                  study: Study | str | Path | None = None) -> Register:
    """Read and validate regions, respondents and manifest against the study's declarations (``study``, by
    default ``study.yaml`` beside the corpus folder); raise :class:`RegisterError` listing all problems."""
    corpus_dir = Path(corpus_dir)
    manifest_path = Path(manifest) if manifest else corpus_dir / "manifest.csv"
    respondents_path = Path(respondents) if respondents else corpus_dir / "respondents.csv"
    regions_path = Path(regions) if regions else corpus_dir / "regions.csv"
    problems: list[str] = []
    declared = study_for(corpus_dir, study, problems)

    region_rows = _read_csv(regions_path, REGION_COLUMNS, problems)
    region_names: set[str] = set()
    for line, row in region_rows:
        name = row["region"]
        if name in region_names:
            problems.append(f"{regions_path} line {line}: region '{name}' appears twice; keep one row.")
        problems.extend(identifier_problems(f"{regions_path} line {line}", {"region": name}))
        region_names.add(name)
    known_regions = known_region_values(declared, region_names)

    respondent_rows = _read_csv(respondents_path, RESPONDENT_COLUMNS, problems)
    respondent_ids: dict[str, dict[str, str]] = {}
    for line, row in respondent_rows:
        rid = row["respondent_id"]
        where = f"{respondents_path} line {line}"
        if not rid:
            problems.append(f"{where}: empty respondent_id.")
            continue
        if rid in respondent_ids:
            problems.append(f"{where}: duplicate respondent_id '{rid}'.")
        problems.extend(identifier_problems(where, {"respondent_id": rid}))
        check_declared(declared, where, "respondent_type", row["respondent_type"], problems)
        if row["region"] not in known_regions:
            problems.append(f"{where}: unknown region '{row['region']}'; add it to {regions_path.name} or fix the spelling.")
        respondent_ids[rid] = row

    documents: list[Document] = []
    seen_ids: dict[str, int] = {}
    folded_ids: dict[str, tuple[str, int]] = {}
    root = corpus_dir.resolve()
    for line, row in _read_csv(manifest_path, MANIFEST_COLUMNS, problems):
        where = f"{manifest_path} line {line}"
        doc_id, rel = row["doc_id"], row["path"]
        if not doc_id:
            problems.append(f"{where}: empty doc_id.")
        elif doc_id in seen_ids:
            problems.append(f"{where}: duplicate doc_id '{doc_id}' (first on line {seen_ids[doc_id]}).")
        else:
            seen_ids[doc_id] = line
            problems.extend(identifier_problems(where, {"doc_id": doc_id}))
            first = folded_ids.setdefault(doc_id.casefold(), (doc_id, line))
            if first[0] != doc_id:
                problems.append(f"{where}: doc_id '{doc_id}' differs from '{first[0]}' (line {first[1]}) only "
                                "in case; on Windows and macOS both would be the same file. Rename one.")
        target = (corpus_dir / rel).resolve()
        if not rel:
            problems.append(f"{where}: empty path.")
        elif Path(rel).is_absolute() or not target.is_relative_to(root):
            problems.append(f"{where}: path '{rel}' lies outside {corpus_dir}/; put the file inside the corpus folder.")
        elif not target.is_file():
            problems.append(f"{where}: file '{rel}' not found in {corpus_dir}/.")
        elif target.suffix.lower() not in SUPPORTED_SUFFIXES:
            problems.append(f"{where}: '{rel}' has an unsupported type; use PDF, DOCX, TXT, SRT or VTT.")
        check_declared(declared, where, "doc_type", row["doc_type"], problems)
        if row["region"] not in known_regions:
            problems.append(f"{where}: unknown region '{row['region']}'; add it to {regions_path.name} or fix the spelling.")
        rid = row.get("respondent_id", "")
        if rid and rid not in respondent_ids:
            problems.append(f"{where}: unknown respondent '{rid}'; add it to {respondents_path.name}.")
        if declared and declared.kind(row["doc_type"]) == TRANSCRIPT_KIND and not rid:
            problems.append(f"{where}: doc_type '{row['doc_type']}' is an interview (transcript: true in "
                            f"{declared.path}); it needs a respondent_id.")
        documents.append(Document(**{k: row.get(k, "") for k in MANIFEST_COLUMNS}))

    if problems:
        raise RegisterError(problems)
    return Register(
        corpus_dir=corpus_dir,
        regions=[row for _, row in region_rows],
        respondents=[row for _, row in respondent_rows],
        documents=documents,
        study=declared,
    )
