"""Text extraction: PDF (in :mod:`kwalitatief.pdf`), DOCX (python-docx) and TXT, and speaker turns in transcripts.

Every extractor returns an :class:`Extracted` document: the cleaned text, its blocks (paragraphs,
headings, table rows, turns' paragraphs) as character spans, the page of every character range, and
for transcripts the speaker turns. Nothing here writes files.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
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
    """One speaker turn of a transcript; ``start``/``end`` span its content (after the prefix)."""

    speaker: str
    role: str  # interviewer | respondent
    start: int
    end: int
    timestamp: str | None = None


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


# --------------------------------------------------------------------------------------------
# Plain text and DOCX
# --------------------------------------------------------------------------------------------

def decode_text(raw: bytes) -> tuple[str, str]:
    """Decode transcript bytes: UTF-8 (with or without BOM), else cp1252, else the best guess."""
    if not raw.strip():
        raise ExtractionError("the file is empty")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text, ("utf-8" if encoding == "utf-8-sig" else encoding)
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise ExtractionError("the encoding could not be detected; save the file as UTF-8")
    return str(best), best.encoding


def _text_paragraphs(text: str) -> list[str]:
    """Paragraphs of a plain text: blank lines separate; a speaker prefix also starts a new one."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        stripped = " ".join(line.split())
        if not stripped:
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        if current and _PREFIX.match(stripped):
            paragraphs.append(" ".join(current))
            current = []
        current.append(stripped)
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def docx_paragraphs(path: Path) -> list[tuple[str, str]]:
    """(kind, text) of every non-empty paragraph and table row of a DOCX, in document order."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several types for broken packages
        raise ExtractionError(f"not a readable DOCX file ({exc.__class__.__name__}: {exc})") from exc
    out: list[tuple[str, str]] = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = " ".join(Paragraph(child, document).text.split())
            if text:
                out.append(("paragraph", text))
        elif tag == "tbl":
            for row in Table(child, document).rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = " ".join(cell.text.split())
                    if value and (not cells or cells[-1] != value):  # merged cells repeat
                        cells.append(value)
                if cells:
                    out.append(("table", " | ".join(cells)))
    return out


# --------------------------------------------------------------------------------------------
# Transcripts: speaker turns
# --------------------------------------------------------------------------------------------

_TIMESTAMP = r"\[?(?P<ts>\d{1,2}:\d{2}(?::\d{2})?)\]?"
_PREFIX = re.compile(
    rf"^(?:{_TIMESTAMP}\s*)?(?P<label>[A-ZÀ-Ý][\w’'.\-]*(?:\s+[\w’'.\-]+){{0,4}})\s*"
    rf"(?:{_TIMESTAMP.replace('ts', 'ts2')}\s*)?:\s*(?P<rest>.*)$"
)
INTERVIEWER_LABELS = {"i", "int", "interviewer", "interviewster", "onderzoeker", "vraag", "v"}
RESPONDENT_LABELS = {"r", "resp", "respondent", "geïnterviewde", "antwoord", "a"}


def _label_role(label: str) -> str | None:
    key = label.lower().rstrip(".")
    if key in INTERVIEWER_LABELS:
        return "interviewer"
    if key in RESPONDENT_LABELS:
        return "respondent"
    return None


def _speaker_labels(paragraphs: list[str]) -> set[str]:
    """Labels that act as speakers: the standard ones, or a name that opens two or more paragraphs."""
    counts: dict[str, int] = {}
    for text in paragraphs:
        match = _PREFIX.match(text)
        if match:
            counts[match["label"]] = counts.get(match["label"], 0) + 1
    return {label for label, n in counts.items() if _label_role(label) or n >= 2}


def build_transcript(doc_id: str, paragraphs: list[str], source_type: str,
                     encoding: str | None = None) -> Extracted:
    """Assemble a transcript's text, blocks and turns from its paragraphs."""
    labels = _speaker_labels(paragraphs)
    if not labels:
        raise ExtractionError(
            "no speaker turns found; start every turn with a prefix such as 'I:', 'R:', "
            "'Interviewer:' or a name followed by ':'"
        )
    roles = {label: _label_role(label) for label in labels}
    _assign_roles_by_questions(paragraphs, roles)

    text_parts: list[str] = []
    blocks: list[Block] = []
    turns: list[Turn] = []
    offset = 0
    for para in paragraphs:
        if text_parts:
            text_parts.append("\n\n")
            offset += 2
        match = _PREFIX.match(para)
        if match and match["label"] in labels:
            content_start = offset + match.start("rest")
            turns.append(Turn(
                speaker=match["label"], role=roles[match["label"]] or "respondent",
                start=content_start, end=offset + len(para),
                timestamp=match["ts"] or match["ts2"],
            ))
            if match["rest"]:
                blocks.append(Block(content_start, offset + len(para), "turn", turn=len(turns) - 1))
        elif turns:
            turns[-1].end = offset + len(para)
            blocks.append(Block(offset, offset + len(para), "turn", turn=len(turns) - 1))
        else:
            blocks.append(Block(offset, offset + len(para), "preamble"))
        text_parts.append(para)
        offset += len(para)
    return Extracted(doc_id=doc_id, text="".join(text_parts), source_type=source_type,
                     blocks=blocks, turns=turns, encoding=encoding)


def _assign_roles_by_questions(paragraphs: list[str], roles: dict[str, str | None]) -> None:
    """Give named speakers a role: the one who asks most questions is the interviewer."""
    unknown = [label for label, role in roles.items() if role is None]
    if not unknown:
        return
    has_interviewer = "interviewer" in roles.values()
    question_share: dict[str, float] = {}
    for label in unknown:
        turns = [p for p in paragraphs if (m := _PREFIX.match(p)) and m["label"] == label]
        question_share[label] = sum(t.rstrip().endswith("?") for t in turns) / max(len(turns), 1)
    for label in unknown:
        if has_interviewer:
            roles[label] = "respondent"
        else:
            top = max(question_share, key=question_share.get)
            roles[label] = "interviewer" if label == top and len(unknown) > 1 else "respondent"


# --------------------------------------------------------------------------------------------
# Shared by the extractors
# --------------------------------------------------------------------------------------------

def _ends_sentence(text: str) -> bool:
    return text.rstrip().endswith((".", "!", "?", ":", ";", "”", "’", "\"", ")"))


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------

def _plain_document(doc_id: str, items: list[tuple[str, str]], source_type: str,
                    encoding: str | None = None) -> Extracted:
    text_parts: list[str] = []
    blocks: list[Block] = []
    offset = 0
    for kind, para in items:
        if text_parts:
            text_parts.append("\n\n")
            offset += 2
        if kind == "paragraph" and len(para) < 80 and not _ends_sentence(para):
            kind = "heading"
        blocks.append(Block(offset, offset + len(para), kind))
        text_parts.append(para)
        offset += len(para)
    return Extracted(doc_id=doc_id, text="".join(text_parts), source_type=source_type,
                     blocks=blocks, encoding=encoding)


def extract_document(doc_id: str, path: str | Path, doc_type: str) -> Extracted:
    """Extract one document by its file type; transcripts are parsed into speaker turns."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ExtractionError(f"file not found: {path}")
    if path.stat().st_size == 0:
        raise ExtractionError("the file is empty")
    if suffix == ".pdf":
        from .pdf import extract_pdf

        extracted = extract_pdf(doc_id, path)
        if doc_type == "transcript":
            paragraphs = [extracted.text[b.start:b.end] for b in extracted.blocks]
            extracted = build_transcript(doc_id, paragraphs, "pdf")
    elif suffix == ".docx":
        items = docx_paragraphs(path)
        if doc_type == "transcript":
            extracted = build_transcript(doc_id, [t for _, t in items], "docx")
        else:
            extracted = _plain_document(doc_id, items, "docx")
    elif suffix == ".txt":
        text, encoding = decode_text(path.read_bytes())
        paragraphs = _text_paragraphs(text)
        if doc_type == "transcript":
            extracted = build_transcript(doc_id, paragraphs, "txt", encoding)
        else:
            extracted = _plain_document(doc_id, [("paragraph", p) for p in paragraphs], "txt", encoding)
    else:
        raise ExtractionError(f"unsupported file type '{suffix}'; use PDF, DOCX or TXT")
    if not extracted.text.strip():
        raise ExtractionError("no text could be extracted; check the file opens and contains text")
    return extracted


# --------------------------------------------------------------------------------------------
# The corpus: every document, in parallel, cached by content
# --------------------------------------------------------------------------------------------

@dataclass
class CorpusExtraction:
    documents: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    cache_hits: int = 0
    cache_misses: int = 0


def _extract_job(job: tuple[str, str, str]) -> dict[str, Any]:
    doc_id, path, doc_type = job
    try:
        return {"ok": extract_document(doc_id, path, doc_type).to_dict()}
    except ExtractionError as exc:
        return {"error": str(exc)}
    except Exception as exc:  # an unexpected failure in one document must not lose the others
        return {"error": f"unexpected {exc.__class__.__name__}: {exc}; please report this document"}


def extract_corpus(register: Any, workers: int | None = 1, cache_dir: str | Path | None = None,
                   executor: str = "process") -> CorpusExtraction:
    """Extract all documents of a register; unreadable ones become problems, the rest go on."""
    import sys

    from .cache import DocumentCache, source_fingerprint
    from .config import file_sha256
    from . import pdf
    from .parallel import map_documents

    cache = DocumentCache(cache_dir, "extract")
    code = source_fingerprint(sys.modules[__name__], pdf)
    keys: dict[str, str] = {}
    done: dict[str, dict[str, Any]] = {}
    jobs: list[tuple[str, str, str]] = []
    for doc in register.documents:
        path = doc.source(register.corpus_dir)
        keys[doc.doc_id] = cache.key(file_sha256(path), doc.doc_id, doc.doc_type, code)
        hit = cache.get(keys[doc.doc_id])
        if hit is not None:
            done[doc.doc_id] = hit
        else:
            jobs.append((doc.doc_id, str(path), doc.doc_type))
    # a few long PDFs must not share one batch (a missing file is reported by _extract_job)
    sizes = [Path(path).stat().st_size if Path(path).is_file() else 0 for _, path, _ in jobs]
    for (doc_id, _, _), result in zip(jobs, map_documents(_extract_job, jobs, workers, executor, sizes)):
        cache.put(keys[doc_id], result)
        done[doc_id] = result

    documents, problems = [], []
    for doc in register.documents:
        result = done[doc.doc_id]
        if "ok" in result:
            documents.append(result["ok"])
        else:
            problems.append({"stage": "extract", "doc_id": doc.doc_id, "path": doc.path,
                             "severity": "error", "message": result["error"]})
    return CorpusExtraction(documents, problems, cache.hits, cache.misses)
