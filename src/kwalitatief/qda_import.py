"""``kwal import qdpx``: the codings of another tool's REFI-QDA project become annotations (training data).

Sources are matched to corpus documents by their text (pseudonymised or original, up to whitespace); the
positions are read as :mod:`kwalitatief.qda_positions` decides; codes by id, label or ``<code> · <valence>``;
codings by ``kwalitatief (machine)`` are skipped unless asked. The result goes to
``codebook/annotations/imported_<name>.jsonl``, never overwriting a file.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from .qda import MACHINE_USER, NS_PROJECT, VALENCES, QdaError, qname, valenced_codes
from .qda_positions import Aligner, Selection, Target, choose_reading, norm_space, short


def _read_source_text(zf: zipfile.ZipFile, el: ET.Element) -> str | None:
    """The source's text as stored (line ends and a byte order mark kept: :func:`readings` decides)."""
    content = el.find(qname(NS_PROJECT, "PlainTextContent"))
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


def _selections(src: ET.Element, label: str, problems: list[str]) -> list[Selection]:
    out = []
    for sel in src.iter(qname(NS_PROJECT, "PlainTextSelection")):
        try:
            s, e = int(sel.get("startPosition", "")), int(sel.get("endPosition", ""))
        except ValueError:
            problems.append(f"source '{label}': selection '{sel.get('name') or sel.get('guid')}' has no valid "
                            "startPosition/endPosition; skipped.")
            continue
        out.append(Selection(sel.get("name") or "", s, e, sel))
    return out


def import_qdpx(in_path: str | Path, root: str | Path = ".", params: dict[str, Any] | None = None,
                name: str | None = None, include_machine: bool = False) -> ImportResult:
    """Turn the codings of a REFI-QDA project into annotations of the matching corpus documents.

    Codings by the user ``kwalitatief (machine)`` (our own unreviewed proposals) are skipped unless
    ``include_machine``: the classifier must not learn its own output.
    """
    from . import paths
    from .classifier.annotations import original_offset
    from .classify import codebook_path
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
        if proj.tag != qname(NS_PROJECT, "Project"):
            raise QdaError(f"{in_path}: project.qde has root {proj.tag}, expected Project in {NS_PROJECT}.")
        problems: list[str] = []
        users = {u.get("guid"): u.get("name") or u.get("id") or "onbekend"
                 for u in proj.iter(qname(NS_PROJECT, "User"))}
        code_map = _map_codes(proj, codebook, problems)
        # corpus documents: pseudonymised texts and (when available) the originals
        pseudo: dict[str, dict[str, Any]] = {p.stem: read_json(p) for p in
                                             sorted((root / paths.PSEUDONYMISED_DIR).glob("*.json"))}
        originals = {doc: read_json(root / paths.EXTRACTED_DIR / f"{doc}.json")["text"] for doc in pseudo
                     if (root / paths.EXTRACTED_DIR / f"{doc}.json").exists()}
        by_norm_pseudo = {norm_space(d["text"]): doc for doc, d in pseudo.items()}
        by_norm_orig = {norm_space(t): doc for doc, t in originals.items()}
        frags_by_doc: dict[str, list[dict[str, Any]]] = {}
        for f in read_jsonl(root / paths.FRAGMENTS):
            frags_by_doc.setdefault(f["doc_id"], []).append(f)
        lines: dict[tuple[str, str, str], dict[str, str | None]] = {}
        frag_text: dict[str, tuple[str, str]] = {}
        matched: list[str] = []
        chosen: list[str] = []
        reading_of: dict[str, str] = {}
        n_codings = n_machine = 0
        for src in proj.iter(qname(NS_PROJECT, "TextSource")):
            label = src.get("name") or src.get("guid")
            stored = _read_source_text(zf, src)
            if stored is None:
                problems.append(f"source '{label}': its text is not in the file (only internal sources "
                                "are read); skipped.")
                continue
            key = norm_space(stored.lstrip("\ufeff"))
            if key in by_norm_pseudo:
                doc = by_norm_pseudo[key]
                target = Target(doc, pseudo[doc]["text"], [(f, f["start"], f["end"]) for f in frags_by_doc.get(doc, [])])
            elif key in by_norm_orig:
                doc = by_norm_orig[key]
                reps = sorted(pseudo[doc].get("replacements") or [], key=lambda r: r["start"])
                target = Target(doc, originals[doc], [(f, original_offset(reps, f["start"]),
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
            align = Aligner(reading.text, target.text)
            for sel in sels:
                landing = target.land(sel, reading, align, by_text)
                where = f"source '{label}': selection {sel.start}-{sel.end}"
                if landing.problem:
                    problems.append(f"{where}: {landing.problem}; skipped.")
                    continue
                if landing.partial:
                    problems.append(f"{where} ('{short(landing.text)}') does not start and end on fragment "
                                    "boundaries; imported as a coding of "
                                    + ", ".join(f["fragment_id"] for f in landing.fragments) + ".")
                for coding in sel.element.iter(qname(NS_PROJECT, "Coding")):
                    ref = coding.find(qname(NS_PROJECT, "CodeRef"))
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
        for code in el.findall(qname(NS_PROJECT, "Code")):
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

    codes_el = proj.find(f"{qname(NS_PROJECT, 'CodeBook')}/{qname(NS_PROJECT, 'Codes')}")
    if codes_el is not None:
        walk(codes_el, None)
    used = {ref.get("targetGUID") for ref in proj.iter(qname(NS_PROJECT, "CodeRef"))}
    names = {c.get("guid"): c.get("name") for c in proj.iter(qname(NS_PROJECT, "Code"))}
    for g in sorted(used - set(out), key=lambda g: names.get(g) or ""):
        problems.append(f"code '{names.get(g, g)}' is not in the codebook (by id or label); its codings are "
                        "not imported. Rename it to a code id of codebook/codebook.yaml to import it.")
    return out
