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


_REGEX_SIGNS = re.compile(r"\\.|\.[*+?]|[\^$()\[\]{}+]")   # \w, .*, .+, ^, $, (a|b), [ae], {2}, +
_PATTERN_SYNTAX = ("patterns are lemmas, not regular expressions: 'samenwerk*' is a lemma starting with "
                   "samenwerk, '*beleid' one ending in beleid, 'a|b' either, 'de?' optional, '_3' up to three "
                   "words (the rule syntax is at the top of the codebook)")


def regex_like_problems(where: str, patterns: list[Any]) -> list[str]:
    """Tokens written as regular expressions (``samenwerk.*``, ``^samenwerk\\w+$``): they are taken
    literally and never match, so they are refused with the pattern syntax we do accept."""
    problems = []
    for pattern in patterns:
        if not isinstance(pattern, str):
            continue
        for token in pattern.split():
            body = token[:-1] if len(token) > 1 and token.endswith("?") else token   # 'de?' is optional
            signs = list(dict.fromkeys(m.group(0) for m in _REGEX_SIGNS.finditer(body)))
            if not signs:
                continue
            suggestion = re.sub(r"\\w[+*]|\.[*+]|\\S[+*]", "*", token).strip("^$")
            hint = f"write '{suggestion}'; " if not _REGEX_SIGNS.search(suggestion) else ""
            problems.append(f"{where}: pattern {pattern!r}: token '{token}' looks like a regular expression "
                            f"({' '.join(signs)}) and would never match. Hint: {hint}{_PATTERN_SYNTAX}.")
    return problems


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
    for owner, line, pattern in patterns_with_lines(data):
        problems.extend(regex_like_problems(f"{path}:{line}: {owner}", [pattern]))
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


def patterns_with_lines(data: Any) -> list[tuple[str, int, str]]:
    """Every string pattern of the cue sets and rules in the codebook's YAML (as loaded by
    :func:`load_yaml_with_lines`) as (owner, line, pattern), owner naming the cue set or rule."""
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

    cues = data.get("cues")
    for name, patterns in (cues.items() if isinstance(cues, dict) else []):
        add(f"cue set '{name}'", patterns, getattr(cues, "line", 0))
    cats = data.get("categories")
    for cat in cats if isinstance(cats, list) else []:
        for code in (cat.get("codes") or []) if isinstance(cat, dict) else []:
            for rule in (code.get("rules") or []) if isinstance(code, dict) else []:
                if not isinstance(rule, dict):
                    continue
                owner = f"rule '{rule.get('id')}'"
                for key in ("match", "with", "without"):
                    add(owner, rule.get(key), rule.key_lines.get(key, rule.line))
    return found
