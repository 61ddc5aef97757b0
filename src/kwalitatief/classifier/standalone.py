"""Training examples that are not fragments of the corpus: the codebook's own knowledge (definitions,
inclusion and exclusion criteria, examples) and free-standing annotated fragments in
``codebook/training/*.jsonl`` (lines ``{"text": ..., "codes": [{"code": ..., "valence": ...}], "coder": ...}``),
written in other registers and wording than the corpus.

They are tokenised and rule-coded by the same path as the corpus (so their lemmas and rule hits are
features like any fragment's) and only ever join the training data: cross-validation tests on corpus
annotations alone.
"""

from __future__ import annotations

import glob
import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .annotations import json_lines, parse_codes
from .examples import STANDALONE_PREFIX, Example
from .settings import problem


@dataclass
class StandaloneText:
    """A text with labels: code -> True/False (a code not in it is unknown), valences of codes with valence."""

    text: str
    labels: dict[str, bool]
    valences: dict[str, str]
    origin: str


def codebook_texts(codebook: Any, parts: Sequence[str] = ("examples", "definition", "include", "exclude")
                   ) -> list[StandaloneText]:
    """What the codebook says about each code, as labelled texts.

    ``examples``, the ``definition`` and the ``include`` criteria are positives of their code and negatives
    of the other codes of the codebook (a codebook example is written to show one code); ``exclude``
    criteria are negatives of their code only (they usually describe another code).
    """
    codes = list(codebook.code_ids)
    out: list[StandaloneText] = []
    for code in codebook.codes:
        where = f"{codebook.path}: {code.id}"
        positives = []
        if "examples" in parts:
            positives += [(t, "examples") for t in code.examples]
        if "definition" in parts and code.definition:
            positives.append((code.definition, "definition"))
        if "include" in parts:
            positives += [(t, "include") for t in code.include]
        for text, part in positives:
            labels = {c: c == code.id for c in codes}
            out.append(StandaloneText(text, labels, {}, f"{where} ({part})"))
        if "exclude" in parts:
            out += [StandaloneText(t, {code.id: False}, {}, f"{where} (exclude)") for t in code.exclude]
    return out


def load_training_texts(directory: str | Path, codes: Sequence[str], valenced: Collection[str] | None = None
                        ) -> tuple[list[StandaloneText], list[dict[str, Any]]]:
    """The free-standing annotated fragments of ``directory/*.jsonl`` (absent directory: none).

    Every code of the codebook is labelled (absent codes are negatives). A line that cannot be used is
    reported with its file and line and left out.
    """
    known = set(codes)
    out: list[StandaloneText] = []
    problems: list[dict[str, Any]] = []
    for path in sorted(glob.glob(str(Path(directory) / "*.jsonl"))):
        for where, row, error in json_lines(path):
            if error:
                problems.append(problem("error", f"{where}: {error}; fix the line, it is not used for training."))
                continue
            if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not row["text"].strip() \
                    or not isinstance(row.get("codes"), list):
                problems.append(problem("error", f"{where}: expected an object with a non-empty 'text' and a "
                                                 "'codes' list; the line is not used for training."))
                continue
            parsed, issues = parse_codes(row["codes"], where, known, valenced=valenced)
            problems.extend(issues)
            if parsed is None:
                continue
            out.append(StandaloneText(row["text"], {c: c in parsed for c in codes},
                                      {c: v for c, v in parsed.items() if v}, where))
    return out, problems


def standalone_id(text: str) -> str:
    """A stable id for a free-standing text (never the id of a corpus fragment)."""
    return STANDALONE_PREFIX + hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:16]


def standalone_examples(texts: Sequence[StandaloneText], codebook: Any, nlp: Any
                        ) -> tuple[list[Example], dict[str, set[str]]]:
    """Examples (lemmas by ``nlp``) and their rule hits (by the codebook's rules), as corpus fragments get
    them. The same text given twice is one example whose labels are combined (a conflict: unknown)."""
    from ..coding import code_fragments, tokenise

    merged: dict[str, Example] = {}
    contested: dict[str, set[str]] = {}
    rows = tokenise([t.text for t in texts], nlp)
    coded = code_fragments(rows, codebook, nlp)
    hits: dict[str, set[str]] = {}
    for item, row, codings in zip(texts, rows, coded):
        fid = standalone_id(item.text)
        lemmas = " ".join(lemma for _, _, lemma in row["tokens"] if str(lemma).strip())
        example = merged.get(fid)
        if example is None:
            merged[fid] = Example(fid, "", item.text, lemmas, dict(item.labels), dict(item.valences), [item.origin])
            hits[fid] = {c["code"] for c in codings}
            contested[fid] = set()
            continue
        for code, value in item.labels.items():
            if code in contested[fid]:
                continue
            if code in example.labels and example.labels[code] != value:
                del example.labels[code]
                example.valences.pop(code, None)
                contested[fid].add(code)
            elif code not in example.labels:
                example.labels[code] = value
        example.origins.append(item.origin)
    return [merged[k] for k in sorted(merged)], hits
