"""Plain-text bytes to text: the encoding is recognised, and content that is not text is refused.

In order: a byte-order mark (UTF-32 and UTF-16 little/big endian, UTF-8); the NUL pattern of UTF-16/32
without a mark (ASCII letters in UTF-16 LE are ``x\\0``); strict UTF-8; cp1252; a statistical guess
(charset-normalizer). Before any of that, file signatures name what a file with a ``.txt`` name really
is (a PDF, a DOCX or other ZIP, an old Word file, RTF); after decoding, text with NUL or many other control
characters is refused as binary, never passed on as text full of garbage.
"""

from __future__ import annotations

import codecs

SAMPLE = 4096                  # bytes looked at for the NUL pattern
MAX_CONTROL_SHARE = 0.01       # control characters (not tab, newline, carriage return, form feed) allowed

_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE mark
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SIGNATURES = (
    (b"%PDF-", "a PDF file with a text-file name; give it the extension .pdf (and list that path in the manifest)"),
    (b"PK\x03\x04", "a ZIP archive (a DOCX or XLSX file?) with a text-file name; a Word document needs the "
                    "extension .docx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Word/Excel file (.doc/.xls); save it as .docx or as plain text"),
    (b"{\\rtf", "an RTF file; save it as .docx or as plain text (UTF-8)"),
)
_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f", "\v"}


class UnreadableText(ValueError):
    """The bytes are not text we can read; the message says why and what to do."""


def _nul_pattern(raw: bytes) -> str | None:
    """UTF-16/32 without a byte-order mark, recognised by where the NUL bytes sit."""
    sample = raw[:SAMPLE - SAMPLE % 4]
    if b"\x00" not in sample or len(sample) < 4:
        return None
    n = len(sample)

    def share(offset: int, step: int) -> float:
        positions = range(offset, n, step)
        return sum(1 for i in positions if sample[i] == 0) / max(1, len(positions))

    if share(0, 4) < 0.05 and min(share(1, 4), share(2, 4), share(3, 4)) > 0.9:
        return "utf-32-le"
    if share(3, 4) < 0.05 and min(share(0, 4), share(1, 4), share(2, 4)) > 0.9:
        return "utf-32-be"
    odd, even = share(1, 2), share(0, 2)
    if odd > 0.6 and even < 0.05:
        return "utf-16-le"
    if even > 0.6 and odd < 0.05:
        return "utf-16-be"
    return None


def _refuse_binary(text: str, encoding: str) -> None:
    controls = [i for i, ch in enumerate(text) if ch < " " and ch not in _ALLOWED_CONTROLS]
    nul = text.find("\x00")
    if nul >= 0:
        raise UnreadableText(f"the file holds binary data, not text (a NUL character at position {nul} after "
                             f"reading it as {encoding}); check it is the right file, or save it as plain text "
                             "(UTF-8)")
    if len(controls) > MAX_CONTROL_SHARE * max(1, len(text)):
        raise UnreadableText(f"the file holds binary data, not text ({len(controls)} control characters, the "
                             f"first at position {controls[0]}, reading it as {encoding}); check it is the right "
                             "file, or save it as plain text (UTF-8)")


def decode_text(raw: bytes) -> tuple[str, str]:
    """(text, encoding) of plain-text bytes; raise :class:`UnreadableText` for empty or binary content."""
    if not raw.strip(b" \t\r\n\x00\f\v"):
        raise UnreadableText("the file is empty")
    for signature, what in _SIGNATURES:
        if raw.startswith(signature):
            raise UnreadableText(f"this is not a text file but {what}")
    encoding = next((enc for bom, enc in _BOMS if raw.startswith(bom)), None)
    body = raw[len(next(bom for bom, enc in _BOMS if enc == encoding)):] if encoding else raw
    encoding = encoding or _nul_pattern(raw)
    if encoding:
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError as exc:
            raise UnreadableText(f"the file looks like {encoding.upper()} but byte {exc.start} cannot be read "
                                 "as such; save it again as UTF-8") from exc
        if not text.strip():
            raise UnreadableText("the file is empty")
        _refuse_binary(text, encoding)
        return text, encoding
    nul = raw.find(b"\x00")
    if nul >= 0:   # no UTF-16/32 pattern: NUL bytes do not occur in text of any 8-bit encoding
        raise UnreadableText(f"the file holds binary data, not text (a NUL byte at offset {nul}, and not the "
                             "pattern of UTF-16 or UTF-32); check it is the right file, or save it as plain "
                             "text (UTF-8)")
    for candidate in ("utf-8", "cp1252"):
        try:
            text = raw.decode(candidate)
        except UnicodeDecodeError:
            continue
        _refuse_binary(text, candidate)
        return text, candidate
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise UnreadableText("the encoding could not be detected (binary data?); save the file as UTF-8")
    text = str(best)
    _refuse_binary(text, best.encoding)
    return text, best.encoding
