"""Score PDF extraction on real PDFs against reference texts in reading order, and time it against raw PDFium.

    python benchmarks/real_pdfs.py FOLDER [FOLDER ...]            # score every FOLDER/*.pdf with a reference
    python benchmarks/real_pdfs.py --make-references FOLDER      # references where poppler and pdfminer agree

A PDF ``name.pdf`` is scored against ``name.ref.txt``: one reference unit per line (a paragraph, a heading,
a table row with cells joined by `` | ``, or — for references built from other engines — a line), in reading
order. ``name.running.txt`` (optional) lists its running headers and footers, one a line, ``#`` standing
for any number. Per file it prints:

- **whole**: share of reference units found whole inside one extracted paragraph (compared on letters and
  digits only, lower case, so spacing, hyphenation and punctuation do not count);
- **order**: share of line-to-line transitions of the reference (unit *i* → *i+1*) that follow each other
  in the extracted text (among the reference units found there);
- **leaks**: running header/footer lines and page numbers left in the extracted text. Where they stand is
  read with pdfminer (through pdfplumber), independent of PDFium: a running line counts as often as it is
  extracted beyond the times the page bodies hold the same text (a chapter title equal to its running
  head is body text, also where it runs over two lines: a cover's title), a bare number only if that number stands in the top or bottom 8 % of its page (an
  axis label of a chart is not a page number). Reference units that are part of a band line repeating
  on two or more pages (a printer's slug split by the engines) are running text, not counted as units;
- **paras**: where ``name.para.txt`` exists (paragraphs both engines of ``--make-references`` set apart
  the same way), the number of those paragraphs and the share found whole in one extracted paragraph
  (for ``name.ref.txt`` made of lines, *whole* counts lines), and **mid**: how many of those we cut inside a
  sentence (the other misses are cuts after a heading or a sentence end, where the engines' blocks hold
  more than one paragraph, or tables and forms read in another order: :func:`paragraph_cuts`);
- pages/s of ``kwalitatief.pdf.extract_pdf`` and of raw PDFium text extraction of the same file
  (``get_text_range`` of every page), and their ratio; CPU time, best of three.

``--make-references`` writes ``name.ref.txt`` for every PDF of the folder without one: the lines (8 or more
letters/digits) that poppler's ``pdftotext`` and pdfminer's layout analysis (``pdfminer.high_level``), two
engines independent of PDFium, give in the same order; and ``name.running.txt``: lines in the top or bottom
8 % of a page (pdfplumber's positions) that repeat on at least two pages; and ``name.para.txt`` (also where a
reference exists): blocks of two or more lines that both engines set apart by blank lines with the same
text. Check them by eye. The folder is
yours (e.g. PDFs from pdfplumber's ``tests/pdfs``); nothing fetched belongs in this repository.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1] / "src"))  # PYTHONPATH first: an older version

MIN_UNIT = 8  # letters/digits: shorter reference lines (a lone number, "Ja") are not distinctive


def norm(text: str) -> str:
    """Letters and digits, lower case, ligatures spelled out: what a reader would call the same text."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).lower())


@dataclass
class Score:
    units: int
    whole: float
    order: float
    leaks: int
    paragraphs: int = 0  # reference paragraphs of name.para.txt (none: not measured)
    paragraphs_whole: float | None = None
    cut_mid_sentence: int = 0  # reference paragraphs we cut inside a sentence (see paragraph_cuts)


BAND = 0.08  # top and bottom share of a page where running lines stand


@dataclass
class Layout:
    """A PDF's lines by pdfminer's positions (through pdfplumber), normalised (see :func:`norm`)."""

    band_numbers: dict[int, set[str]]  # page (from 1) -> bare numbers in its top or bottom band
    body: list[str]  # lines outside the bands
    running: list[str]  # band lines whose text, numbers as #, stands on two or more pages


def _page_lines(page) -> list[dict]:  # noqa: ANN001
    """pdfplumber's text lines of a page, text overprinted for bold once, and only what the page shows:
    text placed outside its box (a sheet cut into pages by their boxes shows each part on its own page)
    is on no page."""
    return [line for line in page.dedupe_chars().extract_text_lines()
            if line["bottom"] > 0 and line["top"] < page.height and line["x1"] > 0 and line["x0"] < page.width]


def layout(pdf: Path) -> Layout:
    import pdfplumber

    numbers: dict[int, set[str]] = {}
    body: list[str] = []
    band: dict[str, set[int]] = {}
    band_texts: dict[str, set[str]] = {}
    with pdfplumber.open(str(pdf)) as document:
        for number, page in enumerate(document.pages, start=1):
            for line in _page_lines(page):
                text = " ".join(line["text"].split())
                if line["bottom"] < page.height * BAND or line["top"] > page.height * (1 - BAND):
                    if re.fullmatch(r"\d{1,4}", text):
                        numbers.setdefault(number, set()).add(text)
                    key = re.sub(r"\d+", "#", text)
                    band.setdefault(key, set()).add(number)
                    band_texts.setdefault(key, set()).add(norm(text))
                else:
                    body.append(norm(text))
    running = [t for key, on in band.items() if len(on) >= 2 for t in band_texts[key]]
    return Layout(numbers, body, running)


def _patterns(running: list[str]) -> list[re.Pattern[str]]:
    return [re.compile(re.escape(norm(r.replace("#", "0"))).replace("0", r"\d*"))
            for r in running if len(norm(r.replace("#", ""))) >= 4]


def score(reference: list[str], running: list[str], paragraphs: list[str], pages: list[int] | None = None,
          where: Layout | None = None) -> Score:
    """Compare extracted paragraphs (starting on ``pages``) with reference units in reading order (see the
    module docstring); without ``where`` every running line and bare number found counts as a leak."""
    units = [u for u in (norm(r) for r in reference) if u]
    if where is not None:
        units = [u for u in units if not any(u in line for line in where.running)]
    blocks = [norm(p) for p in paragraphs]
    whole = sum(any(u in b for b in blocks) for u in units)
    flat = "\x00".join(blocks)
    positions: list[int | None] = []
    cursor = 0
    for unit in units:  # search forward from the previous unit, else anywhere
        at = flat.find(unit, cursor)
        if at < 0:
            at = flat.find(unit)
        positions.append(at if at >= 0 else None)
        if at >= 0:
            cursor = at + len(unit)
    found = sorted({p for p in positions if p is not None})
    rank = {p: i for i, p in enumerate(found)}
    transitions = list(zip(positions, positions[1:]))
    in_order = sum(a is not None and b is not None and rank[b] == rank[a] + 1 for a, b in transitions)
    leaks = 0
    body = "".join(where.body) if where is not None else ""  # a title over two lines is body text too
    for pattern in _patterns(running):
        extracted = sum(len(pattern.findall(b)) for b in blocks)
        in_body = len(pattern.findall(body))
        leaks += max(0, extracted - in_body)
    pages = pages or [0] * len(paragraphs)
    for paragraph, page in zip(paragraphs, pages):
        bare = paragraph.strip()
        if re.fullmatch(r"\d{1,4}", bare) and (where is None or bare in where.band_numbers.get(page, ())):
            leaks += 1
    return Score(len(units), whole / max(len(units), 1), in_order / max(len(transitions), 1), leaks)


def read_reference(pdf: Path) -> tuple[list[str], list[str]]:
    ref = pdf.with_suffix(".ref.txt")
    running = pdf.with_suffix(".running.txt")
    lines = [ln for ln in ref.read_text(encoding="utf-8").splitlines() if ln.strip()]
    extra = running.read_text(encoding="utf-8").splitlines() if running.exists() else []
    return lines, [ln for ln in extra if ln.strip()]


EXTRACTOR = "kwalitatief.pdf:extract_pdf"


def _extractor():  # noqa: ANN202
    """The function under test (``--extractor module:function``, e.g. an older version on PYTHONPATH)."""
    import importlib

    module, function = EXTRACTOR.split(":")
    return getattr(importlib.import_module(module), function)


def score_pdf(pdf: Path) -> Score:
    extract_pdf = _extractor()
    reference, running = read_reference(pdf)
    extracted = extract_pdf(pdf.stem, pdf)
    paragraphs = [extracted.text[b.start:b.end] for b in extracted.blocks]
    result = score(reference, running, paragraphs, [b.page for b in extracted.blocks], layout(pdf))
    para = pdf.with_suffix(".para.txt")
    if para.exists():
        units = [u for u in (norm(p) for p in para.read_text(encoding="utf-8").splitlines()) if u]
        blocks = [norm(p) for p in paragraphs]
        result.paragraphs = len(units)
        result.paragraphs_whole = sum(any(u in b for b in blocks) for u in units) / max(len(units), 1)
        result.cut_mid_sentence = paragraph_cuts(units, paragraphs, [b.kind for b in extracted.blocks])["mid-sentence"]
    return result


def paragraph_cuts(units: list[str], paragraphs: list[str], kinds: list[str]) -> dict[str, int]:
    """Where the reference paragraphs (normalised ``units``) not found whole in one extracted paragraph are
    cut: ``heading`` (one side is a block we call a heading: the engines' blocks often hold a heading with
    its text), ``sentence end`` (the cut follows ``.``, ``!``, ``?``, ``:`` or ``;``: the engines' blocks
    hold paragraphs set apart only by an indent or a list's items), ``mid-sentence`` (a real break of
    the text), or ``not in order`` (the unit's text does not run on through our paragraphs: a table read
    by rows that the engines read by columns, a form's fields)."""
    import bisect

    cuts = {"heading": 0, "sentence end": 0, "mid-sentence": 0, "not in order": 0}
    blocks = [norm(p) for p in paragraphs]
    starts, flat = [], ""
    for block in blocks:
        starts.append(len(flat))
        flat += block
    for unit in units:
        if any(unit in b for b in blocks):
            continue
        at = flat.find(unit)
        if at < 0:
            cuts["not in order"] += 1
            continue
        first, last = bisect.bisect_right(starts, at) - 1, bisect.bisect_right(starts, at + len(unit) - 1) - 1
        found = set()
        for i in range(first, last):
            if "heading" in (kinds[i], kinds[i + 1]):
                found.add("heading")
            elif re.search(r"[.!?:;]['’”\")\]]*$", paragraphs[i].rstrip()):
                found.add("sentence end")
            else:
                found.add("mid-sentence")
        cuts[next(k for k in ("mid-sentence", "sentence end", "heading") if k in found)] += 1
    return cuts


# ------------------------------------------------------------------------------------------ speed

def _best_cpu(run, repeat: int = 3) -> float:  # noqa: ANN001
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        run()
        best = min(best, time.process_time() - started)
    return max(best, 1e-6)


def raw_pdfium(pdf: Path) -> int:
    """Raw PDFium text extraction of every page (the reference speed); returns the number of pages."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf))
    for page in document:
        textpage = page.get_textpage()
        textpage.get_text_range()
        textpage.close()
        page.close()
    pages = len(document)
    document.close()
    return pages


def speed(pdf: Path) -> tuple[int, float, float]:
    """(pages, seconds of extract_pdf, seconds of raw PDFium), CPU time, best of three."""
    extract_pdf = _extractor()

    pages = raw_pdfium(pdf)
    return pages, _best_cpu(lambda: extract_pdf(pdf.stem, pdf)), _best_cpu(lambda: raw_pdfium(pdf))


# ------------------------------------------------------------------------------------------ references

def _engine_texts(pdf: Path) -> tuple[str, str]:
    from pdfminer.high_level import extract_text

    poppler = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                             text=True, check=True).stdout
    return poppler, extract_text(str(pdf))


def _lines(text: str) -> list[str]:
    return [" ".join(ln.split()) for ln in text.splitlines() if len(norm(ln)) >= MIN_UNIT]


def _block_lines(text: str) -> list[tuple[str, int]]:
    """Non-empty lines with the number of their block (blocks end at a blank line or a page break)."""
    out: list[tuple[str, int]] = []
    block = 0
    for line in text.replace("\f", "\n\n").split("\n"):
        if norm(line):
            out.append((" ".join(line.split()), block))
        else:
            block += 1
    return out


def agreed_paragraphs(poppler: str, miner: str, running: list[str]) -> list[str]:
    """Runs of two or more lines (40 letters/digits or more) that both engines give one after the other in
    one block (no blank line, no page break between them): paragraphs, or parts of one, both agree on."""
    ours, theirs = _block_lines(poppler), _block_lines(miner)
    matcher = SequenceMatcher(None, [norm(t) for t, _ in ours], [norm(t) for t, _ in theirs], autojunk=False)
    pairs = [(m.a + i, m.b + i) for m in matcher.get_matching_blocks() for i in range(m.size)]
    runs: list[list[int]] = []
    for (a0, b0), (a1, b1) in zip([(-9, -9)] + pairs, pairs):
        together = (a1 == a0 + 1 and b1 == b0 + 1 and ours[a0][1] == ours[a1][1] and theirs[b0][1] == theirs[b1][1])
        if together:
            runs[-1].append(a1)
        else:
            runs.append([a1])
    paragraphs = []
    for run in runs:
        text = " ".join(ours[i][0] for i in run)
        if len(run) >= 2 and len(norm(text)) >= 40 and not any(norm(text) in line for line in running):
            paragraphs.append(text)
    return paragraphs


def _running_keys(pdf: Path) -> list[str]:
    """Band lines (numbers as ``#``) that stand on two or more pages, with enough letters to be told apart."""
    import pdfplumber

    seen: dict[str, set[int]] = {}
    with pdfplumber.open(str(pdf)) as document:
        for number, page in enumerate(document.pages):
            for line in _page_lines(page):
                if line["bottom"] < page.height * BAND or line["top"] > page.height * (1 - BAND):
                    key = re.sub(r"\d+", "#", " ".join(line["text"].split()))
                    seen.setdefault(key, set()).add(number)
    return [key for key, pages in seen.items() if len(pages) >= 2 and len(norm(key.replace("#", ""))) >= MIN_UNIT]


def make_references(folder: Path) -> None:
    """``name.ref.txt``, ``name.running.txt`` and ``name.para.txt`` for every PDF of ``folder`` missing them."""
    for pdf in sorted(folder.glob("*.pdf")):
        ref, para = pdf.with_suffix(".ref.txt"), pdf.with_suffix(".para.txt")
        if ref.exists() and para.exists():
            continue
        poppler_text, miner_text = _engine_texts(pdf)
        where = layout(pdf)
        if not ref.exists():
            poppler, miner = _lines(poppler_text), _lines(miner_text)
            matcher = SequenceMatcher(None, [norm(x) for x in poppler], [norm(x) for x in miner], autojunk=False)
            agreed = [poppler[block.a + i] for block in matcher.get_matching_blocks() for i in range(block.size)]
            running = _running_keys(pdf)
            agreed = [x for x in agreed if not any(norm(x) in line for line in where.running)]
            ref.write_text("\n".join(agreed) + "\n", encoding="utf-8")
            pdf.with_suffix(".running.txt").write_text("".join(f"{r}\n" for r in running), encoding="utf-8")
            share = len(agreed) / max(len(poppler), 1)
            print(f"{pdf.name}: {len(agreed)} reference lines ({share:.0%} of poppler's), {len(running)} running")
        paragraphs = agreed_paragraphs(poppler_text, miner_text, where.running)
        para.write_text("".join(f"{p}\n" for p in paragraphs), encoding="utf-8")
        print(f"{pdf.name}: {len(paragraphs)} paragraphs both engines agree on")


# ------------------------------------------------------------------------------------------ main

def _total(label: str, rows: list[dict], timing: bool) -> str:
    """A summary line: shares weighted by reference units (paragraph shares by paragraphs), speed over all pages."""
    units = sum(r["units"] for r in rows)
    whole = sum(r["whole"] * r["units"] for r in rows) / max(units, 1)
    order = sum(r["order"] * r["units"] for r in rows) / max(units, 1)
    paragraphs = sum(r["paragraphs"] for r in rows)
    paras = (f"{paragraphs:>5} {sum(r['paragraphs_whole'] * r['paragraphs'] for r in rows if r['paragraphs']) / paragraphs:>6.1%}"
             f" {sum(r['cut_mid_sentence'] for r in rows):>4}" if paragraphs else f"{'':>5} {'-':>6} {'':>4}")
    line = f"{label[:44]:<44} {units:>5} {whole:>6.1%} {order:>6.1%} {sum(r['leaks'] for r in rows):>5} {paras}"
    if timing:
        pages = sum(r["pages"] for r in rows)
        ours = sum(r["pages"] / r["pages_per_s"] for r in rows)
        raw = sum(r["pages"] / r["raw_pages_per_s"] for r in rows)
        line += f" {pages:>5} {pages / ours:>8.0f} {pages / raw:>8.0f} {raw / ours:>5.2f}"
    return line


def report(folders: list[Path], timing: bool = True) -> list[dict]:
    """Score (and time) every PDF with a reference; print a table with a total per folder, return its rows.

    ``paras``: reference paragraphs (``name.para.txt``) and the share found whole; ``-`` where none."""
    rows = []
    print(f"{'file':<44} {'units':>5} {'whole':>6} {'order':>6} {'leaks':>5} {'paras':>5} {'whole':>6} {'mid':>4}"
          + (f" {'pages':>5} {'pages/s':>8} {'PDFium':>8} {'ratio':>5}" if timing else ""))
    for folder in folders:
        folder_rows = []
        for pdf in sorted(folder.glob("*.pdf")):
            if not pdf.with_suffix(".ref.txt").exists():
                continue
            s = score_pdf(pdf)
            row = {"file": pdf.name, "units": s.units, "whole": s.whole, "order": s.order, "leaks": s.leaks,
                   "paragraphs": s.paragraphs, "paragraphs_whole": s.paragraphs_whole,
                   "cut_mid_sentence": s.cut_mid_sentence}
            paras = (f"{s.paragraphs:>5} {s.paragraphs_whole:>6.1%} {s.cut_mid_sentence:>4}" if s.paragraphs
                     else f"{'':>5} {'-':>6} {'':>4}")
            line = f"{pdf.name[:44]:<44} {s.units:>5} {s.whole:>6.1%} {s.order:>6.1%} {s.leaks:>5} {paras}"
            if timing:
                pages, ours, raw = speed(pdf)
                row.update(pages=pages, pages_per_s=pages / ours, raw_pages_per_s=pages / raw, ratio=raw / ours)
                line += f" {pages:>5} {pages / ours:>8.0f} {pages / raw:>8.0f} {raw / ours:>5.2f}"
            folder_rows.append(row)
            print(line, flush=True)
        if folder_rows:
            print(_total(f"{folder.name}: all (weighted by units)", folder_rows, timing), flush=True)
        rows += folder_rows
    if rows and len(folders) > 1:
        print(_total("all folders", rows, timing))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--make-references", action="store_true")
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument("--extractor", default=EXTRACTOR, help="module:function to score (default %(default)s)")
    args = parser.parse_args()
    globals()["EXTRACTOR"] = args.extractor
    for folder in args.folders:
        if not folder.is_dir():
            raise SystemExit(f"not a folder: {folder}")
    if args.make_references:
        for folder in args.folders:
            make_references(folder)
        return
    if not report(args.folders, timing=not args.no_timing):
        raise SystemExit("no PDF with a reference (name.ref.txt) found; try --make-references")


if __name__ == "__main__":
    main()
