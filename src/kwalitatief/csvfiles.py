"""Reading the researcher's CSV files strictly: every row has the header's fields, every problem has a line.

- **Encoding**: UTF-8 (with or without BOM). Another encoding (cp1252 from an older Excel, UTF-16 from
  "Unicode text") is refused with the line and column of the first byte that is not UTF-8.
- **Separator**: a comma; a semicolon (what Excel writes with Dutch regional settings) or a tab is read
  too. The separator is taken from the header line alone (the one of ``,`` ``;`` TAB that yields all
  required columns, and the most columns), so a ``;`` inside a value never decides it.
- **Fields**: a row with more fields than the header (an unquoted comma in a title) or fewer (a missing
  separator) is refused with its line; nothing is truncated or shifted silently.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

SEPARATORS = (",", ";", "\t")
_SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode_csv(path: Path, raw: bytes) -> tuple[str | None, str | None]:
    """(text, None) for UTF-8 bytes, else (None, problem naming the line and column)."""
    if raw.startswith(_UTF16_BOMS):
        return None, (f"{path}: the file is UTF-16 (Excel's 'Unicode text'), not UTF-8. Hint: in Excel choose "
                      "Save As > 'CSV UTF-8 (comma delimited)'.")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        line = raw.count(b"\n", 0, exc.start) + 1
        column = len(raw[line_start:exc.start].decode("utf-8", "replace")) + 1
        byte = raw[exc.start:exc.start + 1].hex()
        guess = raw[line_start:raw.find(b"\n", exc.start) if b"\n" in raw[exc.start:] else len(raw)]
        shown = guess.decode("cp1252", "replace").strip()[:80]
        return None, (f"{path} line {line}, column {column}: byte 0x{byte} is not UTF-8 (the line reads "
                      f"'{shown}' in cp1252). Hint: save the file as UTF-8 (Excel: 'CSV UTF-8').")


def _separator(header_line: str, required: Sequence[str]) -> str:
    """The separator that makes the header hold every required column, and of those the one that splits it
    into the most columns (a comma when none fits)."""
    best, most = ",", 0
    for sep in SEPARATORS:
        fields = [f.strip() for f in next(csv.reader([header_line], delimiter=sep), [])]
        if all(c in fields for c in required) and len(fields) > most:
            best, most = sep, len(fields)
    return best


def read_rows(path: str | Path, required: Sequence[str], problems: list[str]
              ) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV as (line, {column: stripped value}); blank rows are skipped.

    A missing file, an encoding error, missing or duplicate columns and rows with the wrong number of
    fields are appended to ``problems`` (each naming file and line); such rows are left out.
    """
    path = Path(path)
    if not path.exists():
        problems.append(f"{path}: file not found; create it (see corpus/README.md).")
        return []
    text, problem = decode_csv(path, path.read_bytes())
    if text is None:
        problems.append(problem or f"{path}: cannot be read.")
        return []
    header_line = text.splitlines()[0] if text.strip() else ""
    sep = _separator(header_line, required)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    try:
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in required if c not in header]
        if missing:
            problems.append(f"{path} line 1: missing column(s) {', '.join(missing)}; the header must contain "
                            f"{', '.join(required)} (found: {', '.join(h for h in header if h) or 'nothing'}). "
                            "Hint: the first line names the columns, separated by commas.")
            return []
        duplicates = sorted({h for h in header if h and header.count(h) > 1})
        if duplicates:
            problems.append(f"{path} line 1: column(s) {', '.join(duplicates)} appear more than once; keep one.")
            return []
        rows: list[tuple[int, dict[str, str]]] = []
        end = reader.line_num
        for fields in reader:
            line, end = end + 1, reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                problems.append(_field_count_problem(path, line, len(fields), len(header), sep))
                continue
            rows.append((line, {h: v.strip() for h, v in zip(header, fields) if h}))
        return rows
    except csv.Error as exc:
        problems.append(f"{path} line {reader.line_num}: {exc}. Hint: a value with a quote sign must be quoted as a "
                        'whole, with the quote doubled ("een ""citaat""").')
        return []


def _field_count_problem(path: Path, line: int, n: int, expected: int, sep: str) -> str:
    name = _SEPARATOR_NAMES[sep]
    if n > expected:
        return (f"{path} line {line}: {n} fields, but the header has {expected}: a {name} inside a value? "
                f'Hint: put that value in double quotes ("Interview wethouder X{sep} Y") or remove the {name}.')
    return (f"{path} line {line}: {n} fields, but the header has {expected}: a value or a {name} is missing. "
            f"Hint: every row needs all {expected} fields; leave a field empty with two {name}s in a row.")
