"""Exchange with QDA software (ATLAS.ti, MAXQDA, NVivo, QualCoder ...) through the REFI-QDA standard.

* :func:`export_qdpx`: a REFI-QDA project (``.qdpx``: a zip with ``project.qde`` and ``sources/<guid>.txt``):
  users (every reviewer and the machine), the codebook with colours (categories as non-codable parent
  codes; each valenced code has the children ``<code> · positief`` / ``· negatief`` / ``· gemengd``: every
  name is unique), every document as a text source with its PSEUDONYMISED text, and each reviewer's own
  codings (accepted, added, valence changed) as ``PlainTextSelection`` elements at the fragment's character
  positions, one selection per fragment and user. Unreviewed machine codings (user ``kwalitatief (machine)``)
  only with ``include_unreviewed``.
* :func:`export_qdc`: the codebook alone (``.qdc``, namespace ``urn:QDA-XML:codebook:1.0``).
* import: :mod:`kwalitatief.qda_import` (``kwal import qdpx``), positions read by
  :mod:`kwalitatief.qda_positions`.

Identifiers are UUIDs derived from the content (uuid5), so the same project gives the same file.
Character positions count Unicode code points, as Python string indices do.
"""

from __future__ import annotations

import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

NS_PROJECT = "urn:QDA-XML:project:1.0"
NS_CODEBOOK = "urn:QDA-XML:codebook:1.0"
ORIGIN = "kwalitatief"
MACHINE_USER = "kwalitatief (machine)"
VALENCES = ("positief", "negatief", "gemengd")
REVIEWED = ("accepted", "added", "valence_changed", "annotated")
_UUID_NS = uuid.UUID("6c1f2f0e-5b0a-4c39-9a43-3f7f4b8c2d11")
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)

# colours of the categories in codebook order (codes take the shades in codebook order); further categories grey
PALETTES = (
    ["#1f77b4", "#4e94c8", "#7fb2dc", "#2b5f8a", "#a9cbe8", "#174a73"],
    ["#d62728", "#e5585a", "#f08a8b", "#a61e1f", "#f5b3b3", "#7d1516", "#ff7f0e", "#ffa64d", "#c46208", "#ffc78f"],
    ["#2ca02c", "#5bbd5b", "#8ad58a", "#1f7a1f", "#b5e6b5", "#145214"],
)
GREY = ["#7f7f7f", "#a5a5a5", "#595959"]
VALENCE_COLOURS = {"positief": "#2ca02c", "negatief": "#d62728", "gemengd": "#ff7f0e"}


class QdaError(Exception):
    """A REFI-QDA file cannot be written or read; the message says which file and what to do."""


def guid(*parts: str) -> str:
    """A stable GUID for a thing of the project (the same input, the same GUID)."""
    return str(uuid.uuid5(_UUID_NS, "\x1f".join(parts)))


def code_colours(codebook: Any) -> dict[str, str]:
    """code id -> colour (#rrggbb): shades of the category's colour, in codebook order."""
    used: dict[str, int] = {}
    out = {}
    for code in codebook.codes:
        palette = _palette(codebook, code.category)
        i = used.get(code.category, 0)
        used[code.category] = i + 1
        out[code.id] = palette[i % len(palette)]
    return out


def _palette(codebook: Any, category: str) -> list[str]:
    order = list(codebook.categories) or list(dict.fromkeys(c.category for c in codebook.codes))
    i = order.index(category) if category in order else len(PALETTES)
    return PALETTES[i] if i < len(PALETTES) else GREY


def category_colour(codebook: Any, category: str) -> str:
    return _palette(codebook, category)[0]


def qname(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def valenced_codes(codebook: Any) -> set[str]:
    """The codes whose codings carry a valence (positief / negatief / gemengd), as the codebook declares."""
    return {c.id for c in codebook.codes if codebook.has_valence(c.id)}


def valence_code_name(code_id: str, valence: str) -> str:
    """The exported name of a valence child code: unique over the whole codebook (``<code> · positief``).

    QualCoder keeps one code per name (its ``code_name`` table is ``unique(name)``); a child called just
    ``positief`` under every valenced code would merge them all into the first one.
    """
    return f"{code_id} · {valence}"


def _codes_element(parent: ET.Element, ns: str, codebook: Any) -> dict[tuple[str, str | None], str]:
    """Append <Codes> to ``parent``; returns (code, valence) -> GUID. Every code name is unique."""
    codes_el = ET.SubElement(parent, qname(ns, "Codes"))
    colours = code_colours(codebook)
    valenced = valenced_codes(codebook)
    refs: dict[tuple[str, str | None], str] = {}
    categories: dict[str, ET.Element] = {}
    names: set[str] = set()

    def add(under: ET.Element, attrs: dict[str, str]) -> ET.Element:
        if attrs["name"] in names:
            raise QdaError(f"code name '{attrs['name']}' occurs twice in the export; QDA tools merge codes of "
                           "the same name. Rename a category or code in codebook/codebook.yaml.")
        names.add(attrs["name"])
        return ET.SubElement(under, qname(ns, "Code"), attrs)

    for code in codebook.codes:
        cat = categories.get(code.category)
        if cat is None:
            label = codebook.categories.get(code.category) or code.category
            cat = add(codes_el, {"guid": guid("category", code.category), "name": code.category,
                                 "isCodable": "false", "color": category_colour(codebook, code.category)})
            ET.SubElement(cat, qname(ns, "Description")).text = f"{label} (categorie van het codeboek)"
            categories[code.category] = cat
        el = add(cat, {"guid": guid("code", code.id), "name": code.id, "isCodable": "true",
                       "color": colours[code.id]})
        description = f"{code.label}. {code.definition}".strip()
        if code.include:
            description += "\nWel: " + "; ".join(code.include)
        if code.exclude:
            description += "\nNiet: " + "; ".join(code.exclude)
        ET.SubElement(el, qname(ns, "Description")).text = description
        refs[(code.id, None)] = guid("code", code.id)
        if code.id in valenced:
            for valence in VALENCES:
                child = add(el, {"guid": guid("code", code.id, valence), "name": valence_code_name(code.id, valence),
                                 "isCodable": "true", "color": VALENCE_COLOURS[valence]})
                ET.SubElement(child, qname(ns, "Description")).text = f"{code.id}, waardering {valence}"
                refs[(code.id, valence)] = guid("code", code.id, valence)
    return refs


def _xml_bytes(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)


def codebook_xml(codebook: Any) -> bytes:
    """The ``.qdc`` document: <CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>..."""
    ET.register_namespace("", NS_CODEBOOK)
    root = ET.Element(qname(NS_CODEBOOK, "CodeBook"), {"origin": f"{ORIGIN} codebook {codebook.version}"})
    _codes_element(root, NS_CODEBOOK, codebook)
    return _xml_bytes(root)


def export_qdc(out_path: str | Path, codebook: Any) -> int:
    """Write the codebook as a REFI-QDA codebook file; returns the number of codes."""
    Path(out_path).write_bytes(codebook_xml(codebook))
    return len(codebook.codes)


@dataclass
class ExportCoding:
    """One coding of the export: a code (and valence) on a fragment, by one user."""

    fragment_id: str
    code: str
    valence: str | None
    user: str                       # a reviewer, or MACHINE_USER for a machine proposal nobody reviewed
    status: str                     # accepted | added | valence_changed | annotated | unreviewed
    time: str | None = None         # the reviewer's decision time
    memos: list[str] = field(default_factory=list)
    note: str = ""                  # the machine's source and score


@dataclass
class ProjectData:
    """What a project export contains (read from the pipeline's artefacts)."""

    codebook: Any
    documents: dict[str, str]                       # doc_id -> pseudonymised text
    fragments: list[dict[str, Any]]
    codings: list[ExportCoding]                     # each reviewer's codings and the unreviewed machine ones
    problems: list[dict[str, Any]] = field(default_factory=list)


_STATUS = {"accept": "accepted", "add": "added", "change_valence": "valence_changed"}


def _machine_note(row: dict[str, Any]) -> str:
    score = row.get("score")
    return f"bron {row.get('sources')}" + (f", score {score:.2f}" if isinstance(score, (int, float)) else "")


def reviewer_codings(machine: list[dict[str, Any]], fragments: list[dict[str, Any]], decisions: list[Any],
                     codebook: Any) -> tuple[list[ExportCoding], list[dict[str, Any]]]:
    """Every reviewer's own codings (their latest decision per fragment and code, rejections left out) and
    the machine codings no reviewer decided on; plus the problems (orphaned decisions, unknown codes)."""
    from .review import apply_decisions, latest_per_reviewer, split_orphans

    merged, problems = apply_decisions(machine, fragments, decisions, codebook.code_ids)
    live, _ = split_orphans(decisions, fragments)
    live = [d for d in live if d.code in set(codebook.code_ids)]
    valenced = valenced_codes(codebook)
    proposed = {(r["fragment_id"], r["code"]): r for r in machine}
    memos: dict[tuple[str, str, str], list[str]] = {}
    for d in sorted(live, key=lambda d: (d.time, d.line)):
        if d.memo:
            memos.setdefault((d.reviewer, d.fragment_id, d.code), []).append(d.memo)
    out: list[ExportCoding] = []
    for (reviewer, fid, code), d in latest_per_reviewer(live).items():
        if d.decision not in _STATUS:
            continue
        valence = d.valence or (proposed.get((fid, code)) or {}).get("valence")
        out.append(ExportCoding(fid, code, valence if code in valenced else None, reviewer, _STATUS[d.decision],
                                d.time, memos.get((reviewer, fid, code), [])))
    for row in merged:
        if row.get("status") == "unreviewed":
            out.append(ExportCoding(row["fragment_id"], row["code"],
                                    row.get("valence") if row["code"] in valenced else None, MACHINE_USER,
                                    "unreviewed", note=_machine_note(row)))
        elif row.get("status") == "annotated":   # a researcher's annotation is a coding by its coder
            out.append(ExportCoding(row["fragment_id"], row["code"],
                                    row.get("valence") if row["code"] in valenced else None,
                                    row.get("reviewer") or "annotatie", "annotated"))
    out.sort(key=lambda c: (c.fragment_id, c.user, c.code))
    return out, problems


def load_project(root: str | Path = ".", params: dict[str, Any] | None = None) -> ProjectData:
    """The artefacts an export needs: codebook, pseudonymised texts, fragments and everyone's codings."""
    from . import paths
    from .classify import codebook_path
    from .codebook import CodebookError, load_codebook
    from .jsonio import read_json, read_jsonl
    from .review import read_decisions

    root = Path(root)
    try:
        codebook = load_codebook(root / codebook_path(params))
    except CodebookError as exc:
        raise QdaError(f"the codebook has errors (run 'kwal check'):\n{exc}") from exc
    for need in (paths.FRAGMENTS, paths.CODINGS, paths.PSEUDONYMISED_DIR):
        if not (root / need).exists():
            raise QdaError(f"{need}: not found; run the pipeline first (make run).")
    documents = {p.stem: read_json(p)["text"] for p in sorted((root / paths.PSEUDONYMISED_DIR).glob("*.json"))}
    fragments = list(read_jsonl(root / paths.FRAGMENTS))
    decisions, problems = read_decisions(root / paths.REVIEWS)
    codings, more = reviewer_codings(list(read_jsonl(root / paths.CODINGS)), fragments, decisions, codebook)
    return ProjectData(codebook, documents, fragments, codings, problems=problems + more)


def _selection_notes(fid: str, rows: list[ExportCoding]) -> str:
    notes = [f"fragment {fid}"]
    for c in rows:
        who = "machine (niet beoordeeld)" if c.user == MACHINE_USER else c.user
        notes.append(f"{c.code}" + (f" ({c.valence})" if c.valence else "") + f": {c.status}, {who}"
                     + (f", {c.note}" if c.note else ""))
        notes += [f"  memo: {m}" for m in c.memos]
    return "\n".join(notes)


def project_xml(data: ProjectData, include_unreviewed: bool = False, name: str = "kwalitatief"
                ) -> tuple[bytes, dict[str, str], dict[str, int]]:
    """project.qde, the source files (zip path -> text) and counts.

    One ``PlainTextSelection`` per fragment and user, holding that user's codings: QualCoder (and others)
    take the coder from the selection's ``creatingUser``, so a fragment coded by two reviewers appears
    twice, once per reviewer. Unreviewed machine proposals belong to the user ``kwalitatief (machine)``.
    """
    ET.register_namespace("", NS_PROJECT)
    keep = [c for c in data.codings if c.status != "unreviewed" or include_unreviewed]
    users = sorted({c.user for c in keep if c.user != MACHINE_USER})
    user_guid = {u: guid("user", u) for u in users}
    user_guid[MACHINE_USER] = guid("user", MACHINE_USER)
    root = ET.Element(qname(NS_PROJECT, "Project"), {
        "name": name, "origin": f"{ORIGIN} (codebook {data.codebook.version})",
        "creatingUserGUID": user_guid[MACHINE_USER]})
    users_el = ET.SubElement(root, qname(NS_PROJECT, "Users"))
    for user in [MACHINE_USER] + users:
        ET.SubElement(users_el, qname(NS_PROJECT, "User"), {"guid": user_guid[user], "name": user})
    book = ET.SubElement(root, qname(NS_PROJECT, "CodeBook"))
    refs = _codes_element(book, NS_PROJECT, data.codebook)
    by_fragment: dict[str, dict[str, list[ExportCoding]]] = {}
    for c in keep:
        by_fragment.setdefault(c.fragment_id, {}).setdefault(c.user, []).append(c)
    frags_by_doc: dict[str, list[dict[str, Any]]] = {}
    for f in data.fragments:
        if f["fragment_id"] in by_fragment:
            frags_by_doc.setdefault(f["doc_id"], []).append(f)
    sources_el = ET.SubElement(root, qname(NS_PROJECT, "Sources"))
    files: dict[str, str] = {}
    n_sel = n_cod = 0
    for doc_id, text in sorted(data.documents.items()):
        sguid = guid("source", doc_id)
        files[f"sources/{sguid}.txt"] = text
        src = ET.SubElement(sources_el, qname(NS_PROJECT, "TextSource"), {
            "guid": sguid, "name": doc_id, "plainTextPath": f"internal://{sguid}.txt",
            "creatingUser": user_guid[MACHINE_USER]})
        ET.SubElement(src, qname(NS_PROJECT, "Description")).text = f"{doc_id} (gepseudonimiseerd)"
        for frag in sorted(frags_by_doc.get(doc_id, []), key=lambda f: (f["start"], f["end"])):
            fid = frag["fragment_id"]
            if text[frag["start"]:frag["end"]] != frag["text"]:
                data.problems.append({"stage": "export", "doc_id": doc_id, "severity": "warning",
                                      "message": f"fragment {fid} does not match its document's text; its "
                                                 "codings are not exported (rerun the pipeline).", "detail": None})
                continue
            for user, rows in sorted(by_fragment[fid].items()):
                rows = [c for c in rows if (c.code, c.valence) in refs or (c.code, None) in refs]
                if not rows:
                    continue
                attrs = {"guid": guid("selection", fid, user), "name": fid, "startPosition": str(frag["start"]),
                         "endPosition": str(frag["end"]), "creatingUser": user_guid[user]}
                times = sorted(c.time for c in rows if c.time)
                if times:
                    attrs["creationDateTime"] = times[0]
                sel = ET.SubElement(src, qname(NS_PROJECT, "PlainTextSelection"), attrs)
                ET.SubElement(sel, qname(NS_PROJECT, "Description")).text = _selection_notes(fid, rows)
                for c in rows:
                    ref = refs.get((c.code, c.valence)) or refs[(c.code, None)]
                    cattrs = {"guid": guid("coding", fid, c.code, user), "creatingUser": user_guid[user]}
                    if c.time:
                        cattrs["creationDateTime"] = c.time
                    coding = ET.SubElement(sel, qname(NS_PROJECT, "Coding"), cattrs)
                    ET.SubElement(coding, qname(NS_PROJECT, "CodeRef"), {"targetGUID": ref})
                    n_cod += 1
                n_sel += 1
    counts = {"sources": len(data.documents), "selections": n_sel, "codings": n_cod, "users": len(users) + 1,
              "codes": len(data.codebook.codes)}
    return _xml_bytes(root), files, counts


def export_qdpx(out_path: str | Path, root: str | Path = ".", params: dict[str, Any] | None = None,
                include_unreviewed: bool = False) -> dict[str, int]:
    """Write the project as ``.qdpx``; returns counts (sources, selections, codings, users, codes)."""
    data = load_project(root, params)
    xml, files, counts = project_xml(data, include_unreviewed)
    out_path = Path(out_path)
    tmp = out_path.with_name(f".{out_path.name}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, payload in [("project.qde", xml)] + [(k, v.encode("utf-8")) for k, v in sorted(files.items())]:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, payload)
    tmp.replace(out_path)
    counts["problems"] = len(data.problems)
    return counts


def read_project(path: str | Path) -> ET.Element:
    """The parsed project.qde of a .qdpx (for checks and tests)."""
    with zipfile.ZipFile(path) as zf:
        return ET.fromstring(zf.read("project.qde"))
