"""The extracted document: cleaned text, its blocks, pages and, for transcripts, the speaker turns.

Shared by the extractors (:mod:`kwalitatief.ingest`, :mod:`kwalitatief.transcripts`) and every stage that
reads ``outputs/private/extracted``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


class ExtractionError(Exception):
    """A document could not be read; the message says why and what to do."""


@dataclass
class Block:
    """A paragraph-like unit of the extracted text: ``text[start:end]``."""

    start: int
    end: int
    kind: str = "paragraph"  # paragraph | heading | table | preamble | turn
    page: int | None = None
    turn: int | None = None


@dataclass
class Turn:
    """One speaker turn of a transcript; ``start``/``end`` span its content (after the prefix).

    ``name`` is the person's name the label holds (``Marieke de Boer``; ``Bakker`` of ``Dokter Bakker``),
    None when the label is a role (``I``, ``Respondent 3``, ``Spreker 2``, ``Moeder``): only names are
    pseudonymised."""

    speaker: str
    role: str  # interviewer | respondent
    start: int
    end: int
    timestamp: str | None = None
    name: str | None = None


@dataclass
class Extracted:
    """A document's cleaned text with its structure and provenance."""

    doc_id: str
    text: str
    source_type: str
    blocks: list[Block] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    pages: list[list[int]] = field(default_factory=list)  # [start, end, page]
    n_pages: int | None = None
    encoding: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Extracted":
        """Rebuild from :meth:`to_dict` output; extra keys (e.g. ``replacements``) are ignored."""
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        data["blocks"] = [Block(**b) for b in data.get("blocks", [])]
        data["turns"] = [Turn(**t) for t in data.get("turns", [])]
        return cls(**data)

    def page_at(self, offset: int) -> int | None:
        """The page on which character ``offset`` lies (PDF only)."""
        for start, end, page in self.pages:
            if start <= offset < end:
                return page
        return None


def ends_sentence(text: str) -> bool:
    """Whether a line or paragraph ends like a sentence (so the next line starts a new paragraph)."""
    return text.rstrip().endswith((".", "!", "?", ":", ";", "”", "’", "\"", ")"))
