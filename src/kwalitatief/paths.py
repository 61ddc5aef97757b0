"""Where the stages put their artefacts (relative to the project root)."""

from pathlib import Path

OUTPUTS = Path("outputs")
PRIVATE = OUTPUTS / "private"
WORK = OUTPUTS / "work"
CACHE = OUTPUTS / "cache"

EXTRACTED_DIR = PRIVATE / "extracted"          # original text: may contain names
PSEUDONYM_KEY = PRIVATE / "pseudonym_key.csv"  # tag -> original: stays with the researcher
PSEUDONYMISED_DIR = WORK / "pseudonymised"
FRAGMENTS = WORK / "fragments.jsonl"
DATABASE = OUTPUTS / "kwalitatief.db"


def problems_file(stage: str) -> Path:
    """The problems a stage found (one JSON object a line: stage, doc_id, severity, message)."""
    return WORK / f"problems_{stage}.jsonl"
