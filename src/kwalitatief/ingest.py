"""Text extraction: PDF (pypdfium2), DOCX (python-docx) and TXT, and speaker turns in transcripts.

Every extractor returns an :class:`Extracted` document: the cleaned text, its blocks (paragraphs,
headings, table rows, turns' paragraphs) as character spans, the page of every character range, and
for transcripts the speaker turns. Nothing here writes files.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
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
# PDF
# --------------------------------------------------------------------------------------------

@dataclass
class _Line:
    page: int
    x0: float
    x1: float
    top: float
    bottom: float
    text: str
    column: int = 0  # 0 single/spanning, 1 left, 2 right

    @property
    def height(self) -> float:
        return self.top - self.bottom


_LIGATURES = str.maketrans({"\ufb01": "fi", "\ufb02": "fl", "\ufb00": "ff", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\u00ad": "\x02", "\ufffe": "\x02"})
_PAGE_NUMBER = re.compile(r"^(pagina|page|blz\.?|p\.)?\s*#+(\s*(/|van|of)\s*#+)?$")
_HYPHEN_KEEP_NEXT = {"en", "of", "tot", "noch"}


def _page_lines(textpage: Any, width: float) -> list[tuple[float, float, float, float, str]]:
    """Text runs of a page as (x0, x1, bottom, top, text)."""
    runs = []
    for i in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(i)
        text = textpage.get_text_bounded(left, bottom, right, top)
        text = text.translate(_LIGATURES).replace("\r", "").replace("\n", " ")
        if text.strip():
            runs.append((left, right, bottom, top, text))
    return runs


def _group_lines(page: int, runs: list[tuple[float, float, float, float, str]], width: float) -> list[_Line]:
    """Join runs on the same baseline into lines, keeping the two sides of a column gutter apart."""
    mid = width / 2
    runs = sorted(runs, key=lambda r: (-round(r[2]), r[0]))
    lines: list[_Line] = []
    for x0, x1, bottom, top, text in runs:
        side = 1 if x1 <= mid + 2 else (2 if x0 >= mid - 2 else 0)
        for line in reversed(lines[-6:]):
            same_base = abs(line.bottom - bottom) < 2.5
            if same_base and (line.column == side or 0 in (line.column, side) and abs(line.x1 - x0) < 30):
                gap = x0 - line.x1
                sep = "" if gap < 1.5 or line.text.endswith(" ") else (" | " if gap > 24 else " ")
                line.text = line.text.rstrip() + sep + text.lstrip() if sep.strip() else line.text + sep + text
                line.x1 = max(line.x1, x1)
                line.top = max(line.top, top)
                line.column = line.column if line.column == side else 0
                break
        else:
            lines.append(_Line(page, x0, x1, top, bottom, text, side))
    for line in lines:
        line.text = " ".join(line.text.split(" ")).strip()
    return lines


def _has_drawn_lines(page: Any, minimum: int = 4) -> bool:
    """Whether a page draws enough vector paths to hold a ruled table (cheap pdfium check)."""
    import pypdfium2.raw as pdfium_c

    count = 0
    for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=1):
        count += 1
        if count >= minimum:
            return True
    return False


def _replace_tables(path: Path, index: int, height: float, lines: list[_Line]) -> list[_Line]:
    """Ruled tables found by pdfplumber become one line per row, cells joined by `` | ``."""
    import pdfplumber

    with pdfplumber.open(str(path), pages=[index + 1]) as pdf:
        tables = pdf.pages[0].find_tables()
        found = [(t.bbox, t.extract()) for t in tables]
    if not found:
        return lines
    kept = list(lines)
    for (x0, top, x1, bottom), rows in found:
        y_top, y_bottom = height - top, height - bottom  # pdfplumber measures from the top
        kept = [ln for ln in kept if not (x0 - 1 <= (ln.x0 + ln.x1) / 2 <= x1 + 1
                                          and y_bottom - 1 <= (ln.top + ln.bottom) / 2 <= y_top + 1)]
        step = (y_top - y_bottom) / max(len(rows), 1)
        for number, row in enumerate(rows):
            cells = []
            for cell in row:
                parts = [p.strip() for p in (cell or "").split("\n") if p.strip()]
                text = parts[0] if parts else ""
                for part in parts[1:]:
                    text = join_hyphenated(text, part)
                cells.append(text)
            if any(cells):
                row_top = y_top - number * step
                kept.append(_Line(index + 1, x0, x1, row_top, row_top - step * 0.6, " | ".join(cells), 0))
    return kept


def _repeated_keys(pages: list[list[_Line]], heights: list[float]) -> set[str]:
    """Normalised texts of lines in the top or bottom band that repeat across pages."""
    seen: dict[str, set[int]] = {}
    for lines, height in zip(pages, heights):
        for line in lines:
            if line.bottom > height * 0.92 or line.top < height * 0.08:
                seen.setdefault(_band_key(line.text), set()).add(line.page)
    threshold = max(2, round(0.5 * len(pages)))
    return {key for key, on in seen.items() if len(on) >= threshold}


def _band_key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def _is_running_line(line: _Line, height: float, repeated: set[str]) -> bool:
    in_band = line.bottom > height * 0.92 or line.top < height * 0.08
    if not in_band:
        return False
    key = _band_key(line.text)
    return key in repeated or bool(_PAGE_NUMBER.match(key))


def _order_columns(lines: list[_Line]) -> list[_Line]:
    """Reading order: two-column pages column by column, other pages top to bottom."""
    left = [line for line in lines if line.column == 1]
    right = [line for line in lines if line.column == 2]
    spanning = [line for line in lines if line.column == 0]
    two_columns = False
    if len(left) >= 4 and len(right) >= 4 and len(spanning) <= 0.3 * len(lines):
        margin = min(line.x0 for line in left)
        column_width = max(line.x1 for line in left) - margin
        two_columns = statistics.median(line.x1 - line.x0 for line in left) > 0.6 * column_width
    if not two_columns:
        for line in lines:
            line.column = 0
        return _merge_baselines(sorted(lines, key=lambda ln: (-round(ln.bottom), ln.x0)))
    top_of_columns = max(line.top for line in left + right)
    bottom_of_columns = min(line.bottom for line in left + right)
    above = [ln for ln in spanning if ln.bottom >= top_of_columns - 1]
    below = [ln for ln in spanning if ln not in above and ln.top <= bottom_of_columns + 1]
    middle = [ln for ln in spanning if ln not in above and ln not in below]
    key = lambda ln: -ln.top  # noqa: E731
    return sorted(above, key=key) + sorted(left + middle, key=key) + sorted(right, key=key) + sorted(below, key=key)


def _merge_baselines(lines: list[_Line]) -> list[_Line]:
    """On a one-column page, runs on one baseline are one line; far-apart runs are table cells (`` | ``)."""
    merged: list[_Line] = []
    for line in lines:
        previous = merged[-1] if merged else None
        if previous is not None and abs(previous.bottom - line.bottom) < 2.5 and line.x0 >= previous.x1 - 1:
            sep = " | " if line.x0 - previous.x1 > 24 else " "
            previous.text = f"{previous.text}{sep}{line.text}"
            previous.x1 = max(previous.x1, line.x1)
            previous.top = max(previous.top, line.top)
        else:
            merged.append(line)
    return merged


def join_hyphenated(first: str, second: str) -> str:
    """Join two lines, undoing a hyphenated line break but keeping real hyphens (``AOW-uitkering``)."""
    if first.endswith(("\x02", "-")) and not first.endswith((" -", " \x02")) and second:
        stem = first[:-1]
        next_word = second.split(" ", 1)[0].lower().strip(",.;:")
        if next_word in _HYPHEN_KEEP_NEXT:
            return stem + "- " + second
        if stem[-1:].isupper() or stem[-1:].isdigit() or second[0].isupper() or second[0].isdigit():
            return stem + "-" + second
        return stem + second
    return first.replace("\x02", "-") + " " + second


def _ends_sentence(text: str) -> bool:
    return text.rstrip().endswith((".", "!", "?", ":", ";", "”", "’", "\"", ")"))


def extract_pdf(doc_id: str, path: Path) -> Extracted:
    """Extract a PDF: running headers/footers removed, hyphenation undone, paragraphs rebuilt, pages kept."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            raise ExtractionError("the PDF is encrypted; save an unprotected copy and replace the file") from exc
        raise ExtractionError(f"the PDF is corrupt or not a PDF ({reason}); export it again") from exc
    try:
        pages: list[list[_Line]] = []
        heights: list[float] = []
        for index in range(len(pdf)):
            page = pdf[index]
            width, height = page.get_size()
            textpage = page.get_textpage()
            lines = _group_lines(index + 1, _page_lines(textpage, width), width)
            if _has_drawn_lines(page):
                lines = _replace_tables(path, index, height, lines)
            pages.append(lines)
            heights.append(height)
            textpage.close()
            page.close()
    finally:
        pdf.close()
    if not any(pages):
        raise ExtractionError("the PDF has no text layer (a scan?); run OCR first (for example ocrmypdf) and replace the file")

    repeated = _repeated_keys(pages, heights)
    body: list[_Line] = []
    for lines, height in zip(pages, heights):
        kept = [ln for ln in lines if ln.text and not _is_running_line(ln, height, repeated)]
        body.extend(_order_columns(kept))
    extracted = _assemble_paragraphs(doc_id, body)
    extracted.n_pages = len(pages)
    return extracted


def _assemble_paragraphs(doc_id: str, lines: list[_Line]) -> Extracted:
    """Rebuild paragraphs from ordered lines; join across columns and pages where a sentence runs on."""
    if not lines:
        return Extracted(doc_id=doc_id, text="", source_type="pdf")
    body_height = statistics.median(ln.height for ln in lines)
    gaps = [a.bottom - b.top for a, b in zip(lines, lines[1:])
            if a.page == b.page and a.column == b.column and 0 <= a.bottom - b.top < 3 * body_height]
    # The usual gap between lines of one paragraph: a low quantile, capped, so that documents made
    # mostly of one-line paragraphs do not make paragraph spacing look normal.
    normal_gap = min(sorted(gaps)[len(gaps) // 4], 0.6 * body_height) if gaps else body_height * 0.3

    paragraphs: list[dict[str, Any]] = []  # {"text", "kind", "pages": [(offset, page)]}
    previous: _Line | None = None
    for line in lines:
        kind = "table" if " | " in line.text else ("heading" if line.height > body_height * 1.15 else "paragraph")
        new_paragraph = True
        if previous is not None and paragraphs:
            current = paragraphs[-1]
            same_flow = previous.page == line.page and previous.column == line.column
            if same_flow:
                gap = previous.bottom - line.top
                new_paragraph = (gap > normal_gap + 0.45 * body_height or gap < -1
                                 or kind != current["kind"] or kind == "table")
            else:  # a column or page break: continue the paragraph if the sentence runs on
                new_paragraph = (kind != "paragraph" or current["kind"] != "paragraph"
                                 or _ends_sentence(current["text"]) or not line.text[:1].islower())
        if new_paragraph:
            paragraphs.append({"text": line.text, "kind": kind, "pages": [(0, line.page)]})
        else:
            current = paragraphs[-1]
            joined = join_hyphenated(current["text"], line.text)
            offset = len(joined) - len(line.text)
            if line.page != current["pages"][-1][1]:
                current["pages"].append((offset, line.page))
            current["text"] = joined
        previous = line

    text_parts: list[str] = []
    blocks: list[Block] = []
    page_spans: list[list[int]] = []
    offset = 0
    for para in paragraphs:
        content = para["text"].replace("\x02", "-")
        content = unicodedata.normalize("NFC", content)
        if text_parts:
            text_parts.append("\n\n")
            offset += 2
        blocks.append(Block(offset, offset + len(content), para["kind"], page=para["pages"][0][1]))
        marks = para["pages"] + [(len(content), None)]
        for (start, page), (end, _) in zip(marks, marks[1:]):
            if page_spans and page_spans[-1][2] == page:
                page_spans[-1][1] = offset + end
            else:
                page_spans.append([offset + start, offset + end, page])
        text_parts.append(content)
        offset += len(content)
    return Extracted(doc_id=doc_id, text="".join(text_parts), source_type="pdf", blocks=blocks, pages=page_spans)


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
    from .parallel import map_documents

    cache = DocumentCache(cache_dir, "extract")
    code = source_fingerprint(sys.modules[__name__])
    keys: dict[str, str] = {}
    done: dict[str, dict[str, Any]] = {}
    jobs: list[tuple[str, str, str]] = []
    for doc in register.documents:
        path = doc.source(register.corpus_dir)
        study = getattr(register, "study", None)
        kind = study.kind(doc.doc_type) if study else doc.doc_type   # how the file is read: transcript | document
        keys[doc.doc_id] = cache.key(file_sha256(path), doc.doc_id, kind, code)
        hit = cache.get(keys[doc.doc_id])
        if hit is not None:
            done[doc.doc_id] = hit
        else:
            jobs.append((doc.doc_id, str(path), kind))
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
