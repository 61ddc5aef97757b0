"""Transcripts: speaker turns in text, Word and subtitle files as transcription services and researchers
deliver them.

Every source becomes a list of :class:`Paragraph` (text with where it stands in the file, and the
speaker where the file's structure gives one); :func:`build_transcript` finds the turns, decides which
labels are speakers, gives every speaker a role (interviewer or respondent) and says which labels hold a
person's name (to pseudonymise) and which are roles (``Moeder``, ``Spreker 2``: kept).

Accepted forms (also in :data:`ACCEPTED_FORMS`, shown with every error):
- a prefix ``I:``, ``R:``, ``Interviewer:``, ``Geïnterviewde:``, ``Respondent 3:``, ``Spreker 2:`` or a name
  (``Marieke de Boer:``), with a timestamp before the label (``[00:00:05]``, ``(00:00:05)``, ``00:00:05``),
  before the colon or just after it (``I: [00:00:05] …``);
- a speaker header on a line of its own, the text on the next lines (``Spreker 1 [00:00:05]``,
  ``Spreker 1 00:00:05``, ``00:00:05 Spreker 1``: Amberscript, Happy Scribe, Descript, Otter);
- Word: a speaker name alone in a bold paragraph with the text in the next paragraphs, or a table with a
  speaker column and a text column (and optionally a timestamp column);
- subtitles (``.srt``, ``.vtt``): ``<v Spreker>`` voice tags or ``Spreker:`` before the cue text; cues of
  one speaker are joined into one turn, timestamps never reach the text.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .document import Block, Extracted, ExtractionError, Turn
from .docxfile import BodyItem

ACCEPTED_FORMS = (
    "accepted forms: a prefix 'I:', 'R:', 'Interviewer:', 'Respondent 3:', 'Spreker 2:' or a name "
    "('Marieke de Boer:'), optionally with a timestamp before the label, before the colon or after it "
    "('[00:12:31] I:', '(00:12:31) I:', '00:12:31 I:', 'I: [00:12:31]'); a speaker header on a line of "
    "its own with the text on the next lines ('Spreker 1 [00:00:05]', 'Spreker 1 00:00:05', "
    "'00:00:05 Spreker 1'); in Word also the speaker's name alone in a bold paragraph, or a table with "
    "the columns speaker | text; subtitles (.srt, .vtt) with <v Spreker> voice tags or 'Spreker:' before "
    "the cue text"
)


class TranscriptError(ExtractionError):
    """A transcript's turns could not be read; the message names the line and shows the accepted forms."""


# --------------------------------------------------------------------------------------------
# Labels: which are speakers, which role they have, which hold a person's name
# --------------------------------------------------------------------------------------------

INTERVIEWER_LABELS = {"i", "int", "interviewer", "interviewster", "onderzoeker", "vraag", "v"}
RESPONDENT_LABELS = {"r", "resp", "respondent", "geïnterviewde", "geinterviewde", "antwoord", "a"}
# Labels that name a role, not a person: speakers numbered by a transcription service, people by their
# relation or function. Never pseudonymised; their interviewer/respondent role comes from the questions.
ROLE_WORDS = INTERVIEWER_LABELS | RESPONDENT_LABELS | {
    "spreker", "speaker", "stem", "deelnemer", "participant", "moderator", "gespreksleider", "notulist",
    "observator", "tolk", "onbekend", "onbekende", "iedereen", "allen", "groep", "interviewee", "unknown",
    "moeder", "vader", "ouder", "ouders", "pleegmoeder", "pleegvader", "stiefmoeder", "stiefvader", "zoon",
    "dochter", "kind", "broer", "zus", "zuster", "opa", "oma", "partner", "echtgenoot", "echtgenote",
    "man", "vrouw", "mantelzorger", "voogd", "buurman", "buurvrouw",
    "dokter", "arts", "huisarts", "specialist", "verpleegkundige", "verpleger", "verzorgende", "therapeut",
    "psycholoog", "begeleider", "hulpverlener", "maatschappelijk", "werker", "coach", "cliënt", "client",
    "patiënt", "patient", "bewoner", "docent", "leerkracht", "leraar", "lerares", "juf", "meester",
    "mentor", "leerling", "student", "ambtenaar", "medewerker", "manager", "bestuurder", "vrijwilliger",
    "wethouder", "burgemeester", "gedeputeerde", "directeur", "directrice", "voorzitter", "secretaris",
    "adviseur", "beleidsmedewerker", "beleidsadviseur", "projectleider", "coördinator", "programmamanager",
    "mevrouw", "meneer", "mijnheer", "dhr", "mevr", "mw", "dr", "drs", "ir", "mr", "prof", "ing",
}
_PARTICLES = {"van", "de", "der", "den", "het", "'t", "ter", "ten", "te", "la", "le", "du", "da", "di", "von",
              "el", "al", "bin", "ben", "op", "in", "'s"}
_NUMBERING = re.compile(r"(?:[\s_\-]*(?:\d+|[a-z]))$")


def _key(word: str) -> str:
    return word.casefold().strip(".()[]")


def _role_key(label: str) -> str:
    """The label without a service's numbering: ``Respondent 3`` → ``respondent``, ``SPEAKER_00`` → ``speaker``."""
    key = " ".join(_key(w) for w in label.split())
    if key in ROLE_WORDS:
        return key
    stripped = _NUMBERING.sub("", key)
    return stripped if stripped and stripped in ROLE_WORDS else key


def label_role(label: str) -> str | None:
    """``interviewer`` or ``respondent`` for labels that say so (``I``, ``Interviewer 1``), else None."""
    key = _role_key(label)
    if key in INTERVIEWER_LABELS:
        return "interviewer"
    if key in RESPONDENT_LABELS:
        return "respondent"
    return None


_SPEAKER_CODE = re.compile(r"[A-Za-z]{1,3}[\s_\-]?\d{1,3}")  # S01, P3, SPK_2: a service's or researcher's code


def is_role_label(label: str) -> bool:
    """Whether a label names a role (``Moeder``, ``Spreker 2``, ``Geïnterviewde``, ``S01``), not a person."""
    key = _role_key(label)
    if _SPEAKER_CODE.fullmatch(key):
        return True
    return bool(key) and all(word in ROLE_WORDS for word in key.split())


def label_name(label: str) -> str | None:
    """The person's name a label holds, without role words and titles before it (``Dokter Bakker`` →
    ``Bakker``); None for role labels."""
    if is_role_label(label):
        return None
    words = label.replace("(", " ").replace(")", " ").split()
    while words and (_key(words[0]) in ROLE_WORDS or words[0][:1].islower()):
        words = words[1:]
    if not words or all(w.isdigit() or len(w) == 1 for w in words):
        return None
    return " ".join(words)


def _titled_name(label: str) -> bool:
    """A role or title before a name (``Dokter Bakker``, ``Wethouder De Vries``): a label even once."""
    words = label.split()
    return len(words) > 1 and _key(words[0]) in ROLE_WORDS and _name_like(label) and label_name(label) is not None


def _name_like(label: str) -> bool:
    """A label a person could carry: capitalised words, name particles and numbers (not ``Wat wij wilden``)."""
    return all(w[:1].isupper() or w[:1].isdigit() or w.casefold() in _PARTICLES for w in label.split())


# --------------------------------------------------------------------------------------------
# Prefixes in text
# --------------------------------------------------------------------------------------------

_TS = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
_TS_ANY = rf"(?:\[{_TS}\]|\({_TS}\)|#{_TS}(?:-\d+)?#|{_TS})"
# after the colon only an unmistakable timestamp: 'R: 10:30 begon het' keeps its time of day
_TS_AFTER = rf"(?:\[{_TS}\]|\({_TS}\)|#{_TS}(?:-\d+)?#|\d{{1,2}}:\d{{2}}:\d{{2}}(?:[.,]\d{{1,3}})?)"
_LABEL = r"[A-ZÀ-Ý][\w’'.\-]*(?:\s+[\w’'.\-()]+){0,4}"
_INLINE = re.compile(
    rf"^(?:(?P<ts>{_TS_ANY})\s*(?:[-–]\s*)?)?(?P<open>\[)?(?P<label>{_LABEL})(?(open)\])"
    rf"\s*(?:(?P<ts2>{_TS_ANY})\s*)?:(?!\d)\s*(?:(?P<ts3>{_TS_AFTER})\s*(?:[-–]\s*)?)?(?P<rest>.*)$"
)
_HEADER = re.compile(
    rf"^(?:(?P<ts>{_TS_ANY})\s*(?:[-–]\s*)?(?P<label>{_LABEL})"
    rf"|(?P<label2>{_LABEL})(?:\s*[-–]\s*|\s+|(?=[\[(#]))(?P<ts2>{_TS_ANY}))\s*:?$"
)
# a header and its text on one line, as a PDF export or a pasted transcript has them: the timestamp in
# brackets makes it unambiguous ('Spreker 1 [00:00:05] Wat is uw rol?')
_HEADED = re.compile(rf"^(?P<label>{_LABEL})\s*(?P<ts>\[{_TS}\]|\({_TS}\))\s*(?:[-–]\s*)?(?P<rest>\S.*)$")
_LEADING_TS = re.compile(rf"^{_TS_ANY}")
# a timestamp inside a turn's text (noScribe every minute, f4 at the end of a paragraph): not speech
_INNER_TS = re.compile(rf"\s*(?:\[\d{{1,2}}:\d{{2}}:\d{{2}}(?:[.,]\d{{1,3}})?\]|#{_TS}(?:-\d+)?#)(?=\s|$)")
_LONE_TS = re.compile(rf"^{_TS_ANY}(?:\s*[-–]\s*{_TS_ANY})?$")


def _bare_ts(value: str | None) -> str | None:
    return value.strip("[]()#").split("-")[0] if value else None


@dataclass
class Paragraph:
    """A paragraph of a transcript file; ``where`` says where it starts (``line 12``, ``paragraph 4``).

    ``head`` is the length of a speaker header at its start (a label, with or without timestamp, on a
    line or in a bold paragraph of its own); ``speaker`` and ``timestamp`` are set where the file's
    structure gives them (a table's speaker column, a subtitle's voice tag). ``structured`` paragraphs are
    not searched for a prefix; a ``sure`` speaker is accepted without counting its turns."""

    text: str
    where: str
    head: int = 0
    speaker: str | None = None
    timestamp: str | None = None
    structured: bool = False
    sure: bool = False


@dataclass(frozen=True)
class _Prefix:
    label: str
    content: int  # where the turn's content starts in the paragraph
    timestamp: str | None


def _parse_header(text: str) -> tuple[str, str | None] | None:
    match = _HEADER.match(text)
    if not match:
        return None
    return (match["label"] or match["label2"]).strip(), _bare_ts(match["ts"] or match["ts2"])


def _prefix(para: Paragraph) -> _Prefix | None:
    text = para.text
    if para.speaker:
        return _Prefix(para.speaker, min(para.head, len(text)), para.timestamp)
    if para.structured:
        return None
    if para.head:
        parsed = _parse_header(text[:para.head])
        if parsed:
            return _Prefix(parsed[0], min(para.head + 1, len(text)), parsed[1])
    match = _INLINE.match(text)
    if match:
        return _Prefix(match["label"], match.start("rest"), _bare_ts(match["ts"] or match["ts2"] or match["ts3"]))
    match = _HEADED.match(text)
    if match:
        return _Prefix(match["label"], match.start("rest"), _bare_ts(match["ts"]))
    parsed = _parse_header(text)  # a paragraph that is only a header (Word, PDF): the text follows
    return _Prefix(parsed[0], len(text), parsed[1]) if parsed else None


def text_paragraphs(text: str) -> list[Paragraph]:
    """Paragraphs of a plain text: blank lines separate, a speaker prefix or header starts a new one; a
    header's text on the next lines joins it."""
    paragraphs: list[Paragraph] = []
    current: list[str] = []
    first_line = head = 0

    def flush() -> None:
        if current:
            paragraphs.append(Paragraph(" ".join(current), f"line {first_line}", head))
            current.clear()

    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        stripped = " ".join(line.split())
        if not stripped:
            flush()
            continue
        header = _HEADER.match(stripped) is not None and _INLINE.match(stripped) is None
        if current and (header or _INLINE.match(stripped) or _HEADED.match(stripped)):
            flush()
        if not current:
            first_line, head = number, (len(stripped) if header else 0)
        current.append(stripped)
    flush()
    return paragraphs


# --------------------------------------------------------------------------------------------
# Word: bold speaker paragraphs and speaker tables
# --------------------------------------------------------------------------------------------

def _bold_label(text: str) -> tuple[str, str | None] | None:
    """A bold paragraph that is only a speaker label (with a timestamp or colon), as (label, timestamp)."""
    parsed = _parse_header(text)
    if parsed:
        return parsed
    label = text.rstrip(": ").strip()
    if re.fullmatch(_LABEL, label) and len(label) <= 60 and not label.endswith((".", "?", "!")):
        return label, None
    return None


def _is_header_row(text_cell: str) -> bool:
    """A table's first row that names its columns ('Spreker | Tekst'), not a turn."""
    return len(text_cell.split()) <= 2 and not text_cell.endswith((".", "?", "!"))


def _speaker_columns(rows: list[BodyItem]) -> tuple[int, int, int | None] | None:
    """(speaker column, text column, timestamp column) of a table that holds a transcript, else None."""
    if len(rows) < 2:
        return None
    width = len(rows[0].cells)
    if width not in (2, 3) or any(len(r.cells) != width for r in rows):
        return None
    columns = list(range(width))
    stamp = next((c for c in columns if all(_LONE_TS.match(r.cells[c]) or not r.cells[c] for r in rows[1:])
                  and any(r.cells[c] for r in rows)), None)
    rest = [c for c in columns if c != stamp]
    if len(rest) != 2:
        return None
    speaker, text = rest
    body = rows[1:] if _is_header_row(rows[0].cells[text]) else rows
    labels = [r.cells[speaker].rstrip(":") for r in body if r.cells[speaker]]
    counts = Counter(labels)
    if not labels or not all(re.fullmatch(_LABEL, label) and len(label) <= 60 for label in labels):
        return None
    if all(is_role_label(label) for label in counts) or (
            any(label_role(label) for label in counts) and all(map(_name_like, counts))):
        return speaker, text, stamp  # 'Respondent 3 | …', or 'Interviewer | …' with 'Femke Smit | …'
    if max(counts.values()) < 2 or len(counts) > max(2, len(labels) // 2) or not all(map(_name_like, counts)):
        return None  # every row another heading ('Onderwerp | …'): a table of the document, not turns
    return speaker, text, stamp


def docx_paragraphs(items: Sequence[BodyItem]) -> list[Paragraph]:
    """The paragraphs of a Word transcript: bold paragraphs that hold only a label become speaker
    headers; the rows of a speaker table become turns (an empty speaker cell continues the turn)."""
    out: list[Paragraph] = []
    tables: dict[int, list[BodyItem]] = {}
    for item in items:
        if item.table is not None:
            tables.setdefault(item.table, []).append(item)
    layout = {number: _speaker_columns(rows) for number, rows in tables.items()}
    for item in items:
        where = f"paragraph {item.number}"
        columns = layout.get(item.table) if item.table is not None else None
        if columns is not None:
            speaker_col, text_col, stamp_col = columns
            label = item.cells[speaker_col].rstrip(":").strip()
            content = item.cells[text_col]
            stamp = _bare_ts(item.cells[stamp_col]) if stamp_col is not None else None
            if item is tables[item.table][0] and _is_header_row(content):
                out.append(Paragraph(item.text, where, structured=True))  # the header row: 'Spreker | Tekst'
            elif label and label != content:
                out.append(Paragraph(f"{label}: {content}", where, len(label) + 2, label, stamp, True, True))
            elif content:
                out.append(Paragraph(content, where, structured=True))
            continue
        bold = _bold_label(item.text) if item.bold and item.kind == "paragraph" else None
        if bold is not None:
            out.append(Paragraph(item.text, where, len(item.text), bold[0], bold[1]))
        else:
            out.append(Paragraph(item.text, where))
    headers = [p for p in out if p.speaker and not p.structured]
    if _accepted_labels(headers, [_prefix(p) for p in headers]):
        for para in out:  # turns are marked by bold names: 'Interviewer: …' inside a turn is its text
            para.structured = para.structured or not para.speaker
    return out


# --------------------------------------------------------------------------------------------
# Subtitles: SRT and WebVTT (webvtt-py)
# --------------------------------------------------------------------------------------------

_CUE_PREFIX = re.compile(rf"^(?:\[(?P<bracketed>[^\]]{{1,60}})\]|(?P<label>{_LABEL}))\s*:\s*(?P<rest>.*)$")
_TIMING_ATTEMPT = re.compile(r"^\s*[\d:.,]{4,}\s*-+>")  # '00:00:04,500 -> 00:00:07,000'
_BRACKET_ONLY = re.compile(r"^\[(?P<bracketed>[A-Za-z][\w ]{0,40})\]\s+(?P<rest>.*)$")


def _cue_lines(lines: list[str], fmt: str) -> list[tuple[int, str]]:
    """(line number, start time) of every cue timing line; a malformed one is an error naming its line."""
    from webvtt.models import Timestamp
    from webvtt.srt import SRTCueBlock
    from webvtt.vtt import WebVTTCueBlock

    pattern = SRTCueBlock.CUE_TIMINGS_PATTERN if fmt == "srt" else WebVTTCueBlock.CUE_TIMINGS_PATTERN
    example = "00:00:05,000 --> 00:00:08,000" if fmt == "srt" else "00:00:05.000 --> 00:00:08.000"
    out = []
    for number, line in enumerate(lines, 1):
        if "-->" not in line and not _TIMING_ATTEMPT.match(line):
            continue
        match = pattern.match(line)
        try:
            if not match:
                raise ValueError(line)
            start = str(Timestamp.from_string(match.group(1).replace(",", ".")))
        except Exception as exc:
            raise TranscriptError(f"line {number}: not a cue timing; write it as '{example}'") from exc
        out.append((number, start))
    return out


def subtitle_paragraphs(text: str, fmt: str, need_speakers: bool = True) -> list[Paragraph]:
    """One paragraph per speaker turn of an SRT or WebVTT file: consecutive cues of one speaker (a
    ``<v Name>`` voice tag or ``Name:`` before the cue text; a cue without either continues the turn).
    Cues naming no speaker at all are an error unless ``need_speakers`` is False (not a transcript)."""
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    timings = _cue_lines(lines, fmt)
    try:
        captions = webvtt.from_buffer(io.StringIO(text.lstrip("\ufeff")), format=fmt).captions
    except (MalformedFileError, MalformedCaptionError) as exc:
        first = "a line 'WEBVTT'" if fmt == "vtt" else "a cue number, a timing line and the text"
        raise TranscriptError(f"line 1: not a valid .{fmt} file ({exc}); it must start with {first}") from exc
    if not captions:
        raise TranscriptError(f"line 1: the .{fmt} file has no cues; {ACCEPTED_FORMS}")

    cues: list[tuple[str | None, bool, str, str, str]] = []  # speaker, sure, text, timestamp, where
    position = 0
    for caption in captions:
        while position < len(timings) - 1 and timings[position][1] != caption.start:
            position += 1  # a cue without text is left out by the parser
        line = timings[position][0] if timings else 1
        content = " ".join(caption.text.split())
        voice = " ".join((caption.voice or "").split()).strip("/-–: ")  # noScribe writes '<v //S02>' too
        if voice:
            cues.append((voice, True, content, caption.start, f"line {line}"))
            continue
        match = _CUE_PREFIX.match(content) or _BRACKET_ONLY.match(content)
        if match:
            label = (match["bracketed"] or match.groupdict().get("label") or "").strip()
            cues.append((label, False, match["rest"], caption.start, f"line {line}"))
        else:
            cues.append((None, False, content, caption.start, f"line {line}"))
    counts = Counter(speaker for speaker, sure, *_ in cues if speaker and not sure)
    accepted = {s for s, n in counts.items() if is_role_label(s) or (n >= 2 and _name_like(s))}

    out: list[Paragraph] = []
    current: str | None = None
    for speaker, sure, content, start, where in cues:
        if speaker and not sure and speaker not in accepted:
            content, speaker = f"{speaker}: {content}", None
        if speaker and speaker != current:
            current = speaker
            out.append(Paragraph(f"{speaker}: {content}", where, len(speaker) + 2, speaker, start[:8], True, True))
        elif out and content:
            out[-1].text = f"{out[-1].text} {content}".strip()
        elif content:
            out.append(Paragraph(content, where, structured=True))
    if current is None and need_speakers:
        raise TranscriptError(f"{cues[0][4]}: the cues name no speaker; {ACCEPTED_FORMS}")
    return out


# --------------------------------------------------------------------------------------------
# Turns
# --------------------------------------------------------------------------------------------

def _accepted_labels(paragraphs: list[Paragraph], prefixes: list[_Prefix | None]) -> set[str]:
    """Labels that act as speakers: given by the file's structure, role labels, or a name-like label that
    opens two or more paragraphs (a phrase such as 'Wat wij wilden:' opening one paragraph is no speaker)."""
    counts = Counter(p.label for p in prefixes if p)
    sure = {p.label for p, para in zip(prefixes, paragraphs) if p and para.sure}
    return sure | {label for label, n in counts.items() if label_role(label) or is_role_label(label)
                   or _titled_name(label) or (n >= 2 and _name_like(label))}


def _check_timestamps(paragraphs: list[Paragraph], prefixes: list[_Prefix | None], labels: set[str]) -> None:
    """In a transcript whose turns carry timestamps, a paragraph that starts with one must open a turn."""
    if not any(p and p.label in labels and p.timestamp for p in prefixes):
        return
    for para, prefix in zip(paragraphs, prefixes):
        if para.structured or (prefix and prefix.label in labels) or _LONE_TS.match(para.text):
            continue
        if _LEADING_TS.match(para.text):
            raise TranscriptError(
                f"{para.where}: a timestamp without a speaker label of this transcript "
                f"({', '.join(sorted(labels))}); {ACCEPTED_FORMS}"
            )


def _first_attempt(paragraphs: list[Paragraph], prefixes: list[_Prefix | None]) -> str:
    """Where a turn was probably meant: the first prefix or timestamp not accepted, else the first paragraph."""
    for para, prefix in zip(paragraphs, prefixes):
        if prefix is not None or _LEADING_TS.match(para.text):
            return para.where
    return paragraphs[0].where if paragraphs else "line 1"


def build_transcript(doc_id: str, paragraphs: Sequence[str | Paragraph], source_type: str,
                     encoding: str | None = None) -> Extracted:
    """Assemble a transcript's text, blocks and turns from its paragraphs (plain strings are numbered as
    paragraphs); raise :class:`TranscriptError` naming the line when no turn can be found."""
    paras = [p if isinstance(p, Paragraph) else Paragraph(p, f"paragraph {i + 1}") for i, p in enumerate(paragraphs)]
    prefixes = [_prefix(p) for p in paras]
    labels = _accepted_labels(paras, prefixes)
    if not labels:
        raise TranscriptError(f"{_first_attempt(paras, prefixes)}: no speaker turns found; {ACCEPTED_FORMS}")
    _check_timestamps(paras, prefixes, labels)

    text_parts: list[str] = []
    blocks: list[Block] = []
    turns: list[Turn] = []
    offset = 0
    for para, prefix in zip(paras, prefixes):
        text = para.text
        if _LONE_TS.match(text) and not (prefix and prefix.label in labels):
            continue  # a time marker on a line of its own: not text
        if prefix and prefix.label in labels:
            text = text[:prefix.content] + _INNER_TS.sub("", text[prefix.content:])
        elif turns:
            text = _INNER_TS.sub("", text)
        if text_parts:
            text_parts.append("\n\n")
            offset += 2
        if prefix and prefix.label in labels:
            content_start = offset + prefix.content
            turns.append(Turn(speaker=prefix.label, role="", start=content_start, end=offset + len(text),
                              timestamp=prefix.timestamp, name=label_name(prefix.label)))
            if prefix.content < len(text):
                blocks.append(Block(content_start, offset + len(text), "turn", turn=len(turns) - 1))
        elif turns:
            turns[-1].end = offset + len(text)
            blocks.append(Block(offset, offset + len(text), "turn", turn=len(turns) - 1))
        else:
            blocks.append(Block(offset, offset + len(text), "preamble"))
        text_parts.append(text)
        offset += len(text)
    full_text = "".join(text_parts)
    _assign_roles(full_text, turns)
    return Extracted(doc_id=doc_id, text=full_text, source_type=source_type,
                     blocks=blocks, turns=turns, encoding=encoding)


def _assign_roles(text: str, turns: list[Turn]) -> None:
    """Roles from the labels; speakers without one: when an interviewer is labelled they are respondents,
    otherwise the one whose turns are most often questions is the interviewer."""
    roles = {turn.speaker: label_role(turn.speaker) for turn in turns}
    _assign_roles_by_questions(roles, _question_scores(text, turns, [s for s, r in roles.items() if r is None]))
    for turn in turns:
        turn.role = roles[turn.speaker] or "respondent"


def _question_scores(text: str, turns: list[Turn], unknown: list[str]) -> dict[str, tuple[float, bool]]:
    """Per speaker: question marks per word (an interviewer asks in few words, a respondent's long answers
    hold the odd rhetorical question) and, to break a tie, whether the speaker opens the conversation."""
    marks: Counter[str] = Counter()
    words: Counter[str] = Counter()
    for turn in turns:
        if turn.speaker in unknown:
            content = text[turn.start:turn.end]
            marks[turn.speaker] += content.count("?")
            words[turn.speaker] += len(content.split())
    first = turns[0].speaker if turns else None
    return {label: (marks[label] / max(words[label], 1), label == first) for label in unknown}


def _assign_roles_by_questions(roles: dict[str, str | None], scores: dict[str, tuple[float, bool]]) -> None:
    """Give speakers without a role one: the one who asks most questions is the interviewer."""
    unknown = [label for label, role in roles.items() if role is None]
    if not unknown:
        return
    has_interviewer = "interviewer" in roles.values()
    top = max(unknown, key=lambda label: scores.get(label, (0.0, False)))
    for label in unknown:
        roles[label] = ("interviewer" if not has_interviewer and label == top and len(unknown) > 1
                        else "respondent")
