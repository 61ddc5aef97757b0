"""Findings per region, respondent type and document type: who and where carries each code.

Qualitative reports count people and regions, not sentences. Every count here is a number of DISTINCT
units: a respondent who says the same thing in five fragments counts once for that code.

Definitions (also in the README of the aggregates folder, ``outputs/aggregates/README.txt``):

- A *source* of a coding is its respondent when the fragment belongs to a respondent (interviews), else
  its document (policy documents have no respondent).
- The *region* of a coding is the respondent's region when there is a respondent, else the document's
  region. The rows of the region register form the population (*real* regions); values the study declares
  ``outside`` (study.yaml) are not in it. Shares of regions always use the real regions as denominator.
- Denominators of respondent shares are the respondents of the group in the register
  (``corpus/respondents.csv``), whether or not all of them were coded; of document shares the documents of
  the group in the manifest.
- Valence of a unit for a code with valence (its category declares it), by the valence modes (params
  ``conclusions.valence``, default majority): a respondent's from its codings of the code, a region's from
  its sources' valences. ``majority``: the valence of more than half of them, else ``gemengd``; ``all``:
  ``positief``/``negatief`` when all agree, otherwise ``gemengd`` (both poles, or a gemengd member); ``any``:
  every valence one of them has (``positief+negatief``, counted under both). Codings without a valence
  are ignored; a unit with only such codings is ``onbekend``.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import pandas as pd

from .jsonio import atomic_write_text

VALENCES = ("positief", "negatief", "gemengd")
DEFAULT_VALENCE_MODES = {"respondent": "majority", "region": "majority"}   # params conclusions.valence
UNKNOWN_VALENCE = "onbekend"
SHARE_DIGITS = 4

CODED_COLUMNS = ["fragment_id", "code", "category", "valence", "sources", "status", "score", "doc_id",
                 "doc_type", "region", "real_region", "respondent_id", "respondent_type", "source_unit"]


@dataclass
class StudyFrame:
    """The codings joined with their fragment, document and respondent, plus the register's denominators."""

    coded: pd.DataFrame
    documents: pd.DataFrame
    respondents: pd.DataFrame
    regions: list[str]                      # the real regions, register order
    all_regions: list[str]                  # every region of the register, special ones included
    codes: list[str]
    problems: list[dict[str, Any]] = field(default_factory=list)
    valenced: frozenset[str] = frozenset()  # codes whose category carries a valence
    valence_modes: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_VALENCE_MODES))
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)   # derived views (conclusions)

    def has_valence(self, code: str) -> bool:
        return code in self.valenced


def category(code: str) -> str:
    """The code's category: the part of its id before the first dot (the codebook enforces it)."""
    return code.split(".", 1)[0]


def unit_valence(valences: Iterable[Any], mode: str = "all") -> str:
    """The valence of one unit from the valences of its members (codings, or respondents' labels).

    ``mode`` (:data:`VALENCE_MODES`): ``all`` (the rule in the module docstring), ``majority`` (the valence
    of more than half of the members with a valence, else gemengd) or ``any`` (every valence at least one
    member has, joined with "+", e.g. ``positief+negatief``)."""
    members = [v for v in valences if isinstance(v, str) and v and v != UNKNOWN_VALENCE]
    counts = {v: sum(1 for m in members if v in m.split("+")) for v in VALENCES}
    return "+".join(valence_labels(counts, len(members), mode))


VALENCE_MODES = ("majority", "any", "all")


def valence_labels(counts: dict[str, float], n: float, mode: str) -> tuple[str, ...]:
    """The valences of a unit whose ``n`` members (with a valence) carry each valence ``counts[v]`` times.

    ``all``: the one valence every member has, else gemengd; ``majority``: the valence(s) more than half of
    the members have, else gemengd; ``any``: each valence a member has. No member: onbekend."""
    if mode not in VALENCE_MODES:
        raise ValueError(f"unknown valence mode '{mode}'; use {', '.join(VALENCE_MODES)}.")
    if n <= 0:
        return (UNKNOWN_VALENCE,)
    present = [v for v in VALENCES if counts.get(v, 0) > 0]
    if mode == "any":
        return tuple(present)
    if mode == "all":
        return (present[0],) if len(present) == 1 and counts[present[0]] >= n else ("gemengd",)
    return tuple(v for v in VALENCES if counts.get(v, 0) > n / 2) or ("gemengd",)


def build_frame(codings: Iterable[dict[str, Any]], fragments: Iterable[dict[str, Any]],
                documents: Sequence[dict[str, Any]], respondents: Sequence[dict[str, Any]],
                regions: Sequence[str], codes: Sequence[str] | None = None,
                valenced: Iterable[str] = (), outside: Iterable[str] = (),
                valence_modes: dict[str, str] | None = None) -> StudyFrame:
    """Join codings to fragments, documents and respondents; codings that cannot be placed become problems.

    ``documents`` are manifest rows (doc_id, doc_type, region, respondent_id), ``respondents`` register
    rows (respondent_id, respondent_type, region), ``regions`` every region value (population first).
    ``codes`` (e.g. all codes of the codebook) makes sure codes without any coding still get (zero) rows;
    ``valenced`` are the codes that carry a valence, ``outside`` the region values outside the population.
    """
    valenced, outside = frozenset(valenced), frozenset(outside)
    problems: list[dict[str, Any]] = []
    frag_info = {f["fragment_id"]: (f["doc_id"], f.get("respondent_id") or None) for f in fragments}
    docs = {d["doc_id"]: d for d in documents}
    resp = {r["respondent_id"]: r for r in respondents}
    rows = []
    for coding in codings:
        fid, code = coding.get("fragment_id"), coding.get("code")
        if fid not in frag_info:
            problems.append(_problem(None, f"coding of {code} refers to unknown fragment {fid}; "
                                           "rerun the segment and code stages.", fid))
            continue
        doc_id, rid = frag_info[fid]
        doc = docs.get(doc_id)
        if doc is None:
            problems.append(_problem(doc_id, f"fragment {fid} belongs to document {doc_id}, which is not in "
                                             "the manifest; rerun the pipeline.", fid))
            continue
        rid = rid or doc.get("respondent_id") or None
        person = resp.get(rid) if rid else None
        if rid and person is None:
            problems.append(_problem(doc_id, f"respondent {rid} of fragment {fid} is not in the register.", fid))
            rid = None
        region = person["region"] if person else doc.get("region")
        valence = coding.get("valence") or None
        if code in valenced and valence not in VALENCES:
            problems.append(_problem(doc_id, f"coding {code} on {fid} has no valid valence "
                                             f"({valence!r}); it counts for the code but not for a valence.", fid))
            valence = None
        rows.append({
            "fragment_id": fid, "code": code, "category": category(code), "valence": valence,
            "sources": coding.get("sources") or coding.get("source"), "status": coding.get("status"),
            "score": coding.get("score"), "doc_id": doc_id, "doc_type": doc.get("doc_type"),
            "region": region, "real_region": region not in outside,
            "respondent_id": rid, "respondent_type": person["respondent_type"] if person else None,
            "source_unit": f"respondent:{rid}" if rid else f"document:{doc_id}",
        })
    coded = pd.DataFrame(rows, columns=CODED_COLUMNS)
    # one row per (fragment, code): a merged file has that already; guard against duplicates anyway
    coded = coded.drop_duplicates(["fragment_id", "code"], keep="first").reset_index(drop=True)
    doc_frame = pd.DataFrame([{k: d.get(k) or None for k in ("doc_id", "doc_type", "region", "respondent_id")}
                              for d in documents], columns=["doc_id", "doc_type", "region", "respondent_id"])
    resp_frame = pd.DataFrame([{k: r.get(k) for k in ("respondent_id", "respondent_type", "region")}
                               for r in respondents], columns=["respondent_id", "respondent_type", "region"])
    all_codes = sorted(set(codes or []) | set(coded["code"]))
    real = [r for r in regions if r not in outside]
    return StudyFrame(coded, doc_frame, resp_frame, real, list(regions), all_codes, problems, valenced,
                      {**DEFAULT_VALENCE_MODES, **(valence_modes or {})})


def _problem(doc_id: str | None, message: str, detail: str | None = None) -> dict[str, Any]:
    return {"stage": "aggregate", "doc_id": doc_id, "severity": "warning", "message": message, "detail": detail}


def _share(count: int, total: int) -> float | None:
    return round(count / total, SHARE_DIGITS) if total else None


COUNTS = ("n_respondents", "n_documents", "n_fragments", "n_sources", "n_regions")


def _counts_by(coded: pd.DataFrame, keys: list[str]) -> Callable[[tuple[Any, ...]], dict[str, int]]:
    """``counts(key)``: :func:`_counts` of the codings whose ``keys`` columns equal ``key``, for every key at
    once (one groupby per count instead of five pandas calls per group: most of the stage)."""
    grouped = coded.groupby(keys, sort=False)
    table = pd.DataFrame({"n_respondents": grouped["respondent_id"].nunique(),
                          "n_documents": grouped["doc_id"].nunique(),
                          "n_fragments": grouped["fragment_id"].nunique(),
                          "n_sources": grouped["source_unit"].nunique()})
    table["n_regions"] = coded[coded["real_region"].astype(bool)].groupby(keys, sort=False)["region"].nunique()
    found = {(key if isinstance(key, tuple) else (key,)): {name: int(value) if value == value else 0
                                                           for name, value in zip(COUNTS, row)}
             for key, row in zip(table.index, table[list(COUNTS)].itertuples(index=False))}
    zeros = dict.fromkeys(COUNTS, 0)
    return lambda key: dict(found.get(key, zeros))


def unit_labels(group: pd.DataFrame, by: str, modes: dict[str, str]) -> pd.Series:
    """Each unit's valence (``by``: respondent_id, or region) by the valence modes (module docstring): a
    respondent's from its codings, a region's from its sources' (respondents', documents') valences."""
    respondent = modes.get("respondent", "majority")
    if by != "region":
        return group.dropna(subset=[by]).groupby(by)["valence"].agg(lambda v: unit_valence(v, respondent))
    per_source = group.groupby("source_unit").agg(valence=("valence", lambda v: unit_valence(v, respondent)),
                                                   region=("region", "first"))
    return per_source.groupby("region")["valence"].agg(lambda v: unit_valence(v, modes.get("region", "majority")))


def _valence_counts(group: pd.DataFrame, modes: dict[str, str], by: str = "respondent_id") -> dict[str, int]:
    """Units (respondents by default) per unit valence, for a code with valence (mode any: a unit with
    several valences counts for each)."""
    units = unit_labels(group, by, modes)
    return {f"n_{by.split('_')[0]}_{v}": sum(1 for label in units if v in label.split("+"))
            for v in (*VALENCES, UNKNOWN_VALENCE)}


def _split(coded: pd.DataFrame, column: str) -> Callable[[Any], pd.DataFrame]:
    """``part(key)``: the rows of ``coded`` whose ``column`` equals key (empty if none), in their order.

    One groupby instead of a boolean mask per key: with 50,000 codings and 24 codes × 17 regions the masks
    were most of the stage.
    """
    parts = {key: group for key, group in coded.groupby(column, sort=False)}
    empty = coded.iloc[0:0]
    return lambda key: parts.get(key, empty)


def code_by_region(frame: StudyFrame) -> pd.DataFrame:
    """Per code × region (every registered region, zeros included): distinct respondents, documents, ..."""
    totals = frame.respondents.groupby("region")["respondent_id"].nunique()
    counted = _counts_by(frame.coded, ["code", "region"])
    rows = []
    for code in frame.codes:
        for region in frame.all_regions:
            counts = counted((code, region))
            counts.pop("n_regions")
            total = int(totals.get(region, 0))
            rows.append({"code": code, "category": category(code), "region": region,
                         "real_region": region in frame.regions, **counts,
                         "respondents_in_group": total, "share_respondents": _share(counts["n_respondents"], total)})
    return pd.DataFrame(rows)


def code_by_respondent_type(frame: StudyFrame) -> pd.DataFrame:
    """Per code × respondent type: respondents (share of that type in the register) and the regions they cover."""
    resp = frame.respondents
    types = sorted(resp["respondent_type"].dropna().unique())
    rows = []
    with_respondent = frame.coded[frame.coded["respondent_id"].notna()]
    of_code = _split(with_respondent, "code")
    counted = _counts_by(with_respondent, ["code", "respondent_type"])
    for code in frame.codes:
        of_type = _split(of_code(code), "respondent_type") if frame.has_valence(code) else None
        for rtype in types:
            counts = counted((code, rtype))
            members = resp[resp["respondent_type"] == rtype]
            total = int(members["respondent_id"].nunique())
            type_regions = int(members.loc[members["region"].isin(frame.regions), "region"].nunique())
            row = {"code": code, "category": category(code), "respondent_type": rtype, **counts,
                   "respondents_in_group": total, "share_respondents": _share(counts["n_respondents"], total),
                   "regions_in_group": type_regions, "share_regions": _share(counts["n_regions"], type_regions)}
            if of_type is not None:
                row.update(_valence_counts(of_type(rtype), frame.valence_modes))
            rows.append(row)
    return pd.DataFrame(rows)


def code_by_doc_type(frame: StudyFrame) -> pd.DataFrame:
    """Per code × document type: documents (share of that type in the manifest), respondents, regions."""
    docs = frame.documents
    types = sorted(docs["doc_type"].dropna().unique())
    rows = []
    counted = _counts_by(frame.coded, ["code", "doc_type"])
    for code in frame.codes:
        for dtype in types:
            counts = counted((code, dtype))
            total = int((docs["doc_type"] == dtype).sum())
            rows.append({"code": code, "category": category(code), "doc_type": dtype, **counts,
                         "documents_in_group": total, "share_documents": _share(counts["n_documents"], total),
                         "share_regions": _share(counts["n_regions"], len(frame.regions))})
    return pd.DataFrame(rows)


def code_totals(frame: StudyFrame) -> pd.DataFrame:
    """Per code over the whole study: regions (of the real ones), respondents, documents, fragments, valence."""
    n_resp, n_docs = int(frame.respondents["respondent_id"].nunique()), int(frame.documents["doc_id"].nunique())
    rows = []
    of_code = _split(frame.coded, "code")
    counted = _counts_by(frame.coded, ["code"])
    for code in frame.codes:
        group = of_code(code)
        counts = counted((code,))
        row = {"code": code, "category": category(code), **counts,
               "regions_total": len(frame.regions), "share_regions": _share(counts["n_regions"], len(frame.regions)),
               "respondents_total": n_resp, "share_respondents": _share(counts["n_respondents"], n_resp),
               "documents_total": n_docs, "share_documents": _share(counts["n_documents"], n_docs)}
        if frame.has_valence(code):
            row.update(_valence_counts(group, frame.valence_modes))
            real = group[group["real_region"]]
            row.update(_valence_counts(real, frame.valence_modes, by="region"))
        rows.append(row)
    return pd.DataFrame(rows)


def valence_table(frame: StudyFrame) -> pd.DataFrame:
    """Per code with valence: respondents by their valence, in total, per region and per respondent type.

    ``share`` is of the respondents in the group who express an opinion on the code at all.
    """
    rows = []
    coded = frame.coded[frame.coded["code"].isin(frame.valenced) & frame.coded["respondent_id"].notna()]
    for code in [c for c in frame.codes if frame.has_valence(c)]:
        of_code = coded[coded["code"] == code]
        per_resp = of_code.groupby("respondent_id").agg(
            valence=("valence", lambda v: unit_valence(v, frame.valence_modes.get("respondent", "majority"))),
            region=("region", "first"),
            respondent_type=("respondent_type", "first"))
        for group_by in ("totaal", "region", "respondent_type"):
            keys = ["alle respondenten"] if group_by == "totaal" else sorted(per_resp[group_by].dropna().unique())
            for key in keys:
                members = per_resp if group_by == "totaal" else per_resp[per_resp[group_by] == key]
                with_opinion = len(members)
                for valence in VALENCES:
                    n = int((members["valence"] == valence).sum())
                    rows.append({"code": code, "group_by": group_by, "group": key, "valence": valence,
                                 "n_respondents": n, "respondents_with_opinion": with_opinion,
                                 "share": _share(n, with_opinion)})
    return pd.DataFrame(rows, columns=["code", "group_by", "group", "valence", "n_respondents",
                                       "respondents_with_opinion", "share"])


def cooccurrence(frame: StudyFrame, unit: str) -> pd.DataFrame:
    """Pairs of codes (code_a < code_b) carried by the same fragment or the same respondent.

    ``unit`` is ``fragment`` or ``respondent``; columns n (units with both), n_a, n_b and the Jaccard index.
    """
    column = {"fragment": "fragment_id", "respondent": "respondent_id"}[unit]
    coded = frame.coded.dropna(subset=[column])
    sets: dict[Any, set[str]] = {}
    for unit_id, code in zip(coded[column], coded["code"]):
        sets.setdefault(unit_id, set()).add(code)
    singles = coded.groupby("code")[column].nunique()
    pairs: dict[tuple[str, str], int] = {}
    for codes in sets.values():
        for a, b in combinations(sorted(codes), 2):
            pairs[(a, b)] = pairs.get((a, b), 0) + 1
    rows = []
    for (a, b), n in sorted(pairs.items()):
        n_a, n_b = int(singles[a]), int(singles[b])
        rows.append({"code_a": a, "code_b": b, f"n_{unit}s": n, "n_a": n_a, "n_b": n_b,
                     "jaccard": round(n / (n_a + n_b - n), SHARE_DIGITS)})
    return pd.DataFrame(rows, columns=["code_a", "code_b", f"n_{unit}s", "n_a", "n_b", "jaccard"])


def aggregate_tables(frame: StudyFrame) -> dict[str, pd.DataFrame]:
    """All aggregate tables, by their database/CSV name."""
    return {
        "agg_code_totals": code_totals(frame),
        "agg_code_region": code_by_region(frame),
        "agg_code_respondent_type": code_by_respondent_type(frame),
        "agg_code_doc_type": code_by_doc_type(frame),
        "agg_valence": valence_table(frame),
        "cooc_fragment": cooccurrence(frame, "fragment"),
        "cooc_respondent": cooccurrence(frame, "respondent"),
    }


def write_exports(tables: dict[str, pd.DataFrame], csv_dir: str | Path, xlsx_path: str | Path,
                  date: tuple[int, int, int] = (2022, 1, 1)) -> None:
    """One CSV per table in ``csv_dir`` and all tables in one workbook; both byte-for-byte reproducible."""
    csv_dir = Path(csv_dir)
    csv_dir.mkdir(parents=True, exist_ok=True)
    for stale in csv_dir.glob("*.csv"):
        if stale.stem not in tables:
            stale.unlink()
    for name, table in tables.items():
        atomic_write_text(csv_dir / f"{name}.csv", table.to_csv(index=False, lineterminator="\n"))
    atomic_write_text(csv_dir / "README.txt", _export_readme(tables))
    Path(xlsx_path).parent.mkdir(parents=True, exist_ok=True)
    Path(xlsx_path).write_bytes(workbook_bytes(tables, date))


def workbook_bytes(tables: dict[str, pd.DataFrame], date: tuple[int, int, int] = (2022, 1, 1)) -> bytes:
    """An .xlsx with one sheet per table, with fixed document dates and zip timestamps (reproducible)."""
    from datetime import datetime

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, table in tables.items():
            table.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            sheet.freeze_panes = "A2"
            for idx, column in enumerate(table.columns, start=1):
                width = max([len(str(column))] + [len(str(v)) for v in table[column].head(200)])
                sheet.column_dimensions[sheet.cell(row=1, column=idx).column_letter].width = min(width + 2, 60)
        stamp = datetime(*date)
        writer.book.properties.created = stamp
        writer.book.properties.modified = stamp
        writer.book.properties.creator = "kwalitatief"
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" with the wall clock
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>", data)
            dst.writestr(fixed, data)
    return out.getvalue()


TABLE_HELP = {
    "agg_code_totals": "per code over the whole study: real regions, respondents, documents, fragments; "
                       "for codes with valence respondents and regions per valence",
    "agg_code_region": "per code x region: distinct respondents, documents, fragments, sources; share of the "
                       "region's registered respondents",
    "agg_code_respondent_type": "per code x respondent type: respondents (share of that type in the register), "
                                "real regions they cover; for codes with valence respondents per valence",
    "agg_code_doc_type": "per code x document type: documents (share of that type in the manifest), respondents, regions",
    "agg_valence": "per code with valence: respondents per valence, in total / per region / per respondent type; "
                          "share of those who express an opinion on the code",
    "cooc_fragment": "pairs of codes in the same fragment (code_a < code_b), with Jaccard index",
    "cooc_respondent": "pairs of codes carried by the same respondent (code_a < code_b), with Jaccard index",
}


def _export_readme(tables: dict[str, pd.DataFrame]) -> str:
    lines = ["Aggregates of the coded fragments (rebuilt by the aggregate stage; do not edit).", "",
             "All counts are DISTINCT units: a respondent who names a code in five fragments counts once.", ""]
    lines += [f"{name}.csv: {TABLE_HELP.get(name, '')} ({len(table)} rows)" for name, table in tables.items()]
    lines += ["", (__doc__ or "").split("Definitions", 1)[-1].strip()]
    return "\n".join(lines) + "\n"


def read_exports(csv_dir: str | Path) -> dict[str, pd.DataFrame]:
    """The aggregate tables back from their CSVs (for the report stage)."""
    return {path.stem: pd.read_csv(path, keep_default_na=True) for path in sorted(Path(csv_dir).glob("*.csv"))}


def frame_from_register(register: Any, codings: Iterable[dict[str, Any]], fragments: Iterable[dict[str, Any]],
                        codebook: Any, valence_modes: dict[str, str] | None = None) -> StudyFrame:
    """:func:`build_frame` for a loaded :class:`kwalitatief.corpus.Register` and
    :class:`kwalitatief.codebook.Codebook` (its codes and which of them carry a valence)."""
    documents = [{"doc_id": d.doc_id, "doc_type": d.doc_type, "region": d.region,
                  "respondent_id": d.respondent_id or None} for d in register.documents]
    outside = [r for r in register.region_names if r not in register.population]
    return build_frame(codings, fragments, documents, register.respondents, register.region_names,
                       codebook.code_ids, codebook.valenced_codes, outside, valence_modes)
