"""Exchange with QDA software (ATLAS.ti, MAXQDA, NVivo, QualCoder ...) through the REFI-QDA standard.

* :func:`export_qdpx`: a REFI-QDA project (``.qdpx``: a zip with ``project.qde`` and ``sources/<guid>.txt``):
  users (the reviewers and the machine), the codebook with colours (categories as non-codable parent
  codes; each code with valence has the children positief / negatief / gemengd for the valence), every document
  as a text source with its PSEUDONYMISED text, and the reviewed codings (accepted, added, valence changed)
  as ``PlainTextSelection`` elements at the fragment's character positions. Unreviewed machine codings only
  with ``include_unreviewed``.
* :func:`export_qdc`: the codebook alone (``.qdc``, namespace ``urn:QDA-XML:codebook:1.0``).
* :func:`import_qdpx`: the codings of a project from another tool become annotations (training data) in
  ``codebook/annotations/imported_<name>.jsonl`` when their sources match corpus documents (same text,
  pseudonymised or original, up to whitespace). An existing file is never overwritten.

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


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _codes_element(parent: ET.Element, ns: str, codebook: Any) -> dict[tuple[str, str | None], str]:
    """Append <Codes> to ``parent``; returns (code, valence) -> GUID."""
    codes_el = ET.SubElement(parent, _q(ns, "Codes"))
    colours = code_colours(codebook)
    refs: dict[tuple[str, str | None], str] = {}
    categories: dict[str, ET.Element] = {}
    for code in codebook.codes:
        cat = categories.get(code.category)
        if cat is None:
            label = codebook.categories.get(code.category) or code.category
            cat = ET.SubElement(codes_el, _q(ns, "Code"), {
                "guid": guid("category", code.category), "name": code.category, "isCodable": "false",
                "color": category_colour(codebook, code.category)})
            ET.SubElement(cat, _q(ns, "Description")).text = f"{label} (categorie van het codeboek)"
            categories[code.category] = cat
        el = ET.SubElement(cat, _q(ns, "Code"), {"guid": guid("code", code.id), "name": code.id,
                                                 "isCodable": "true", "color": colours[code.id]})
        description = f"{code.label}. {code.definition}".strip()
        if code.include:
            description += "\nWel: " + "; ".join(code.include)
        if code.exclude:
            description += "\nNiet: " + "; ".join(code.exclude)
        ET.SubElement(el, _q(ns, "Description")).text = description
        refs[(code.id, None)] = guid("code", code.id)
        if codebook.has_valence(code.id):
            for valence in VALENCES:
                child = ET.SubElement(el, _q(ns, "Code"), {
                    "guid": guid("code", code.id, valence), "name": valence, "isCodable": "true",
                    "color": VALENCE_COLOURS[valence]})
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
class ProjectData:
    """What a project export contains (read from the pipeline's artefacts)."""

    codebook: Any
    documents: dict[str, str]                       # doc_id -> pseudonymised text
    fragments: list[dict[str, Any]]
    codings: list[dict[str, Any]]                   # merged codings with the current decisions applied
    memos: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    times: dict[tuple[str, str], str] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)


def load_project(root: str | Path = ".", params: dict[str, Any] | None = None) -> ProjectData:
    """The artefacts an export needs: codebook, pseudonymised texts, fragments and reviewed codings."""
    from . import paths
    from .classify import codebook_path
    from .codebook import CodebookError, load_codebook
    from .jsonio import read_json, read_jsonl
    from .review import apply_decisions, effective_decisions, read_decisions

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
    codings, more = apply_decisions(read_jsonl(root / paths.CODINGS), fragments, decisions, codebook.code_ids)
    data = ProjectData(codebook, documents, fragments, codings, problems=problems + more)
    for key, d in effective_decisions(decisions).items():
        data.times[key] = d.time
    for d in decisions:
        if d.memo:
            data.memos.setdefault((d.fragment_id, d.code), []).append(f"{d.reviewer}: {d.memo}")
    return data


def project_xml(data: ProjectData, include_unreviewed: bool = False, name: str = "kwalitatief"
                ) -> tuple[bytes, dict[str, str], dict[str, int]]:
    """project.qde, the source files (zip path -> text) and counts."""
    ET.register_namespace("", NS_PROJECT)
    keep = [c for c in data.codings if c.get("status") in REVIEWED
            or (include_unreviewed and c.get("status") == "unreviewed")]
    users = sorted({c["reviewer"] for c in keep if c.get("reviewer")})
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
    by_fragment: dict[str, list[dict[str, Any]]] = {}
    for c in keep:
        by_fragment.setdefault(c["fragment_id"], []).append(c)
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
            rows = sorted(by_fragment[fid], key=lambda c: c["code"])
            sel = ET.SubElement(src, _q(NS_PROJECT, "PlainTextSelection"), {
                "guid": guid("selection", fid), "name": fid, "startPosition": str(frag["start"]),
                "endPosition": str(frag["end"]), "creatingUser": user_guid[MACHINE_USER]})
            notes = [f"fragment {fid}"]
            for c in rows:
                status = c.get("status")
                who = c.get("reviewer") or "machine"
                notes.append(f"{c['code']}" + (f" ({c['valence']})" if c.get("valence") else "")
                             + f": {status}, {who}, bron {c.get('sources')}"
                             + (f", score {c['score']:.2f}" if isinstance(c.get("score"), (int, float)) else ""))
                notes += [f"  memo {m}" for m in data.memos.get((fid, c["code"]), [])]
            ET.SubElement(sel, _q(NS_PROJECT, "Description")).text = "\n".join(notes)
            for c in rows:
                ref = refs.get((c["code"], c.get("valence"))) \
                    or refs.get((c["code"], None))
                if ref is None:
                    continue
                attrs = {"guid": guid("coding", fid, c["code"]),
                         "creatingUser": user_guid.get(c.get("reviewer") or MACHINE_USER, user_guid[MACHINE_USER])}
                when = data.times.get((fid, c["code"]))
                if when and c.get("reviewer"):
                    attrs["creationDateTime"] = when
                coding = ET.SubElement(sel, _q(NS_PROJECT, "Coding"), attrs)
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


def _read_source_text(zf: zipfile.ZipFile, el: ET.Element, where: str) -> str | None:
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
        return zf.read(real).decode("utf-8-sig").replace("\r\n", "\n")
    return None


@dataclass
class ImportResult:
    path: Path
    n_lines: int
    n_codings: int
    matched_sources: list[str]
    problems: list[str]


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")
    return cleaned or "project"


def import_qdpx(in_path: str | Path, root: str | Path = ".", params: dict[str, Any] | None = None,
                name: str | None = None) -> ImportResult:
    """Turn the codings of a REFI-QDA project into annotations of the matching corpus documents."""
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
        if "project.qde" not in zf.namelist():
            raise QdaError(f"{in_path}: has no project.qde; is it a REFI-QDA project (.qdpx)?")
        try:
            proj = ET.fromstring(zf.read("project.qde"))
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
        n_codings = 0
        for src in proj.iter(_q(NS_PROJECT, "TextSource")):
            label = src.get("name") or src.get("guid")
            text = _read_source_text(zf, src, str(in_path))
            if text is None:
                problems.append(f"source '{label}': its text is not in the file (only internal sources "
                                "are read); skipped.")
                continue
            key = _norm(text)
            if key in by_norm_pseudo:
                doc = by_norm_pseudo[key]
                align = _Aligner(text, pseudo[doc]["text"])
                spans = [(f, f["start"], f["end"]) for f in frags_by_doc.get(doc, [])]
            elif key in by_norm_orig:
                doc = by_norm_orig[key]
                align = _Aligner(text, originals[doc])
                reps = sorted(pseudo[doc].get("replacements") or [], key=lambda r: r["start"])
                spans = [(f, original_offset(reps, f["start"]), original_offset(reps, f["end"]))
                         for f in frags_by_doc.get(doc, [])]
            else:
                problems.append(f"source '{label}': its text matches no corpus document; its codings are "
                                "not imported.")
                continue
            matched.append(f"{label} -> {doc}")
            for sel in src.iter(_q(NS_PROJECT, "PlainTextSelection")):
                try:
                    s, e = int(sel.get("startPosition", "")), int(sel.get("endPosition", ""))
                except ValueError:
                    problems.append(f"source '{label}': a selection without valid positions; skipped.")
                    continue
                s, e = align(s), align(e, end=True)
                hits = [f for f, fs, fe in spans if _overlap(s, e, fs, fe)]
                if not hits:
                    problems.append(f"source '{label}': selection {s}-{e} covers no fragment; skipped.")
                    continue
                for coding in sel.iter(_q(NS_PROJECT, "Coding")):
                    ref = coding.find(_q(NS_PROJECT, "CodeRef"))
                    target = code_map.get(ref.get("targetGUID")) if ref is not None else None
                    if target is None:
                        continue
                    coder = users.get(coding.get("creatingUser")) or users.get(sel.get("creatingUser")) or "import"
                    for f in hits:
                        codes = lines.setdefault((doc, f["fragment_id"], coder), {})
                        if target[0] not in codes or target[1]:
                            codes[target[0]] = target[1]
                        frag_text[f["fragment_id"]] = (doc, f["text"])
                    n_codings += 1
    rows = []
    for (doc, fid, coder), codes in sorted(lines.items()):
        rows.append({"doc_id": doc, "text": frag_text[fid][1], "coder": coder,
                     "codes": [{"code": c, **({"valence": v} if v else {})} for c, v in sorted(codes.items())]})
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "x", encoding="utf-8", newline="\n") as handle:   # "x": never overwrite
        handle.write("".join(dumps(r) + "\n" for r in rows))
    return ImportResult(out, len(rows), n_codings, matched, problems)


def _overlap(s: int, e: int, fs: int, fe: int) -> bool:
    """A selection codes a fragment when it covers at least half of it or lies within it."""
    inter = min(e, fe) - max(s, fs)
    if inter <= 0:
        return False
    return inter * 2 >= (fe - fs) or inter == (e - s)


def _map_codes(proj: ET.Element, codebook: Any, problems: list[str]) -> dict[str, tuple[str, str | None]]:
    """GUID of each code of the file -> (codebook code, valence); by id, else by label."""
    known = set(codebook.code_ids)
    by_label = {c.label.lower(): c.id for c in codebook.codes}
    out: dict[str, tuple[str, str | None]] = {}

    def walk(el: ET.Element, parent: tuple[str, str | None] | None) -> None:
        for code in el.findall(_q(NS_PROJECT, "Code")):
            name = (code.get("name") or "").strip()
            target: tuple[str, str | None] | None = None
            if name in known:
                target = (name, None)
            elif name.lower() in by_label:
                target = (by_label[name.lower()], None)
            elif parent and codebook.has_valence(parent[0]) and name in VALENCES:
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
