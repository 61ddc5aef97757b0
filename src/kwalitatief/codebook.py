"""The codebook: loading and validating ``codebook/codebook.yaml`` and its valence lexicon.

The codebook is researcher input. Its structure (see the file's own header for the rule syntax)::

    lexicon: lexicon/valence.tsv        # evaluative lexicon, relative to the codebook folder
    negators: [niet, geen, ...]         # negation and hedging words (block a cue / flip a valence)
    clause_breaks: [maar, want, ...]    # words that end a clause (negation never crosses them)
    contrast: [maar, echter, ...]       # contrast markers (also clause breaks)
    cues: {name: [pattern, ...]}        # named cue sets, used in rules as "@name"
    categories:
      - id: <category>
        label: ...                      # the category's Dutch label (report, review page, exports)
        valence: true | false           # do its codes carry a valence (positief / negatief / gemengd)?
        codes:
          - id: <category>.<name>
            label / definition / include / exclude / examples
            rules: [{id, match, with, without, without_codes, scope, negation}]

:func:`load_codebook` returns a :class:`Codebook` or raises :class:`CodebookError` whose ``problems``
name the file, the line and what to do. :func:`check_codebook` is what ``kwal check`` runs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CATEGORY_FIELDS = ("id", "label", "valence", "codes", "note")
VALENCES = ("positief", "negatief", "gemengd")
POLARITY_REFS = ("@positief", "@negatief")
CODE_FIELDS = ("id", "label", "definition", "include", "exclude", "examples", "rules")
RULE_FIELDS = ("id", "match", "with", "without", "without_codes", "scope", "negation", "note")
SCOPES = ("sentence", "fragment")
NEGATION_MODES = ("block", "ignore")


class CodebookError(Exception):
    """The codebook cannot be used; ``problems`` lists every error with file, line and a hint."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


# --------------------------------------------------------------------------- YAML with line numbers

class LineDict(dict):
    """A mapping from YAML that remembers the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class LineList(list):
    """A sequence from YAML that remembers its line and the line of each item (1-based)."""

    line: int = 0
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    """A safe loader that keeps line numbers and reports duplicate keys."""

    def __init__(self, stream: Any):
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            loader.duplicates.append((str(key), key_node.start_mark.line + 1))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode, deep: bool = False) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml_with_lines(path: Path) -> tuple[Any, list[tuple[str, int]]]:
    """Parse a YAML file into LineDict/LineList objects; returns (data, duplicate keys with lines)."""
    text = path.read_text(encoding="utf-8")
    loader = _LineLoader(text)
    try:
        data = loader.get_single_data()
    finally:
        loader.dispose()
    return data, loader.duplicates


# --------------------------------------------------------------------------- the codebook model

@dataclass
class Rule:
    """One explainable rule of a code (see the codebook header for the syntax)."""

    id: str
    code: str
    match: list[Any]
    with_: list[list[Any]] = field(default_factory=list)
    without: list[Any] = field(default_factory=list)
    without_codes: list[str] = field(default_factory=list)
    scope: str = "sentence"
    negation: str = "block"
    line: int = 0


@dataclass
class Code:
    id: str
    category: str
    label: str
    definition: str
    include: list[str]
    exclude: list[str]
    examples: list[str]
    rules: list[Rule]
    line: int = 0


@dataclass
class LexiconEntry:
    term: str
    polarity: str          # positief | negatief | gemengd
    variants: list[str]
    line: int


@dataclass
class Codebook:
    """A loaded, validated codebook with its lexicon and content hash (``version``)."""

    path: Path
    codes: list[Code]
    cues: dict[str, list[Any]]
    negators: list[str]
    clause_breaks: list[str]
    contrast: list[str]
    lexicon: list[LexiconEntry]
    lexicon_paths: list[Path]
    version: str
    categories: dict[str, str] = field(default_factory=dict)     # category id -> label
    valence_categories: frozenset[str] = frozenset()              # categories whose codes carry a valence

    @property
    def code_ids(self) -> list[str]:
        return [c.id for c in self.codes]

    def code(self, code_id: str) -> Code:
        for c in self.codes:
            if c.id == code_id:
                return c
        raise KeyError(code_id)

    @property
    def valenced_codes(self) -> frozenset[str]:
        """The codes that carry a valence (their category declares ``valence: true``)."""
        return frozenset(c.id for c in self.codes if c.category in self.valence_categories)

    def has_valence(self, code_id: str) -> bool:
        return code_id in self.valenced_codes

    def label(self, code_id: str) -> str:
        """A code's label ('' for an unknown code)."""
        return next((c.label for c in self.codes if c.id == code_id), "")

    @property
    def rules(self) -> list[Rule]:
        return [r for c in self.codes for r in c.rules]


def codebook_version(path: str | Path, lexicon_paths: list[Path] | None = None) -> str:
    """Content hash of the codebook file and its lexicon files (what a coding run depended on)."""
    path = Path(path)
    digest = hashlib.sha256()
    digest.update(path.read_bytes())
    for lex in sorted(lexicon_paths or []):
        digest.update(b"\x00" + str(lex.relative_to(path.parent) if lex.is_relative_to(path.parent)
                                    else lex.name).encode("utf-8") + b"\x00")
        digest.update(lex.read_bytes())
    return digest.hexdigest()[:16]


# --------------------------------------------------------------------------- lexicon

def load_lexicon(path: Path) -> tuple[list[LexiconEntry], list[str]]:
    """Read a TSV valence lexicon: ``term<TAB>polarity[<TAB>variant|variant...]``; '#' starts a comment."""
    entries: list[LexiconEntry] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("\t")]
        if len(parts) < 2 or not parts[0]:
            problems.append(f"{path}:{number}: expected 'term<TAB>polarity[<TAB>variants]', got {raw!r}. "
                            "Hint: separate the columns with a tab character.")
            continue
        term, polarity = parts[0].lower(), parts[1].lower()
        if polarity not in VALENCES:
            problems.append(f"{path}:{number}: polarity '{parts[1]}' of '{term}' is not one of "
                            f"{', '.join(VALENCES)}.")
            continue
        if term in seen:
            problems.append(f"{path}:{number}: duplicate lexicon term '{term}' (first on line {seen[term]}). "
                            "Hint: keep one line per term.")
            continue
        seen[term] = number
        variants = [v.strip().lower() for v in parts[2].split("|")] if len(parts) > 2 and parts[2] else []
        entries.append(LexiconEntry(term, polarity, [v for v in variants if v], number))
    return entries, problems


# --------------------------------------------------------------------------- validation

_CODE_ID = re.compile(r"^[a-z]+\.[a-z0-9_]+$")


def _where(path: Path, node: Any, key: str | None = None) -> str:
    line = 0
    if isinstance(node, LineDict):
        line = node.key_lines.get(key, node.line) if key else node.line
    elif isinstance(node, LineList):
        line = node.line
    return f"{path}:{line}" if line else str(path)


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def _pattern_list(value: Any) -> bool:
    """A list of patterns: strings (rule syntax), @references, or lists of spaCy token dicts."""
    if not isinstance(value, list) or not value:
        return False
    for item in value:
        if isinstance(item, str) and item.strip():
            continue
        if isinstance(item, list) and item and all(isinstance(t, dict) for t in item):
            continue
        return False
    return True


def _parse_rule(path: Path, code_id: str, node: Any, problems: list[str]) -> Rule | None:
    if not isinstance(node, dict):
        problems.append(f"{_where(path, node)}: a rule of '{code_id}' must be a mapping with id and match.")
        return None
    where = _where(path, node)
    for key in node:
        if key not in RULE_FIELDS:
            problems.append(f"{_where(path, node, key)}: unknown rule field '{key}' in '{code_id}'. "
                            f"Hint: allowed fields are {', '.join(RULE_FIELDS)}.")
    rid = node.get("id")
    if not isinstance(rid, str) or not rid:
        problems.append(f"{where}: a rule of '{code_id}' has no id. Hint: use '{code_id}.<name>'.")
        return None
    if not _pattern_list(node.get("match")):
        problems.append(f"{_where(path, node, 'match') if 'match' in node else where}: rule '{rid}': 'match' "
                        "must be a non-empty list of patterns (strings such as 'werken|werkt _3 samen').")
        return None
    with_groups: list[list[Any]] = []
    raw_with = node.get("with", []) or []
    if not isinstance(raw_with, list):
        problems.append(f"{_where(path, node, 'with')}: rule '{rid}': 'with' must be a list of cue groups.")
    else:
        for group in raw_with:
            group = [group] if isinstance(group, str) else group
            if not _pattern_list(group):
                problems.append(f"{_where(path, node, 'with')}: rule '{rid}': each 'with' entry must be a "
                                "pattern, an @cue set, or a list of them (any of which may occur).")
                continue
            with_groups.append(list(group))
    without = node.get("without", []) or []
    if without and not _pattern_list(without):
        problems.append(f"{_where(path, node, 'without')}: rule '{rid}': 'without' must be a list of patterns.")
        without = []
    without_codes = node.get("without_codes", []) or []
    if not _str_list(without_codes):
        problems.append(f"{_where(path, node, 'without_codes')}: rule '{rid}': 'without_codes' must be a "
                        "list of code ids.")
        without_codes = []
    scope = node.get("scope", "sentence")
    if scope not in SCOPES:
        problems.append(f"{_where(path, node, 'scope')}: rule '{rid}': scope '{scope}' is not one of "
                        f"{', '.join(SCOPES)}.")
    negation = node.get("negation", "block")
    if negation not in NEGATION_MODES:
        problems.append(f"{_where(path, node, 'negation')}: rule '{rid}': negation '{negation}' is not one "
                        f"of {', '.join(NEGATION_MODES)}.")
    return Rule(rid, code_id, list(node["match"]), with_groups, list(without), list(without_codes),
                scope, negation, getattr(node, "line", 0))


def _parse_code(path: Path, category: str, node: Any, problems: list[str]) -> Code | None:
    if not isinstance(node, dict):
        problems.append(f"{_where(path, node)}: each code must be a mapping ({', '.join(CODE_FIELDS)}).")
        return None
    cid = node.get("id")
    where = _where(path, node)
    if not isinstance(cid, str) or not _CODE_ID.match(cid):
        problems.append(f"{where}: code id {cid!r} is missing or malformed. Hint: use '<category>.<name>', "
                        "lower case, e.g. 'barriere.wachtlijst'.")
        return None
    if cid.split(".")[0] != category:
        problems.append(f"{where}: code '{cid}' is listed under category '{category}'. Hint: its id must "
                        f"start with '{category}.' or move it to its own category.")
    for key in node:
        if key not in CODE_FIELDS:
            problems.append(f"{_where(path, node, key)}: unknown field '{key}' in code '{cid}'. "
                            f"Hint: allowed fields are {', '.join(CODE_FIELDS)}.")
    for key in ("label", "definition"):
        if not isinstance(node.get(key), str) or not node.get(key, "").strip():
            problems.append(f"{where}: code '{cid}' has no {key}. Hint: add '{key}: ...' (a short text).")
    for key in ("include", "exclude"):
        if not _str_list(node.get(key)) or not node.get(key):
            problems.append(f"{_where(path, node, key) if key in node else where}: code '{cid}': '{key}' "
                            "must be a non-empty list of criteria (one sentence each).")
    examples = node.get("examples")
    if not _str_list(examples) or len(examples) < 2:
        problems.append(f"{_where(path, node, 'examples') if 'examples' in node else where}: code '{cid}' "
                        "needs at least two example fragments under 'examples'.")
    rules_node = node.get("rules")
    rules: list[Rule] = []
    if not isinstance(rules_node, list) or not rules_node:
        problems.append(f"{_where(path, node, 'rules') if 'rules' in node else where}: code '{cid}' has no "
                        "rules. Hint: add at least one rule with an id and a 'match' list.")
    else:
        for rnode in rules_node:
            rule = _parse_rule(path, cid, rnode, problems)
            if rule:
                rules.append(rule)
    return Code(cid, category, str(node.get("label", "")), str(node.get("definition", "")),
                list(node.get("include") or []), list(node.get("exclude") or []),
                list(examples or []), rules, getattr(node, "line", 0))


def _collect_refs(patterns: list[Any]) -> list[str]:
    return [p for p in patterns if isinstance(p, str) and p.strip().startswith("@")]


def parse_codebook(path: str | Path) -> tuple[Codebook | None, list[str]]:
    """Parse and validate the structure of a codebook; returns (codebook or None, problems)."""
    path = Path(path)
    problems: list[str] = []
    if not path.exists():
        return None, [f"{path}: codebook not found. Hint: create codebook/codebook.yaml or pass --codebook PATH."]
    try:
        data, duplicates = load_yaml_with_lines(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [f"{path}{line}: YAML syntax error: {problem}. Hint: check the indentation and quoting "
                      "on this line and the one before (a ':' or '#' inside text needs quotes)."]
    for key, line in duplicates:
        problems.append(f"{path}:{line}: duplicate key '{key}'. Hint: each key may appear once per mapping.")
    if not isinstance(data, dict):
        return None, problems + [f"{path}:1: expected a mapping with 'categories' at the top level."]

    lexicon: list[LexiconEntry] = []
    lexicon_paths: list[Path] = []
    lex_field = data.get("lexicon")
    wants_valence = any(isinstance(c, dict) and c.get("valence") is True for c in data.get("categories") or [])
    if not lex_field and wants_valence:
        problems.append(f"{_where(path, data)}: no valence lexicon. Hint: add 'lexicon: lexicon/valence.tsv' "
                        "and put the evaluative words there (term<TAB>positief|negatief|gemengd).")
    elif lex_field:
        for rel in ([lex_field] if isinstance(lex_field, str) else list(lex_field)):
            lex_path = (path.parent / str(rel))
            if not lex_path.is_file():
                problems.append(f"{_where(path, data, 'lexicon')}: valence lexicon '{rel}' not found at "
                                f"{lex_path}. Hint: codes with a valence need it; restore the file or fix the path.")
                continue
            entries, lex_problems = load_lexicon(lex_path)
            problems.extend(lex_problems)
            lexicon.extend(entries)
            lexicon_paths.append(lex_path)
        if lexicon_paths and not lexicon:
            problems.append(f"{_where(path, data, 'lexicon')}: the valence lexicon is empty.")

    word_lists: dict[str, list[str]] = {}
    for key in ("negators", "clause_breaks", "contrast"):
        value = data.get(key, [])
        if not _str_list(value):
            problems.append(f"{_where(path, data, key)}: '{key}' must be a list of words.")
            value = []
        word_lists[key] = [v.lower() for v in value]
    if not word_lists["negators"]:
        problems.append(f"{_where(path, data)}: no 'negators' list. Hint: list Dutch negators such as niet, geen, "
                        "nooit, nauwelijks.")

    cues: dict[str, list[Any]] = {}
    raw_cues = data.get("cues", {}) or {}
    if not isinstance(raw_cues, dict):
        problems.append(f"{_where(path, data, 'cues')}: 'cues' must map names to lists of patterns.")
    else:
        for name, patterns in raw_cues.items():
            if not _pattern_list(patterns):
                problems.append(f"{_where(path, raw_cues, name)}: cue set '{name}' must be a non-empty list of "
                                "patterns.")
                continue
            cues[str(name)] = list(patterns)

    codes: list[Code] = []
    categories: dict[str, str] = {}
    valence_categories: set[str] = set()
    cats = data.get("categories")
    if not isinstance(cats, list) or not cats:
        problems.append(f"{_where(path, data, 'categories') if 'categories' in data else path}: "
                        "'categories' must be a list of categories, each with id, label and codes.")
        cats = []
    for cat in cats:
        if not isinstance(cat, dict) or not isinstance(cat.get("id"), str):
            problems.append(f"{_where(path, cat)}: each category needs an 'id' (one word, lower case) and a "
                            "'label'.")
            continue
        _check_category(path, cat, categories, problems)
        categories[cat["id"]] = str(cat.get("label", cat["id"]))
        if cat.get("valence") is True:
            valence_categories.add(cat["id"])
        if not isinstance(cat.get("codes"), list):
            problems.append(f"{_where(path, cat)}: category '{cat['id']}' has no list of 'codes'.")
            continue
        for node in cat["codes"]:
            code = _parse_code(path, cat["id"], node, problems)
            if code:
                codes.append(code)

    seen: dict[str, int] = {}
    for code in codes:
        if code.id in seen:
            problems.append(f"{path}:{code.line}: duplicate code id '{code.id}' (first on line {seen[code.id]}). "
                            "Hint: code ids must be unique.")
        seen.setdefault(code.id, code.line)
    rule_seen: dict[str, int] = {}
    known = set(seen)
    for code in codes:
        for rule in code.rules:
            if rule.id in rule_seen:
                problems.append(f"{path}:{rule.line}: duplicate rule id '{rule.id}' (first on line "
                                f"{rule_seen[rule.id]}).")
            rule_seen.setdefault(rule.id, rule.line)
            prefix = rule.id.rsplit(".", 1)[0] if rule.id.count(".") >= 2 else rule.id
            if prefix != code.id:
                target = "unknown code id" if prefix not in known else "another code"
                problems.append(f"{path}:{rule.line}: rule id '{rule.id}' names {target} '{prefix}' but is a "
                                f"rule of '{code.id}'. Hint: name it '{code.id}.<name>'.")
            for other in rule.without_codes:
                if other not in known:
                    problems.append(f"{path}:{rule.line}: rule '{rule.id}': unknown code id '{other}' in "
                                    "without_codes. Hint: use an id defined in this codebook.")
            refs = _collect_refs(rule.match) + _collect_refs(rule.without)
            refs += [r for g in rule.with_ for r in _collect_refs(g)]
            for ref in refs:
                name = ref.strip()[1:]
                if ref.strip() not in POLARITY_REFS and name not in cues:
                    problems.append(f"{path}:{rule.line}: rule '{rule.id}' refers to unknown cue set '{ref}'. "
                                    f"Hint: define it under 'cues:' or use {' / '.join(POLARITY_REFS)}.")
            if code.category in valence_categories and not lexicon:
                problems.append(f"{path}:{rule.line}: rule '{rule.id}' of a category with valence needs the "
                                "valence lexicon.")
    if problems:
        return None, problems
    version = codebook_version(path, lexicon_paths)
    return Codebook(path, codes, cues, word_lists["negators"], word_lists["clause_breaks"],
                    word_lists["contrast"], lexicon, lexicon_paths, version, categories,
                    frozenset(valence_categories)), []


def _check_category(path: Path, cat: dict, seen: dict[str, str], problems: list[str]) -> None:
    """A category declares its id, a Dutch label and whether its codes carry a valence."""
    cid = cat["id"]
    if not re.fullmatch(r"[a-z][a-z0-9_]*", cid):
        problems.append(f"{_where(path, cat, 'id')}: category id '{cid}' must be one lower-case word "
                        "(letters, digits, _), e.g. 'barriere'.")
    if cid in seen:
        problems.append(f"{_where(path, cat, 'id')}: category '{cid}' is declared twice; keep one.")
    if not isinstance(cat.get("label"), str) or not cat["label"].strip():
        problems.append(f"{_where(path, cat)}: category '{cid}' needs a Dutch 'label' (shown in the report).")
    if "valence" in cat and not isinstance(cat["valence"], bool):
        problems.append(f"{_where(path, cat, 'valence')}: category '{cid}': valence is true (its codes carry "
                        "positief / negatief / gemengd) or false.")
    for extra in sorted(set(cat) - set(CATEGORY_FIELDS)):
        problems.append(f"{_where(path, cat, extra)}: category '{cid}': unknown field '{extra}'; use "
                        f"{', '.join(CATEGORY_FIELDS)}.")


def load_codebook(path: str | Path = "codebook/codebook.yaml") -> Codebook:
    """Load a codebook; raise :class:`CodebookError` listing every problem (file:line: message. Hint)."""
    codebook, problems = parse_codebook(path)
    if codebook is None:
        raise CodebookError(problems)
    return codebook


def check_codebook(path: str | Path, params: dict[str, Any] | None = None) -> list[str]:
    """The errors of a codebook (structure, references, lexicon, patterns that can never match).

    An empty list means the codebook is usable. Warnings (dead alternatives next to live ones) are not
    included; :func:`codebook_findings` returns both, and ``kwal check`` prints both but fails on errors only.
    """
    return codebook_findings(path, params)[0]


def codebook_findings(path: str | Path, params: dict[str, Any] | None = None) -> tuple[list[str], list[str]]:
    """All problems of a codebook as ``(errors, warnings)``; what ``kwal check`` runs.

    Errors make the codebook unusable or a rule (part) unable to ever match; warnings name alternatives of
    a ``|`` list that can never match while another alternative of the same token can.
    """
    codebook, problems = parse_codebook(path)
    if codebook is None:
        return problems, []
    from .nlp import load_nlp
    from .rules import pattern_problems

    model = ((params or {}).get("nlp") or {}).get("model", "nl_core_news_sm")
    nlp = load_nlp(model)
    errors = pattern_problems(codebook, nlp)
    alt_errors, warnings = alternative_problems(codebook, nlp)
    # alternative_problems reports fully dead tokens per alternative, with the pattern's own line
    errors = [e for e in errors if _WHOLE_TOKEN_DEAD not in e] + alt_errors
    return errors, warnings


# --------------------------------------------------------------------------- `|` alternatives

_WHOLE_TOKEN_DEAD = "can never match: no word has the lemma"   # pattern_problems' message for a dead token
_GAP = re.compile(r"_\d*")


def _located_patterns(codebook: Codebook) -> list[tuple[str, int, str]]:
    """Every string pattern of the cue sets and rules as (owner, line, pattern), owner naming the cue set
    or rule. Lines come from the YAML (the line of the pattern itself)."""
    data, _ = load_yaml_with_lines(codebook.path)
    found: list[tuple[str, int, str]] = []

    def add(owner: str, items: Any, fallback: int) -> None:
        if not isinstance(items, list):
            return
        lines = getattr(items, "item_lines", [])
        for i, item in enumerate(items):
            line = lines[i] if i < len(lines) else fallback
            if isinstance(item, str):
                found.append((owner, line, item))
            elif isinstance(item, list):                  # a 'with' group
                add(owner, item, line)

    for name, patterns in (data.get("cues") or {}).items():
        add(f"cue set '{name}'", patterns, getattr(data.get("cues"), "line", 0))
    for cat in data.get("categories") or []:
        for code in (cat.get("codes") or []) if isinstance(cat, dict) else []:
            for rule in (code.get("rules") or []) if isinstance(code, dict) else []:
                if not isinstance(rule, dict):
                    continue
                owner = f"rule '{rule.get('id')}'"
                for key in ("match", "with", "without"):
                    add(owner, rule.get(key), rule.key_lines.get(key, rule.line))
    return found


def _short(token: str, limit: int = 60) -> str:
    """A token for a message, shortened when it is a long '|' list."""
    return f"token '{token}'" if len(token) <= limit else f"token '{token[:limit]}...'"


def _alternatives(raw: str) -> tuple[list[str], bool]:
    """The alternatives of one pattern token as written (lower case) and whether it is an '=' token."""
    text = raw.strip()
    if len(text) > 1 and text.endswith("?"):
        text = text[:-1]
    exact = text.startswith("=")
    return text[1:].lower().split("|") if exact else text.lower().split("|"), exact


def _covered(lemma: str, alternatives: list[str]) -> bool:
    """Whether a word with ``lemma`` is matched by one of the token's alternatives (literal or prefix ``x*``)."""
    for alt in alternatives:
        if alt == lemma or ("*" in alt and re.fullmatch(re.escape(alt).replace(r"\*", ".*"), lemma)):
            return True
    return False


def alternative_problems(codebook: Codebook, nlp: Any) -> tuple[list[str], list[str]]:
    """Check each alternative of every ``a|b|c`` token of the cue sets and rules; returns (errors, warnings).

    Errors: rule syntax inside a ``|`` list (``@cue``, ``=word``, ``_``/``_3``, ``word?``) or an alternative
    that is several tokens -- all of which would be taken literally and never match; and tokens none of
    whose alternatives can ever be a lemma the pipeline produces. Warnings: single dead alternatives of a
    token whose other alternatives can match.
    """
    from .rules import _producible_lemmas

    errors: list[str] = []
    warnings: list[str] = []
    checked: list[tuple[str, str, list[str], bool]] = []   # where, token, literal alternatives, has wildcard
    for owner, line, pattern in _located_patterns(codebook):
        if pattern.strip().startswith("@"):
            continue
        where = f"{codebook.path}:{line}: {owner}"
        if len(pattern.split()) > 1:
            where += f": pattern {pattern!r}"
        for token in pattern.split():
            alts, exact = _alternatives(token)
            if len(alts) < 2:
                if alts[0].startswith("@"):
                    errors.append(f"{where}: {_short(token)}: a cue set is only used as a whole pattern; "
                                  "inside a pattern it is taken literally and never matches. Hint: make "
                                  f"'{alts[0]}' its own pattern in this list, or require it with 'with'.")
                elif not exact and alts[0] and "*" not in alts[0] and not _GAP.fullmatch(alts[0]):
                    checked.append((where, token, alts, False))
                continue
            bad = False
            for alt in alts:
                hint = ""
                if alt.startswith("@"):
                    hint = (f"'{alt}' inside a '|' list is taken literally, not as a cue set. Hint: make "
                            f"'{alt}' its own pattern in this list (a cue set only works as a whole pattern)")
                elif alt.startswith("="):
                    hint = (f"'{alt}' inside a '|' list is taken literally. Hint: put '=' once before the "
                            "whole token ('=a|b'), or make a separate pattern for it")
                elif _GAP.fullmatch(alt):
                    hint = (f"the gap '{alt}' inside a '|' list is taken literally. Hint: write gaps as their "
                            "own token, or split the alternatives into separate patterns")
                elif len(alt) > 1 and alt.endswith("?"):
                    hint = (f"'{alt}': '?' inside a '|' list is taken literally. Hint: put '?' once at the "
                            "end of the whole token ('a|b?')")
                elif alt and "*" not in alt and len(nlp.make_doc(alt)) != 1:
                    parts = " / ".join(t.text for t in nlp.make_doc(alt))
                    hint = (f"'{alt}' is several tokens ({parts}), so as one alternative it never matches. "
                            "Hint: split it into a separate pattern with one token per word")
                if hint:
                    bad = True
                    errors.append(f"{where}: {_short(token)}: {hint}.")
            if exact or bad or any(not a for a in alts):
                continue                    # '=' words are matched as written; empty alts fail to compile
            literals = [a for a in alts if "*" not in a]
            checked.append((where, token, literals, len(literals) < len(alts)))
    producible = _producible_lemmas(nlp, {a for _, _, alts, _ in checked for a in alts})

    def lemma_of(word: str) -> str:
        doc = nlp(word)
        return (doc[0].lemma_ or doc[0].text).lower() if len(doc) == 1 else "several tokens"

    for where, token, literals, wildcard in checked:
        dead = list(dict.fromkeys(a for a in literals if not producible.get(a, False)))
        # an inflected form whose lemma another alternative lists (or a prefix covers) matches through it
        alternatives = _alternatives(token)[0]
        dead = [a for a in dead if not _covered(lemma_of(a), [x for x in alternatives if x != a])]
        if not dead:
            continue
        shown = ", ".join(f"'{a}' is lemmatised as '{lemma_of(a)}'" for a in dead)
        if wildcard or len(dead) < len(literals):
            warnings.append(f"{where}: {_short(token)}: alternative(s) {'|'.join(dead)} can never match: no "
                            f"word has that lemma ({shown}). Hint: drop them or use the lemma; the other "
                            "alternatives still match.")
        elif len(literals) == 1:
            errors.append(f"{where}: {_short(token)} can never match: no word has the lemma '{token}' "
                          f"({shown}). Hint: use the lemma, or a prefix such as 'stem*'.")
        else:
            errors.append(f"{where}: {_short(token)} can never match: none of its alternatives is a lemma "
                          f"({shown}). Hint: use the lemma, add it as an alternative, or use a prefix such "
                          "as 'stem*'.")
    return errors, warnings
