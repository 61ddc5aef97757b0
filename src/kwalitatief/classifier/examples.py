"""Labelled examples: fragments with the codes a researcher gave them (annotations, review decisions)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..jsonio import dumps
from .settings import VALENCES, problem

# a pseudonym tag such as [PERSOON-3]
TAG = re.compile(r"\[[A-Z][A-Z_]*(?:-\d+)?\]")


@dataclass
class Annotation:
    """One line of an annotation file: a fragment's text with the codes a researcher gave it."""

    doc_id: str
    text: str
    codes: dict[str, str | None]      # code -> valence (codes with valence) or None
    coder: str | None
    origin: str                       # "<file>:<line>"


@dataclass
class Example:
    """A labelled fragment. ``labels`` maps a code to True/False; a code not in it is unknown."""

    fragment_id: str
    doc_id: str
    text: str
    lemmas: str
    labels: dict[str, bool]
    valences: dict[str, str] = field(default_factory=dict)   # code with valence -> valence, where known
    origins: list[str] = field(default_factory=list)

    def positives(self) -> list[str]:
        return sorted(code for code, value in self.labels.items() if value)


@dataclass
class LabelRow:
    """One extra label, e.g. from a review decision: fragment ``fragment_id`` has (or lacks) ``code``."""

    fragment_id: str
    code: str
    present: bool
    valence: str | None = None
    origin: str = "review"


def normalise_text(text: str) -> str:
    """Whitespace-normalised, NFC text (the matching key of an annotation)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def loose_key(text: str) -> str:
    """Only lower-case letters and digits: robust to quotes, dashes and hyphenation differences."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).lower() if ch.isalnum())



def build_examples(pairs: Sequence[tuple[Annotation, dict[str, Any]]], codes: Sequence[str],
                   fragments: Sequence[dict[str, Any]] = (), extra: Sequence[LabelRow] = ()
                   ) -> tuple[list[Example], list[dict[str, Any]]]:
    """Labelled examples from matched annotations plus extra label rows (e.g. review decisions).

    An annotation labels every code of the codebook (absent codes are negatives). Where two annotations of
    the same fragment (two coders) disagree on a code, that code is unknown for the fragment (reported).
    An extra label overrides the annotation for its (fragment, code) and may label fragments nobody
    annotated (other codes stay unknown).
    """
    problems: list[dict[str, Any]] = []
    examples: dict[str, Example] = {}
    for ann, frag in pairs:
        fid = frag["fragment_id"]
        labels = {code: code in ann.codes for code in codes}
        valences = {c: v for c, v in ann.codes.items() if v}
        if fid in examples:
            previous = examples[fid]
            contested = sorted(c for c in codes if c in previous.labels and previous.labels[c] != labels[c])
            for code in contested:
                del previous.labels[code]
            for code in sorted(set(previous.valences) | set(valences)):
                if previous.valences.get(code) != valences.get(code) and previous.labels.get(code):
                    previous.valences.pop(code, None)
                    contested.append(f"{code} (valence)")
            if contested:
                problems.append(problem("warning", f"{ann.origin}: fragment {fid} is also annotated at "
                                                   f"{previous.origins[0]} and the coders disagree on "
                                                   f"{', '.join(contested)}; those are left out of training and "
                                                   "evaluation for this fragment until the disagreement is "
                                                   "resolved (edit an annotation or review the fragment).",
                                        ann.doc_id, {"fragment_id": fid, "codes": contested}))
            previous.origins.append(ann.origin)
            continue
        examples[fid] = Example(fid, frag["doc_id"], frag["text"], frag.get("lemmas") or "", labels, valences,
                                [ann.origin])
    by_id = {f["fragment_id"]: f for f in fragments}
    known = set(codes)
    for row in extra:
        if row.code not in known:
            problems.append(problem("warning", f"{row.origin}: code '{row.code}' is not in the codebook; the "
                                               "label is not used for training."))
            continue
        example = examples.get(row.fragment_id)
        if example is None:
            frag = by_id.get(row.fragment_id)
            if frag is None:
                problems.append(problem("warning", f"{row.origin}: fragment {row.fragment_id} no longer exists "
                                                   "(its document changed); the label is not used for training."))
                continue
            example = examples[row.fragment_id] = Example(row.fragment_id, frag["doc_id"], frag["text"],
                                                          frag.get("lemmas") or "", {}, {}, [])
        example.labels[row.code] = row.present
        if row.present and row.valence in VALENCES:
            example.valences[row.code] = row.valence
        elif not row.present:
            example.valences.pop(row.code, None)
        example.origins.append(row.origin)
    ordered = [examples[k] for k in sorted(examples)]
    return ordered, problems


def training_data_hash(examples: Sequence[Example]) -> str:
    """A content hash of the labelled training data (text, labels and valences)."""
    digest = hashlib.sha256()
    for ex in sorted(examples, key=lambda e: e.fragment_id):
        digest.update(dumps([ex.fragment_id, normalise_text(ex.text), ex.lemmas, sorted(ex.labels.items()),
                             sorted(ex.valences.items())]).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()[:16]


def fragment_example(frag: dict[str, Any]) -> Example:
    """An unlabelled example of a fragment row (pipeline fragment, or text + tokens from code-file)."""
    lemmas = frag.get("lemmas")
    if lemmas is None:
        lemmas = " ".join(lemma for _, _, lemma in frag.get("tokens") or [] if str(lemma).strip())
    return Example(frag.get("fragment_id") or "", frag.get("doc_id") or "", frag["text"], lemmas, {})


STANDALONE_PREFIX = "standalone-"


def is_standalone(example: Example) -> bool:
    """Whether an example is a free-standing text (codebook, ``codebook/training/``), not a corpus fragment."""
    return example.fragment_id.startswith(STANDALONE_PREFIX)
