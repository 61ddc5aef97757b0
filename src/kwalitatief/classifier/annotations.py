"""Annotation files (``codebook/annotations/*.jsonl``): reading them and matching them to fragments."""

from __future__ import annotations

import glob
import json
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .examples import TAG, Annotation, loose_key, normalise_text
from .settings import VALENCES, problem


def load_annotations(directory: str | Path, codes: Sequence[str], valenced: Collection[str] | None = None
                     ) -> tuple[list[Annotation], list[dict[str, Any]]]:
    """All annotation files of ``directory`` (``*.jsonl``, sorted), validated against the codebook.

    A line that cannot be used (bad JSON, missing field, unknown code id) is reported as an error with its
    file and line and left out; a missing valence on a code with valence (``valenced``, from the codebook's
    categories; without it a given valence is taken as meant) is a warning (the code still counts).
    """
    known = set(codes)
    annotations: list[Annotation] = []
    problems: list[dict[str, Any]] = []
    files = sorted(glob.glob(str(Path(directory) / "*.jsonl")))
    if not files:
        problems.append(problem("warning", f"{directory}: no annotation files (*.jsonl); the classifier has "
                                           "no training data and every code falls back to the rules."))
    for path in files:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                ann, issues = _parse_annotation(line, where, known, valenced)
                problems.extend(issues)
                if ann is not None:
                    annotations.append(ann)
    return annotations, problems


def _parse_annotation(line: str, where: str, known: set[str], valenced: Collection[str] | None = None
                      ) -> tuple[Annotation | None, list[dict[str, Any]]]:
    issues: list[dict[str, Any]] = []
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, [problem("error", f"{where}: not valid JSON ({exc.msg} at column {exc.colno}); "
                                       "fix the line, it is not used for training.")]
    if not isinstance(row, dict):
        return None, [problem("error", f"{where}: expected a JSON object with doc_id, text, codes, coder.")]
    doc_id, text, codes = row.get("doc_id"), row.get("text"), row.get("codes")
    if not isinstance(doc_id, str) or not doc_id:
        return None, [problem("error", f"{where}: field 'doc_id' is missing or not a string.")]
    if not isinstance(text, str) or not text.strip():
        return None, [problem("error", f"{where}: field 'text' is missing or empty.", doc_id)]
    if not isinstance(codes, list):
        return None, [problem("error", f"{where}: field 'codes' must be a list (use [] for no code).", doc_id)]
    parsed, code_issues = parse_codes(codes, where, known, doc_id, valenced=valenced)
    if parsed is None:
        return None, code_issues
    issues.extend(code_issues)
    coder = row.get("coder")
    if not coder:
        issues.append(problem("warning", f"{where}: no 'coder' given.", doc_id))
    return Annotation(doc_id, text, parsed, coder if isinstance(coder, str) else None, where), issues



def json_lines(path: str | Path) -> Iterator[tuple[str, Any, str | None]]:
    """``(where, value, error)`` for each non-blank line of a JSON-lines file: ``where`` is ``file:line``,
    ``error`` says why the line is not valid JSON (then ``value`` is None)."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield f"{path}:{number}", json.loads(line), None
            except json.JSONDecodeError as exc:
                yield f"{path}:{number}", None, f"not valid JSON ({exc.msg} at column {exc.colno})"

def parse_codes(codes: list[Any], where: str, known: set[str], doc_id: str | None = None,
                consequence: str = "The line is not used for training.", valenced: Collection[str] | None = None
                ) -> tuple[dict[str, str | None] | None, list[dict[str, Any]]]:
    """The ``codes`` list of an annotation or gold line as {code: valence}; None when the line is unusable.

    An entry is ``{"code": ..., "valence": ...}`` or a bare code id. An unknown code id is an error (the
    line is unusable, ``consequence`` says what happens); a missing or wrong valence is a warning.
    """
    issues: list[dict[str, Any]] = []
    parsed: dict[str, str | None] = {}
    for item in codes:
        code = item.get("code") if isinstance(item, dict) else item if isinstance(item, str) else None
        if not isinstance(code, str):
            return None, [problem("error", f"{where}: every entry of 'codes' needs a 'code'.", doc_id)]
        if code not in known:
            return None, [problem("error", f"{where}: unknown code id '{code}' (not in the codebook); correct "
                                           "the id or add the code to codebook/codebook.yaml. "
                                           f"{consequence}", doc_id)]
        valence = item.get("valence") if isinstance(item, dict) else None
        if (code in valenced) if valenced is not None else (valence is not None):
            if valence not in VALENCES:
                issues.append(problem("warning", f"{where}: {code} has valence {valence!r}; expected one of "
                                                 f"{', '.join(VALENCES)}. The code is used, its valence is not.",
                                      doc_id))
                valence = None
        elif valence is not None:
            issues.append(problem("warning", f"{where}: {code} has no valence (its category declares none); its valence "
                                             "is ignored.",
                                  doc_id))
            valence = None
        parsed[code] = valence
    return parsed, issues


def original_offset(replacements: Sequence[dict[str, Any]], pos: int) -> int:
    """Map an offset in a pseudonymised text to the original text (``replacements`` sorted by start)."""
    shift = 0
    for rep in replacements:
        if rep["end"] <= pos:
            shift = rep["orig_end"] - rep["end"]
        elif rep["start"] < pos:          # inside a replacement: its end in the original
            return rep["orig_end"]
        else:
            break
    return pos + shift


def original_texts(fragments: Iterable[dict[str, Any]], pseudonymised_dir: str | Path,
                   extracted_dir: str | Path) -> dict[str, str]:
    """The original (un-pseudonymised) text of each fragment whose documents are available."""
    out: dict[str, str] = {}
    docs: dict[str, tuple[list[dict[str, Any]], str] | None] = {}
    for frag in fragments:
        doc_id = frag["doc_id"]
        if doc_id not in docs:
            pseudo = Path(pseudonymised_dir) / f"{doc_id}.json"
            orig = Path(extracted_dir) / f"{doc_id}.json"
            if pseudo.exists() and orig.exists():
                reps = json.loads(pseudo.read_text(encoding="utf-8")).get("replacements") or []
                text = json.loads(orig.read_text(encoding="utf-8"))["text"]
                docs[doc_id] = (sorted(reps, key=lambda r: r["start"]), text)
            else:
                docs[doc_id] = None
        entry = docs[doc_id]
        if entry is None:
            continue
        reps, text = entry
        out[frag["fragment_id"]] = text[original_offset(reps, frag["start"]):original_offset(reps, frag["end"])]
    return out


def _tag_pattern(text: str) -> re.Pattern[str] | None:
    """For a pseudonymised text with tags: a pattern over loose keys where each tag stands for a name."""
    pieces = TAG.split(text)
    if len(pieces) == 1:
        return None
    return re.compile("[a-z0-9]{1,80}?".join(re.escape(loose_key(p)) for p in pieces) + r"\Z")


def match_annotations(annotations: Sequence[Annotation], fragments: Sequence[dict[str, Any]],
                      originals: dict[str, str] | None = None,
                      redact: Callable[[str, str], str | None] | None = None,
                      ) -> tuple[list[tuple[Annotation, dict[str, Any]]], list[dict[str, Any]]]:
    """Pair each annotation with its fragment; report the ones that match none.

    An annotation may hold original names: a problem quotes its text as ``redact(text, doc_id)`` (the
    project's key, :class:`kwalitatief.keyscan.KeyIndex`), cut after that, never the original.

    Tried in order, within the annotation's document: the whitespace-normalised pseudonymised text, the
    original text (``originals``), the letters-and-digits key of either, and the pseudonymised text with
    every tag standing for any name.
    """
    originals = originals or {}
    by_doc: dict[str, list[dict[str, Any]]] = {}
    for frag in fragments:
        by_doc.setdefault(frag["doc_id"], []).append(frag)
    indexes: dict[str, tuple[dict[str, dict], dict[str, dict]]] = {}
    pairs: list[tuple[Annotation, dict[str, Any]]] = []
    problems: list[dict[str, Any]] = []
    for ann in annotations:
        frags = by_doc.get(ann.doc_id)
        if not frags:
            problems.append(problem("error", f"{ann.origin}: document '{ann.doc_id}' has no fragments (not in "
                                             "the corpus register, or it failed to extract); the annotation is "
                                             "not used for training.", ann.doc_id))
            continue
        if ann.doc_id not in indexes:
            exact: dict[str, dict] = {}
            loose: dict[str, dict] = {}
            for frag in frags:
                for text in (frag["text"], originals.get(frag["fragment_id"])):
                    if text:
                        exact.setdefault(normalise_text(text), frag)
                        loose.setdefault(loose_key(text), frag)
            indexes[ann.doc_id] = (exact, loose)
        exact, loose = indexes[ann.doc_id]
        key = loose_key(ann.text)
        frag = exact.get(normalise_text(ann.text)) or loose.get(key)
        if frag is None:
            for candidate in frags:
                pattern = _tag_pattern(candidate["text"])
                if pattern is not None and pattern.match(key):
                    frag = candidate
                    break
        if frag is None:
            snippet = normalise_text((redact or (lambda text, _: text))(ann.text, ann.doc_id) or "")[:80]
            problems.append(problem("error", f"{ann.origin}: no fragment of '{ann.doc_id}' has this text "
                                             f"(\"{snippet}…\"); the annotation is not used for training. Copy "
                                             "the paragraph exactly from the document, or remove the line.",
                                    ann.doc_id))
            continue
        pairs.append((ann, frag))
    return pairs, problems
