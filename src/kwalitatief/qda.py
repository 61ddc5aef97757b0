"""Exchange with QDA software (ATLAS.ti, MAXQDA, NVivo, QualCoder ...) through the REFI-QDA standard.

* :func:`export_qdpx`: a REFI-QDA project (``.qdpx``: a zip with ``project.qde`` and ``sources/<guid>.txt``):
  users (every reviewer and the machine), the codebook with colours (categories as non-codable parent
  codes; each valenced code has the children ``<code> · positief`` / ``· negatief`` / ``· gemengd``: every
  name is unique), every document as a text source with its PSEUDONYMISED text, and each reviewer's own
  codings (accepted, added, valence changed) as ``PlainTextSelection`` elements at the fragment's character
  positions, one selection per fragment and user. Unreviewed machine codings (user ``kwalitatief (machine)``)
  only with ``include_unreviewed``.
* :func:`export_qdc`: the codebook alone (``.qdc``, namespace ``urn:QDA-XML:codebook:1.0``).
* :func:`import_qdpx`: the codings of a project from another tool become annotations (training data) in
  ``codebook/annotations/imported_<name>.jsonl`` when their sources match corpus documents (same text,
  pseudonymised or original, up to whitespace). How the file counts positions (CRLF as one or two, a byte
  order mark or not) is decided per source by where its selections land; every selection that lands
  wrongly or partly is reported. Machine codings are skipped unless asked. An existing file is never
  overwritten.

Identifiers are UUIDs derived from the content (uuid5), so the same project gives the same file.
Character positions count Unicode code points, as Python string indices do.
"""

from __future__ import annotations

import re
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
REVIEWED = ("accepted", "added", "valence_changed")
_UUID_NS = uuid.UUID("6c1f2f0e-5b0a-4c39-9a43-3f7f4b8c2d11")
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)

# colours per category (codes take the shades in codebook order); other categories grey
PALETTES = {
    "doel": ["#1f77b4", "#4e94c8", "#7fb2dc", "#2b5f8a", "#a9cbe8", "#174a73"],
    "knelpunt": ["#d62728", "#e5585a", "#f08a8b", "#a61e1f", "#f5b3b3", "#7d1516", "#ff7f0e", "#ffa64d",
                 "#c46208", "#ffc78f"],
    "opinie": ["#2ca02c", "#5bbd5b", "#8ad58a", "#1f7a1f", "#b5e6b5", "#145214"],
}
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
        palette = PALETTES.get(code.category, GREY)
        i = used.get(code.category, 0)
        used[code.category] = i + 1
        out[code.id] = palette[i % len(palette)]
    return out


def category_colour(category: str) -> str:
    return PALETTES.get(category, GREY)[0]


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def valenced_codes(codebook: Any) -> set[str]:
    """The codes whose codings carry a valence (positief / negatief / gemengd): the opinie category."""
    return {c.id for c in codebook.codes if c.category == "opinie"}


def valence_code_name(code_id: str, valence: str) -> str:
    """The exported name of a valence child code: unique over the whole codebook (``opinie.x · positief``).

    QualCoder keeps one code per name (its ``code_name`` table is ``unique(name)``); a child called just
    ``positief`` under every opinie code would merge them all into the first one.
    """
    return f"{code_id} · {valence}"


def _codes_element(parent: ET.Element, ns: str, codebook: Any) -> dict[tuple[str, str | None], str]:
    """Append <Codes> to ``parent``; returns (code, valence) -> GUID. Every code name is unique."""
    codes_el = ET.SubElement(parent, _q(ns, "Codes"))
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
        return ET.SubElement(under, _q(ns, "Code"), attrs)

    for code in codebook.codes:
        cat = categories.get(code.category)
        if cat is None:
            label = codebook.categories.get(code.category) or code.category
            cat = add(codes_el, {"guid": guid("category", code.category), "name": code.category,
                                 "isCodable": "false", "color": category_colour(code.category)})
            ET.SubElement(cat, _q(ns, "Description")).text = f"{label} (categorie van het codeboek)"
            categories[code.category] = cat
        el = add(cat, {"guid": guid("code", code.id), "name": code.id, "isCodable": "true",
                       "color": colours[code.id]})
        description = f"{code.label}. {code.definition}".strip()
        if code.include:
            description += "\nWel: " + "; ".join(code.include)
        if code.exclude:
            description += "\nNiet: " + "; ".join(code.exclude)
        ET.SubElement(el, _q(ns, "Description")).text = description
        refs[(code.id, None)] = guid("code", code.id)
        if code.id in valenced:
            for valence in VALENCES:
                child = add(el, {"guid": guid("code", code.id, valence), "name": valence_code_name(code.id, valence),
                                 "isCodable": "true", "color": VALENCE_COLOURS[valence]})
                ET.SubElement(child, _q(ns, "Description")).text = f"{code.id}, waardering {valence}"
                refs[(code.id, valence)] = guid("code", code.id, valence)
    return refs


def _xml_bytes(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)


def codebook_xml(codebook: Any) -> bytes:
    """The ``.qdc`` document: <CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>..."""
    ET.register_namespace("", NS_CODEBOOK)
    root = ET.Element(_q(NS_CODEBOOK, "CodeBook"), {"origin": f"{ORIGIN} codebook {codebook.version}"})
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
    status: str                     # accepted | added | valence_changed | unreviewed
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
    root = ET.Element(_q(NS_PROJECT, "Project"), {
        "name": name, "origin": f"{ORIGIN} (codebook {data.codebook.version})",
        "creatingUserGUID": user_guid[MACHINE_USER]})
    users_el = ET.SubElement(root, _q(NS_PROJECT, "Users"))
    for user in [MACHINE_USER] + users:
        ET.SubElement(users_el, _q(NS_PROJECT, "User"), {"guid": user_guid[user], "name": user})
    book = ET.SubElement(root, _q(NS_PROJECT, "CodeBook"))
    refs = _codes_element(book, NS_PROJECT, data.codebook)
    by_fragment: dict[str, dict[str, list[ExportCoding]]] = {}
    for c in keep:
        by_fragment.setdefault(c.fragment_id, {}).setdefault(c.user, []).append(c)
    frags_by_doc: dict[str, list[dict[str, Any]]] = {}
    for f in data.fragments:
        if f["fragment_id"] in by_fragment:
            frags_by_doc.setdefault(f["doc_id"], []).append(f)
    sources_el = ET.SubElement(root, _q(NS_PROJECT, "Sources"))
    files: dict[str, str] = {}
    n_sel = n_cod = 0
    for doc_id, text in sorted(data.documents.items()):
        sguid = guid("source", doc_id)
        files[f"sources/{sguid}.txt"] = text
        src = ET.SubElement(sources_el, _q(NS_PROJECT, "TextSource"), {
            "guid": sguid, "name": doc_id, "plainTextPath": f"internal://{sguid}.txt",
            "creatingUser": user_guid[MACHINE_USER]})
        ET.SubElement(src, _q(NS_PROJECT, "Description")).text = f"{doc_id} (gepseudonimiseerd)"
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
                sel = ET.SubElement(src, _q(NS_PROJECT, "PlainTextSelection"), attrs)
                ET.SubElement(sel, _q(NS_PROJECT, "Description")).text = _selection_notes(fid, rows)
                for c in rows:
                    ref = refs.get((c.code, c.valence)) or refs[(c.code, None)]
                    cattrs = {"guid": guid("coding", fid, c.code, user), "creatingUser": user_guid[user]}
                    if c.time:
                        cattrs["creationDateTime"] = c.time
                    coding = ET.SubElement(sel, _q(NS_PROJECT, "Coding"), cattrs)
                    ET.SubElement(coding, _q(NS_PROJECT, "CodeRef"), {"targetGUID": ref})
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


# --------------------------------------------------------------------------------------------- import

def _nonspace_index(text: str) -> list[int]:
    return [i for i, ch in enumerate(text) if not ch.isspace()]


class _Aligner:
    """Maps positions in a source text to positions in a corpus text with the same non-space characters."""

    def __init__(self, source: str, target: str) -> None:
        self.src = _nonspace_index(source)
        self.tgt = _nonspace_index(target)
        self.src_len, self.tgt_len = len(source), len(target)

    def __call__(self, pos: int, end: bool = False) -> int:
        import bisect

        k = bisect.bisect_left(self.src, pos)     # non-space characters before pos
        if end:
            return self.tgt[k - 1] + 1 if k > 0 else 0
        return self.tgt[k] if k < len(self.tgt) else self.tgt_len


def _norm(text: str) -> str:
    return " ".join(text.split())


def _short(text: str, limit: int = 60) -> str:
    text = _norm(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_source_text(zf: zipfile.ZipFile, el: ET.Element) -> str | None:
    """The source's text as stored (line ends and a byte order mark kept: :func:`readings` decides)."""
    content = el.find(_q(NS_PROJECT, "PlainTextContent"))
    if content is not None and content.text is not None:
        return content.text
    path = el.get("plainTextPath") or ""
    if path.startswith("internal://"):
        name = "sources/" + path[len("internal://"):]
        names = {n.lower(): n for n in zf.namelist()}
        real = names.get(name.lower())
        if real is None:
            return None
        return zf.read(real).decode("utf-8", errors="replace")
    return None


@dataclass(frozen=True)
class Reading:
    """One way to count a source's positions: over ``text``, position p is ``text[p - shift]``."""

    label: str
    text: str
    shift: int = 0


def readings(stored: str) -> list[Reading]:
    """The ways other tools count positions, the spec's literal reading first (it wins ties).

    REFI-QDA 1.5 counts code points of the stored plain text, so a CRLF line end is two positions; some tools
    count the LF-normalised text instead (QualCoder exports positions over its LF text, also when it writes
    CRLF files for MAXQDA). A byte order mark is not text; a tool that counts it shifts every position by one.
    """
    bom = stored.startswith("\ufeff")
    body = stored[1:] if bom else stored
    out = [Reading("code points of the stored text" + (" (CRLF = 2)" if "\r" in body else ""), body)]
    if "\r" in body:
        out.append(Reading("code points of the LF-normalised text (CRLF = 1)",
                           body.replace("\r\n", "\n").replace("\r", "\n")))
    if bom:
        out += [Reading(r.label + ", byte order mark counted", r.text, 1) for r in list(out)]
    return out


@dataclass
class _Selection:
    name: str
    start: int
    end: int
    element: ET.Element


@dataclass
class _Landing:
    """Where a selection lands in the corpus document under one reading."""

    start: int
    end: int
    text: str                        # the source's text at the selection's positions
    fragments: list[dict[str, Any]]  # the fragments it codes
    problem: str | None = None       # why it must not be imported
    partial: bool = False            # its ends are not fragment boundaries


class _Target:
    """A corpus document a source matched: its text and fragment spans (pseudonymised or original)."""

    def __init__(self, doc_id: str, text: str, spans: list[tuple[dict[str, Any], int, int]]) -> None:
        self.doc_id, self.text, self.spans = doc_id, text, spans
        self.bounds = {b for _, fs, fe in spans for b in (fs, fe)}
        self.ids = {f["fragment_id"]: (fs, fe) for f, fs, fe in spans}

    def land(self, sel: _Selection, reading: Reading, align: _Aligner, names_are_text: bool = False) -> _Landing:
        s, e = sel.start - reading.shift, sel.end - reading.shift
        if not 0 <= s < e <= len(reading.text):
            return _Landing(s, e, "", [], f"positions {sel.start}-{sel.end} lie outside the text "
                                           f"({len(reading.text)} characters)")
        text = reading.text[s:e]
        a, b = align(s), align(e, end=True)
        hits = [f for f, fs, fe in self.spans if _overlap(a, b, fs, fe)]
        landing = _Landing(a, b, text, hits, partial=not (a in self.bounds and b in self.bounds))
        if sel.name in self.ids and self.ids[sel.name] != (a, b):
            landing.problem = f"it is named after fragment {sel.name}, but its positions give '{_short(text)}'"
        elif names_are_text and sel.name and sel.name not in self.ids and _norm(sel.name) != _norm(text):
            landing.problem = f"its name is '{_short(sel.name)}' but its positions give '{_short(text)}'"
        elif not hits:
            landing.problem = f"'{_short(text)}' covers no fragment"
        return landing


def names_are_text(sels: list[_Selection], options: list[Reading]) -> bool:
    """Does this tool name a selection by its text (QualCoder does; others use labels)? Yes when for most
    named selections the name is the text at its positions under some reading."""
    named = [sel for sel in sels if sel.name.strip()]
    hits = sum(any(_norm(sel.name) == _norm(r.text[sel.start - r.shift:sel.end - r.shift]) for r in options)
               for sel in named)
    return bool(named) and hits * 2 > len(named)


def _word_cut(text: str, pos: int) -> bool:
    return 0 < pos < len(text) and text[pos - 1].isalnum() and text[pos].isalnum()


def _score(target: _Target, sels: list[_Selection], reading: Reading, corpus_text: str, by_text: bool
           ) -> tuple[int, int, int]:
    """(selections without problem, ends on fragment boundaries, ends that cut no word): higher is better."""
    align = _Aligner(reading.text, corpus_text)
    clean = bounds = words = 0
    for sel in sels:
        landing = target.land(sel, reading, align, by_text)
        if landing.problem is None:
            clean += 1
        bounds += (landing.start in target.bounds) + (landing.end in target.bounds)
        s, e = sel.start - reading.shift, sel.end - reading.shift
        words += (not _word_cut(reading.text, s)) + (not _word_cut(reading.text, e))
    return clean, bounds, words


def choose_reading(target: _Target, sels: list[_Selection], stored: str) -> tuple[Reading, str, bool]:
    """The reading under which the selections land best, a sentence that reports the choice, and whether
    the selections are named by their text (then a name that differs from the text is a wrong landing)."""
    options = readings(stored)
    by_text = names_are_text(sels, options)
    scores = [_score(target, sels, r, target.text, by_text) for r in options]
    best = max(range(len(options)), key=lambda i: (scores[i], -i))
    reading = options[best]
    n = len(sels)
    why = f"{scores[best][1]} of {2 * n} selection ends on fragment boundaries"
    others = "; ".join(f"{r.label}: {sc[1]}" for r, sc in zip(options, scores) if r is not reading)
    return reading, f"positions read as {reading.label}: {why}" + (f" (other readings: {others})" if others else ""), by_text


@dataclass
class ImportResult:
    path: Path
    n_lines: int
    n_codings: int
    matched_sources: list[str]
    problems: list[str]
    readings: list[str] = field(default_factory=list)   # per source: how its positions were read, and why
    n_machine_skipped: int = 0
    reading_of: dict[str, str] = field(default_factory=dict)   # source -> the reading chosen (its label)


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")
    return cleaned or "project"


def _selections(src: ET.Element, label: str, problems: list[str]) -> list[_Selection]:
    out = []
    for sel in src.iter(_q(NS_PROJECT, "PlainTextSelection")):
        try:
            s, e = int(sel.get("startPosition", "")), int(sel.get("endPosition", ""))
        except ValueError:
            problems.append(f"source '{label}': selection '{sel.get('name') or sel.get('guid')}' has no valid "
                            "startPosition/endPosition; skipped.")
            continue
        out.append(_Selection(sel.get("name") or "", s, e, sel))
    return out


def import_qdpx(in_path: str | Path, root: str | Path = ".", params: dict[str, Any] | None = None,
                name: str | None = None, include_machine: bool = False) -> ImportResult:
    """Turn the codings of a REFI-QDA project into annotations of the matching corpus documents.

    Codings by the user ``kwalitatief (machine)`` (our own unreviewed proposals) are skipped unless
    ``include_machine``: the classifier must not learn its own output.
    """
    from . import paths
    from .classify import codebook_path, original_offset
    from .codebook import CodebookError, load_codebook
    from .jsonio import dumps, read_json, read_jsonl

    root, in_path = Path(root), Path(in_path)
    out = root / paths.ANNOTATIONS_DIR / f"imported_{_safe_name(name or in_path.stem)}.jsonl"
    if out.exists():
        raise QdaError(f"{out}: exists and is never overwritten; remove it yourself or choose another "
                       "name (--name).")
    try:
        codebook = load_codebook(root / codebook_path(params))
    except CodebookError as exc:
        raise QdaError(f"the codebook has errors (run 'kwal check'):\n{exc}") from exc
    if not (root / paths.FRAGMENTS).exists():
        raise QdaError(f"{paths.FRAGMENTS}: not found; run the pipeline first (make run).")
    try:
        zf = zipfile.ZipFile(in_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise QdaError(f"{in_path}: not a REFI-QDA project file (.qdpx is a zip): {exc}") from exc
    with zf:
        qde = [n for n in zf.namelist() if n.lower().endswith(".qde") and "/" not in n]
        if not qde:
            raise QdaError(f"{in_path}: has no project.qde; is it a REFI-QDA project (.qdpx)?")
        try:
            proj = ET.fromstring(zf.read("project.qde" if "project.qde" in qde else qde[0]))
        except ET.ParseError as exc:
            raise QdaError(f"{in_path}: project.qde is not valid XML ({exc}).") from exc
        if proj.tag != _q(NS_PROJECT, "Project"):
            raise QdaError(f"{in_path}: project.qde has root {proj.tag}, expected Project in {NS_PROJECT}.")
        problems: list[str] = []
        users = {u.get("guid"): u.get("name") or u.get("id") or "onbekend"
                 for u in proj.iter(_q(NS_PROJECT, "User"))}
        code_map = _map_codes(proj, codebook, problems)
        # corpus documents: pseudonymised texts and (when available) the originals
        pseudo: dict[str, dict[str, Any]] = {p.stem: read_json(p) for p in
                                             sorted((root / paths.PSEUDONYMISED_DIR).glob("*.json"))}
        originals = {doc: read_json(root / paths.EXTRACTED_DIR / f"{doc}.json")["text"] for doc in pseudo
                     if (root / paths.EXTRACTED_DIR / f"{doc}.json").exists()}
        by_norm_pseudo = {_norm(d["text"]): doc for doc, d in pseudo.items()}
        by_norm_orig = {_norm(t): doc for doc, t in originals.items()}
        frags_by_doc: dict[str, list[dict[str, Any]]] = {}
        for f in read_jsonl(root / paths.FRAGMENTS):
            frags_by_doc.setdefault(f["doc_id"], []).append(f)
        lines: dict[tuple[str, str, str], dict[str, str | None]] = {}
        frag_text: dict[str, tuple[str, str]] = {}
        matched: list[str] = []
        chosen: list[str] = []
        reading_of: dict[str, str] = {}
        n_codings = n_machine = 0
        for src in proj.iter(_q(NS_PROJECT, "TextSource")):
            label = src.get("name") or src.get("guid")
            stored = _read_source_text(zf, src)
            if stored is None:
                problems.append(f"source '{label}': its text is not in the file (only internal sources "
                                "are read); skipped.")
                continue
            key = _norm(stored.lstrip("\ufeff"))
            if key in by_norm_pseudo:
                doc = by_norm_pseudo[key]
                target = _Target(doc, pseudo[doc]["text"], [(f, f["start"], f["end"]) for f in frags_by_doc.get(doc, [])])
            elif key in by_norm_orig:
                doc = by_norm_orig[key]
                reps = sorted(pseudo[doc].get("replacements") or [], key=lambda r: r["start"])
                target = _Target(doc, originals[doc], [(f, original_offset(reps, f["start"]),
                                                        original_offset(reps, f["end"]))
                                                       for f in frags_by_doc.get(doc, [])])
            else:
                problems.append(f"source '{label}': its text matches no corpus document; its codings are "
                                "not imported.")
                continue
            matched.append(f"{label} -> {doc}")
            sels = _selections(src, label, problems)
            reading, why, by_text = choose_reading(target, sels, stored)
            chosen.append(f"source '{label}': {why}")
            reading_of[label] = reading.label
            align = _Aligner(reading.text, target.text)
            for sel in sels:
                landing = target.land(sel, reading, align, by_text)
                where = f"source '{label}': selection {sel.start}-{sel.end}"
                if landing.problem:
                    problems.append(f"{where}: {landing.problem}; skipped.")
                    continue
                if landing.partial:
                    problems.append(f"{where} ('{_short(landing.text)}') does not start and end on fragment "
                                    "boundaries; imported as a coding of "
                                    + ", ".join(f["fragment_id"] for f in landing.fragments) + ".")
                for coding in sel.element.iter(_q(NS_PROJECT, "Coding")):
                    ref = coding.find(_q(NS_PROJECT, "CodeRef"))
                    target_code = code_map.get(ref.get("targetGUID")) if ref is not None else None
                    if target_code is None:
                        continue
                    coder = (users.get(coding.get("creatingUser")) or users.get(sel.element.get("creatingUser"))
                             or "import")
                    if coder == MACHINE_USER and not include_machine:
                        n_machine += 1
                        continue
                    for f in landing.fragments:
                        codes = lines.setdefault((doc, f["fragment_id"], coder), {})
                        if target_code[0] not in codes or target_code[1]:
                            codes[target_code[0]] = target_code[1]
                        frag_text[f["fragment_id"]] = (doc, f["text"])
                    n_codings += 1
    if n_machine:
        problems.append(f"{n_machine} codings by '{MACHINE_USER}' (machine proposals nobody reviewed) are not "
                        "imported, so the classifier does not learn its own output; --include-machine imports them.")
    rows = []
    for (doc, fid, coder), codes in sorted(lines.items()):
        rows.append({"doc_id": doc, "text": frag_text[fid][1], "coder": coder,
                     "codes": [{"code": c, **({"valence": v} if v else {})} for c, v in sorted(codes.items())]})
    if rows:   # nothing to import: no empty annotation file
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "x", encoding="utf-8", newline="\n") as handle:   # "x": never overwrite
            handle.write("".join(dumps(r) + "\n" for r in rows))
    return ImportResult(out, len(rows), n_codings, matched, problems, chosen, n_machine, reading_of)


def _overlap(s: int, e: int, fs: int, fe: int) -> bool:
    """A selection codes a fragment when it covers at least half of it or lies within it."""
    inter = min(e, fe) - max(s, fs)
    if inter <= 0:
        return False
    return inter * 2 >= (fe - fs) or inter == (e - s)


_VALENCE_NAME = re.compile(r"^(?P<code>.+?)\s*[·:/-]\s*(?P<valence>" + "|".join(VALENCES) + r")$")


def _map_codes(proj: ET.Element, codebook: Any, problems: list[str]) -> dict[str, tuple[str, str | None]]:
    """GUID of each code of the file -> (codebook code, valence); by id, else by label.

    A valence is read from a name ``<code> · <valence>`` (our export) or from a child code named just
    ``<valence>`` under a valenced code (older exports and hand-made codebooks).
    """
    known = set(codebook.code_ids)
    valenced = valenced_codes(codebook)
    by_label = {c.label.lower(): c.id for c in codebook.codes}
    out: dict[str, tuple[str, str | None]] = {}

    def resolve(name: str) -> str | None:
        return name if name in known else by_label.get(name.lower())

    def walk(el: ET.Element, parent: tuple[str, str | None] | None) -> None:
        for code in el.findall(_q(NS_PROJECT, "Code")):
            name = (code.get("name") or "").strip()
            target: tuple[str, str | None] | None = None
            m = _VALENCE_NAME.match(name)
            if resolve(name):
                target = (resolve(name), None)
            elif m and resolve(m["code"]) in valenced:
                target = (resolve(m["code"]), m["valence"])
            elif parent and parent[0] in valenced and name in VALENCES:
                target = (parent[0], name)
            if target is not None:
                out[code.get("guid")] = target
            walk(code, target)

    codes_el = proj.find(f"{_q(NS_PROJECT, 'CodeBook')}/{_q(NS_PROJECT, 'Codes')}")
    if codes_el is not None:
        walk(codes_el, None)
    used = {ref.get("targetGUID") for ref in proj.iter(_q(NS_PROJECT, "CodeRef"))}
    names = {c.get("guid"): c.get("name") for c in proj.iter(_q(NS_PROJECT, "Code"))}
    for g in sorted(used - set(out), key=lambda g: names.get(g) or ""):
        problems.append(f"code '{names.get(g, g)}' is not in the codebook (by id or label); its codings are "
                        "not imported. Rename it to a code id of codebook/codebook.yaml to import it.")
    return out


def read_project(path: str | Path) -> ET.Element:
    """The parsed project.qde of a .qdpx (for checks and tests)."""
    with zipfile.ZipFile(path) as zf:
        return ET.fromstring(zf.read("project.qde"))
