"""Text extraction: PDF (in :mod:`kwalitatief.pdf`), DOCX (python-docx), TXT and subtitles (SRT, WebVTT);
speaker turns of transcripts come from :mod:`kwalitatief.transcripts`.

Every extractor returns an :class:`Extracted` document: the cleaned text, its blocks (paragraphs,
headings, table rows, turns' paragraphs) as character spans, the page of every character range, and
for transcripts the speaker turns. Nothing here writes files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import document, docxfile, transcripts
from .document import Block, Extracted, ExtractionError, Turn, ends_sentence  # noqa: F401  (the model, also used from here)
from .docxfile import read_body
from .transcripts import build_transcript, docx_paragraphs, subtitle_paragraphs, text_paragraphs


# --------------------------------------------------------------------------------------------
# Plain text
# --------------------------------------------------------------------------------------------

def decode_text(raw: bytes) -> tuple[str, str]:
    """Decode plain-text bytes (UTF-8, UTF-16/32 by byte-order mark or NUL pattern, cp1252, a guess);
    empty or binary content (a PDF renamed .txt, NUL-filled data) is refused (see :mod:`decoding`)."""
    from .decoding import UnreadableText
    from .decoding import decode_text as decode

    try:
        return decode(raw)
    except UnreadableText as exc:
        raise ExtractionError(str(exc)) from exc


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
        if kind == "paragraph" and len(para) < 80 and not ends_sentence(para):
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
        items = read_body(path)
        if doc_type == "transcript":
            extracted = build_transcript(doc_id, docx_paragraphs(items), "docx")
        else:
            extracted = _plain_document(doc_id, [(i.kind, i.text) for i in items], "docx")
    elif suffix in (".txt", ".srt", ".vtt"):
        text, encoding = decode_text(path.read_bytes())
        kind = suffix[1:]
        paragraphs = (text_paragraphs(text) if kind == "txt"
                      else subtitle_paragraphs(text, kind, need_speakers=doc_type == "transcript"))
        if doc_type == "transcript":
            extracted = build_transcript(doc_id, paragraphs, kind, encoding)
        else:
            extracted = _plain_document(doc_id, [("paragraph", p.text) for p in paragraphs], kind, encoding)
    else:
        raise ExtractionError(f"unsupported file type '{suffix}'; use PDF, DOCX, TXT, SRT or VTT")
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

    from .cache import DocumentCache, dict_with, source_fingerprint
    from .config import file_sha256
    from . import pdf
    from .parallel import map_documents

    extracted, failed = dict_with(ok=dict), dict_with(error=str)
    cache = DocumentCache(cache_dir, "extract", shape=lambda v: failed(v) or (
        extracted(v) and dict_with(doc_id=str, text=str)(v["ok"])))
    code = source_fingerprint(sys.modules[__name__], pdf, document, docxfile, transcripts)
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
