"""Build a corpus of the study's size for the benchmark, deterministically.

Run from the repository root::

    python benchmarks/make_scale_corpus.py [--out benchmarks/scale_corpus] [--transcript-words 1030586]
                                           [--pdf-pages 3000] [--factor N]

What it makes, from the demo corpus in ``corpus/`` (nothing is downloaded):

- variants of the demo transcripts until the corpus holds ``transcript_words`` words (default: the study's
  1,030,586, whatever the size of the demo; ``--factor N`` instead makes N variants of every demo transcript).
  Variant 0 of every transcript is the demo transcript itself (``int_s03_r17`` is variant 3 of ``int_r17``),
  each with its own respondent (``S03R17``, same type and region). A variant keeps the speaker labels,
  timestamps style and header of its source but varies the text: respondent paragraphs are swapped with
  paragraphs of other interviews, sentences are reordered, words are replaced by near-synonyms, numbers
  change, and borrowed question/answer pairs are appended (about 15 % extra), so no two documents share their
  text and a per-document cache cannot cheat. DOCX sources (corpus/build/docx_src) become TXT variants.
- ``pdf_pages`` pages of new policy PDFs (the 3000 asked give the study's 2,943; reportlab; 60 documents of
  about 50 pages: running header, page footer, headings, paragraphs recombined and perturbed from the demo
  PDFs' text; every third document has two columns).
- ``manifest.csv``, ``respondents.csv``, ``regions.csv``, ``pseudonyms.csv`` for the new corpus.

Every random choice comes from ``random.Random`` seeded with the document's id, so two runs give the same
corpus (PDFs are built with reportlab's ``invariant`` mode: byte-identical).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import random
import re
import shutil
import sys
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SWAPS = [
    ("bijvoorbeeld", "zoals"), ("belangrijk", "wezenlijk"), ("eigenlijk", "feitelijk"), ("echt", "werkelijk"),
    ("groot", "fors"), ("klein", "beperkt"), ("snel", "vlot"), ("moeilijk", "lastig"), ("vaak", "geregeld"),
    ("natuurlijk", "uiteraard"), ("gewoon", "simpelweg"), ("daarom", "om die reden"), ("nu", "op dit moment"),
    ("ook", "eveneens"), ("misschien", "wellicht"), ("heel", "erg"), ("meteen", "direct"), ("samen", "gezamenlijk"),
    ("eerst", "allereerst"), ("steeds", "telkens"), ("weinig", "nauwelijks"), ("mensen", "betrokkenen"),
    ("gemeenten", "gemeentes"), ("geld", "middelen"), ("plan", "voornemen"), ("vraag", "kwestie"),
]
SWAP = {a: b for a, b in SWAPS} | {b: a for a, b in SWAPS if " " not in b}
WORD = re.compile(r"\b\w+\b")
SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")
LABEL = re.compile(r"^((?:\[\d{1,2}:\d\d(?::\d\d)?\]\s*)?)([^:\n\[\]]{1,40}):[ \t]+")
STAMP = re.compile(r"\[(\d{1,2}):(\d\d)(?::(\d\d))?\]")
INTERVIEWER = {"i", "interviewer", "int", "vraag", "v"}
# The study's size (issue 19): 1,030,586 transcript words (in 800 interviews) and 2,943 PDF pages. The corpus
# is built to that word count whatever the size of the demo it varies, so figures compare across versions.
STUDY_TRANSCRIPT_WORDS = 1_030_586
STUDY_PDF_PAGES = 3_000   # pages asked: the documents come out at 2,943


def seeded(*parts: object) -> random.Random:
    return random.Random(zlib.crc32("\x1f".join(map(str, parts)).encode("utf-8")))


def read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


def perturb(text: str, rng: random.Random, shuffle: float = 0.3, swap: float = 0.35) -> str:
    """The same paragraph in other words: near-synonyms, other numbers, sometimes another sentence order."""
    sentences = SENT.split(text.strip())
    if len(sentences) > 2 and rng.random() < shuffle:
        head, tail = sentences[0], sentences[1:]
        rng.shuffle(tail)
        sentences = [head, *tail]
    out = " ".join(sentences)

    def word(match: re.Match[str]) -> str:
        w = match.group(0)
        low = w.lower()
        if low in SWAP and rng.random() < swap:
            new = SWAP[low]
            return new.capitalize() if w[0].isupper() else new
        if w.isdigit() and len(w) <= 3 and rng.random() < 0.5:
            return str(max(1, int(w) + rng.randint(-3, 9)))
        return w

    return WORD.sub(word, out)


# --------------------------------------------------------------------------------------------- transcripts

def parse_transcript(text: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Header paragraphs and turns [(stamp prefix, label or '' for a continuation, body)]."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]
    counts: dict[str, int] = {}
    for p in paragraphs:
        m = LABEL.match(p)
        if m:
            counts[m.group(2).strip()] = counts.get(m.group(2).strip(), 0) + 1
    labels = {k for k, n in counts.items() if n >= 2}
    header, turns = [], []
    for p in paragraphs:
        m = LABEL.match(p)
        if m and m.group(2).strip() in labels:
            turns.append((m.group(1), m.group(2).strip(), p[m.end():]))
        elif turns:
            turns.append(("", "", p))
        else:
            header.append(p)
    return header, turns


def is_interviewer(label: str, first_label: str) -> bool:
    return label.lower().rstrip(".") in INTERVIEWER or label == first_label


def stamp(seconds: int) -> str:
    return f"[{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}] "


def variant(doc_id: str, k: int, header: list[str], turns: list[tuple[str, str, str]],
            answers: list[str], pairs: list[tuple[str, str]], extra: float) -> str:
    """Variant ``k`` of one transcript (see the module docstring)."""
    rng = seeded(doc_id, k)
    first = next((label for _, label, _ in turns if label), "I")
    labels = [label for _, label, _ in turns if label]
    r_label = next((label for label in labels if not is_interviewer(label, first)), "R")
    timed = any(prefix for prefix, _, _ in turns)
    out = [perturb(p, rng, 0, 0.2) if i else p for i, p in enumerate(header)]
    seconds = 30 + rng.randint(0, 60)
    current = ""
    for prefix, label, body in turns:
        current = label or current
        answering = not is_interviewer(current, first)
        if answering and rng.random() < 0.3:
            body = rng.choice(answers)
        body = perturb(body, rng)
        if label:
            seconds += 20 + rng.randint(0, 240)
            out.append(f"{stamp(seconds) if prefix else ''}{label}: {body}")
        else:
            out.append(body)
    words = sum(len(p.split()) for p in out)
    target = words * (1 + extra)
    while words < target:
        question, answer = rng.choice(pairs)
        for label, body in ((first, question), (r_label, answer)):
            seconds += 20 + rng.randint(0, 240)
            text = perturb(body, rng)
            out.append(f"{stamp(seconds) if timed else ''}{label}: {text}")
            words += len(text.split())
    return "\n\n".join(out) + "\n"


def build_transcripts(corpus: Path, out: Path, target_words: int, extra: float, factor: int = 0
                      ) -> tuple[list[dict], list[dict], int]:
    """Transcripts until ``target_words`` words (or, with ``factor``, that many variants of every demo
    transcript); returns manifest rows, respondent rows and the word count."""
    manifest = list(csv.DictReader(open(corpus / "manifest.csv", encoding="utf-8")))
    respondents = {r["respondent_id"]: r for r in csv.DictReader(open(corpus / "respondents.csv", encoding="utf-8"))}
    sources: dict[str, tuple[dict, list[str], list[tuple[str, str, str]]]] = {}
    sources_text: dict[str, str] = {}
    for row in manifest:
        if row["doc_type"] != "transcript":
            continue
        path = corpus / row["path"]
        if path.suffix.lower() == ".docx":
            path = corpus / "build" / "docx_src" / f"{row['doc_id']}.txt"
        if not path.exists():
            continue
        text = read_text(path)
        header, turns = parse_transcript(text)
        if turns:
            sources[row["doc_id"]] = (row, header, turns)
            sources_text[row["doc_id"]] = text
    answers, pairs = [], []
    for _, (_, _, turns) in sorted(sources.items()):
        first = next(label for _, label, _ in turns if label)
        for (_, l1, b1), (_, l2, b2) in zip(turns, turns[1:]):
            if l1 and is_interviewer(l1, first) and l2 and not is_interviewer(l2, first):
                pairs.append((b1, b2))
            if l2 and not is_interviewer(l2, first) and len(b2.split()) > 25:
                answers.append(b2)
    (out / "transcripts").mkdir(parents=True, exist_ok=True)
    docs, resp_rows, words = [], [], 0
    # variant 0 (the demo itself) whole, then further variants one by one until the word count is reached
    order = ((k, doc_id) for k in (range(factor) if factor else itertools.count()) for doc_id in sorted(sources))
    for k, doc_id in order:
        if not factor and k > 0 and words >= target_words:
            break
        row, header, turns = sources[doc_id]
        new_id = f"int_s{k:02d}_{doc_id.split('_', 1)[1]}"
        # variant 0 is the demo interview itself, so the demo's manual annotations (doc_id renamed) still
        # match and the classifier trains on the same examples as in the demo
        text = sources_text[doc_id] if k == 0 else variant(doc_id, k, header, turns, answers, pairs, extra)
        (out / "transcripts" / f"{new_id}.txt").write_text(text, encoding="utf-8")
        words += len(text.split())
        rid = f"S{k:02d}{row['respondent_id']}" if row.get("respondent_id") else ""
        docs.append({**row, "doc_id": new_id, "path": f"transcripts/{new_id}.txt", "respondent_id": rid,
                     "title": f"{row['title']} — variant {k}"})
        if rid and row["respondent_id"] in respondents:
            resp_rows.append({**respondents[row["respondent_id"]], "respondent_id": rid})
    return docs, resp_rows, words


# --------------------------------------------------------------------------------------------- PDFs

def pdf_pool(corpus: Path) -> tuple[list[str], list[str]]:
    """Headings and paragraphs of the demo PDFs (through the project's own extractor)."""
    from kwalitatief.pdf import extract_pdf

    headings, paragraphs = [], []
    for path in sorted(list((corpus / "profiles").glob("*.pdf")) + list((corpus / "documents").glob("*.pdf"))):
        doc = extract_pdf(path.stem, path)
        for block in doc.blocks:
            text = " ".join(doc.text[block.start:block.end].split())
            if block.kind == "heading" and 3 <= len(text) <= 80:
                headings.append(text)
            elif block.kind == "paragraph" and len(text.split()) >= 12:
                paragraphs.append(text)
    if not paragraphs:
        raise SystemExit("no demo PDFs with text found under corpus/profiles or corpus/documents; "
                         "build them first (python corpus/build/build_pdfs.py)")
    return headings, paragraphs


def _make_pdf(job: tuple[str, str, str, int, bool, list[str], list[str]]) -> int:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Spacer

    doc_id, path, title, pages, twocol, headings, paragraphs = job
    rng = seeded(doc_id)
    width, height = A4
    margin = 2.4 * cm
    body = ParagraphStyle("body", fontName="Helvetica", fontSize=10, leading=13.5, spaceAfter=6)
    head = ParagraphStyle("head", fontName="Helvetica-Bold", fontSize=13, leading=16, spaceBefore=8, spaceAfter=6)
    big = ParagraphStyle("title", fontName="Helvetica-Bold", fontSize=20, leading=24, spaceAfter=12)

    def decorate(canvas, document) -> None:  # running header and page footer on every page
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(margin, height - 1.5 * cm, title)
        canvas.drawRightString(width - margin, 1.3 * cm, f"Pagina {document.page}")
        canvas.restoreState()

    if twocol:
        w = (width - 2 * margin - 0.8 * cm) / 2
        frames = [Frame(margin, margin, w, height - 2 * margin, id="left"),
                  Frame(margin + w + 0.8 * cm, margin, w, height - 2 * margin, id="right")]
    else:
        frames = [Frame(margin, margin, width - 2 * margin, height - 2 * margin, id="body")]
    template = BaseDocTemplate(path, pagesize=A4, invariant=1, title=title, author="kwalitatief benchmark")
    template.addPageTemplates([PageTemplate(id="page", frames=frames, onPage=decorate)])
    # ~ 600 words a page in one column, ~ 540 in two (measured)
    words_needed = pages * (540 if twocol else 600)
    story = [Paragraph(escape(title), big), Paragraph("<i>Fictief document, gegenereerd voor de benchmark.</i>", body)]
    words = 0
    while words < words_needed:
        story.append(Paragraph(escape(perturb(rng.choice(headings), rng, 0, 0.5)), head))
        for _ in range(rng.randint(3, 7)):
            text = perturb(rng.choice(paragraphs), rng)
            story.append(Paragraph(escape(text), body))
            words += len(text.split())
        story.append(Spacer(1, 4))
    template.build(story)
    return template.page


def build_pdfs(corpus: Path, out: Path, total_pages: int, workers: int) -> tuple[list[dict], int]:
    headings, paragraphs = pdf_pool(corpus)
    regions = [r["region"] for r in csv.DictReader(open(corpus / "regions.csv", encoding="utf-8"))]
    regions = [r for r in regions if r and r != "landelijk"] or ["landelijk"]
    kinds = [("profiel", "Cultuurprofiel"), ("advies", "Advies"), ("kamerbrief", "Kamerbrief"),
             ("proeftuin", "Evaluatie proeftuin")]
    n_docs = max(1, round(total_pages / 50))
    (out / "documents").mkdir(parents=True, exist_ok=True)
    jobs, rows = [], []
    for i in range(n_docs):
        doc_type, label = kinds[i % len(kinds)]
        region = regions[i % len(regions)] if doc_type == "profiel" else "landelijk"
        doc_id = f"pdf_{i:03d}_{doc_type}"
        title = f"{label} {region if doc_type == 'profiel' else ''} — deel {i} (fictief)".replace("  ", " ")
        jobs.append((doc_id, str(out / "documents" / f"{doc_id}.pdf"), title, total_pages // n_docs,
                     i % 3 == 2, headings, paragraphs))
        rows.append({"doc_id": doc_id, "path": f"documents/{doc_id}.pdf", "doc_type": doc_type, "region": region,
                     "respondent_id": "", "date": f"20{19 + i % 4}-0{1 + i % 9}-15", "title": title})
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pages = sum(pool.map(_make_pdf, jobs))
    return rows, pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=str(ROOT / "corpus"), help="the demo corpus (default: corpus)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "scale_corpus"))
    parser.add_argument("--transcript-words", type=int, default=STUDY_TRANSCRIPT_WORDS,
                        help="transcript words to reach (default: the study's %(default)s)")
    parser.add_argument("--factor", type=int, default=0,
                        help="instead: this many variants of every demo transcript (0: by --transcript-words)")
    parser.add_argument("--extra", type=float, default=0.15, help="share of borrowed Q/A pairs added per variant")
    parser.add_argument("--pdf-pages", type=int, default=STUDY_PDF_PAGES)
    parser.add_argument("--workers", type=int, default=0, help="processes for building PDFs (0: all cores)")
    args = parser.parse_args()
    import os

    corpus, out = Path(args.corpus), Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    docs, respondents, words = build_transcripts(corpus, out, args.transcript_words, args.extra, args.factor)
    pdf_rows, pages = build_pdfs(corpus, out, args.pdf_pages, args.workers or os.cpu_count() or 1)
    fields = ["doc_id", "path", "doc_type", "region", "respondent_id", "date", "title"]
    with open(out / "manifest.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(docs + pdf_rows)
    resp_fields = list(csv.DictReader(open(corpus / "respondents.csv", encoding="utf-8")).fieldnames or [])
    with open(out / "respondents.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=resp_fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(respondents)
    for name in ("regions.csv", "pseudonyms.csv"):
        if (corpus / name).exists():
            shutil.copy(corpus / name, out / name)
    # Sentences mixed across interviews put a respondent's surname where the demo meant a town
    # ("het verhaal van Rijswijk of Zoetermeer"): what a researcher does when the leak guard names it.
    with open(out / "pseudonyms.csv", "a", encoding="utf-8", newline="") as handle:
        handle.write("van Rijswijk,replace,persoon,scale corpus: a surname that is also a town, mixed into other interviews\n")
    size = {"transcripts": len(docs), "transcript_words": words, "pdfs": len(pdf_rows), "pdf_pages": pages,
            "asked": {"transcript_words": args.transcript_words, "factor": args.factor, "pdf_pages": args.pdf_pages}}
    (out / "size.json").write_text(json.dumps(size, indent=2) + "\n", encoding="utf-8")
    print(f"{out}: {len(docs)} transcripts ({words:,} words), {len(pdf_rows)} PDFs ({pages:,} pages)")


if __name__ == "__main__":
    main()
