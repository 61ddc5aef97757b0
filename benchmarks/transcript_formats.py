"""Run the transcript parser on files you provide (public transcription-tool exports, subtitle test suites)
and print per file: turns, speakers with role and whether their label is a name, or the error.

    python benchmarks/transcript_formats.py PATH [PATH ...]   # files or folders (.txt .docx .srt .vtt .pdf)

Nothing is written; the files are only read. Used to check the parser against material nobody on the team
wrote (see README, "Transcripts"); such files are not committed.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kwalitatief.ingest import ExtractionError, extract_document  # noqa: E402

SUFFIXES = {".txt", ".docx", ".srt", ".vtt", ".pdf"}
_TIMESTAMP = re.compile(r"\d{1,2}:\d{2}:\d{2}|-->")


def files(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for name in paths:
        path = Path(name)
        out.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES) if path.is_dir() else [path])
    return out


def describe(path: Path) -> str:
    """One line: turns, speakers (role, n, name or role label) and timestamps leaked into coded text."""
    try:
        doc = extract_document(path.stem, path, "transcript")
    except ExtractionError as exc:
        return f"{path.name}: refused: {str(exc).split('; accepted forms')[0]}"
    speakers = Counter((t.speaker, t.role, t.name is not None) for t in doc.turns)
    listing = ", ".join(f"{s} ({r[0]}{', name' if named else ''}) x{n}" for (s, r, named), n in speakers.items())
    leaks = sum(bool(_TIMESTAMP.search(doc.text[b.start:b.end])) for b in doc.blocks if b.kind == "turn")
    return f"{path.name}: {len(doc.turns)} turns; {listing}; turn paragraphs with a timestamp: {leaks}"


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    for path in files(argv):
        print(describe(path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
