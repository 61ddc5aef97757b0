"""Manual coding counts: a researcher's annotation (``codebook/annotations/*.jsonl``) is a coding of its fragment.

An annotation codes its fragment completely: the codes it gives are there (source ``annotation``, status
``annotated``, the coder in ``reviewer``), the codes it does not give are not. Where the machine coded an
annotated fragment, the annotation wins, code by code. Where two coders annotated the same fragment and
disagree on a code, neither wins for that code and the machine's coding stays (the disagreement is reported
by the classify stage). Review decisions are applied after this and win over annotations, being later
human decisions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

SOURCE = "annotation"
STATUS = "annotated"


@dataclass
class ManualCoding:
    """What the annotations of one fragment say, code by code."""

    coders: list[str] = field(default_factory=list)
    present: dict[str, str | None] = field(default_factory=dict)   # code -> valence
    absent: set[str] = field(default_factory=set)


def manual_codings(pairs: Iterable[tuple[Any, dict[str, Any]]], codes: Sequence[str]) -> dict[str, ManualCoding]:
    """Per fragment id: the codes all its annotations give (present), and those none gives (absent).

    ``pairs`` are (annotation, fragment) as :func:`kwalitatief.classifier.annotations.match_annotations` returns them; an
    annotation has ``codes`` (code -> valence) and ``coder``.
    """
    given: dict[str, list[Any]] = {}
    for ann, frag in pairs:
        given.setdefault(frag["fragment_id"], []).append(ann)
    out: dict[str, ManualCoding] = {}
    for fid, annotations in given.items():
        annotations = sorted(annotations, key=lambda a: a.origin)
        manual = ManualCoding(coders=sorted({a.coder or "onbekend" for a in annotations}))
        for code in codes:
            votes = [code in a.codes for a in annotations]
            if all(votes):
                valences = [a.codes[code] for a in annotations if a.codes.get(code)]
                manual.present[code] = valences[0] if len(set(valences)) == 1 else ("gemengd" if valences else None)
            elif not any(votes):
                manual.absent.add(code)
        out[fid] = manual
    return out


def apply_annotations(rows: Iterable[dict[str, Any]], manual: dict[str, ManualCoding],
                      codebook_version: str | None = None) -> list[dict[str, Any]]:
    """The merged codings with the annotations applied (the module docstring's rule), sorted by fragment, code."""
    out = []
    seen: set[tuple[str, str]] = set()
    for row in rows:
        m = manual.get(row["fragment_id"])
        code = row["code"]
        if m is None or (code not in m.present and code not in m.absent):
            out.append(row)
            continue
        if code in m.absent:
            continue
        seen.add((row["fragment_id"], code))
        out.append({**row, "sources": SOURCE, "status": STATUS, "reviewer": ", ".join(m.coders),
                    "valence": m.present[code] or row.get("valence")})
    for fid, m in manual.items():
        for code, valence in m.present.items():
            if (fid, code) not in seen:
                out.append({"fragment_id": fid, "code": code, "valence": valence, "sources": SOURCE,
                            "rule_id": None, "evidence": None, "start": None, "end": None, "score": None,
                            "status": STATUS, "reviewer": ", ".join(m.coders),
                            "codebook_version": codebook_version, "model_version": None})
    out.sort(key=lambda r: (r["fragment_id"], r["code"]))
    return out
