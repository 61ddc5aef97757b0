"""Explainable rule coding: codebook rules compiled to spaCy matchers, negation and valence.

Pattern syntax (one string per pattern, tokens separated by spaces; all matching is on lower-case lemmas):

- ``samenwerking``          a lemma; ``werken|werkt|werkte`` any of these lemmas (list surface forms too:
                            the fallback lookup lemmatiser leaves many verb forms and plurals as they are)
- ``samenwerk*``            a lemma starting with ``samenwerk`` (Dutch compounds: ``*beleid``, ``*regio*``)
- ``=wel``                  the exact lower-case word (not the lemma)
- ``de|het?``               an optional token (``?`` after any token)
- ``_``  / ``_3``           any one token / up to three tokens (word-order gaps)
- ``@name``                 a named cue set from ``cues:``; ``@positief`` / ``@negatief``: a lexicon word
                            of that polarity after negation (``niet duidelijk`` counts as ``@negatief``)
- a list of spaCy token dicts is accepted as a raw ``Matcher`` pattern.

A rule fires when one of its ``match`` patterns occurs, every ``with`` group (any of its patterns) occurs in
the same sentence (``scope: sentence``, the default) or fragment (``scope: fragment``), no ``without``
pattern occurs in that scope (a ``without`` cue under a negator does not count: ``niet opgelost`` does not block
what ``opgelost`` blocks), and none of its ``without_codes`` was coded for the fragment. With
``negation: block`` (default) a ``match`` or ``with`` cue under a negator in its clause does not count
(a negator up to three tokens before the cue, or inside a gap of the pattern). For codes with valence the rule
finds the topic; the valence comes from the lexicon words in the sentences about that topic (a sentence
without a topic continues the previous one), each flipped when negated. Both poles give ``gemengd``;
contrast words (``maar``, ``echter`` ...) end a clause, so a negation never reaches across them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from .codebook import POLARITY_REFS, Codebook, Rule

if TYPE_CHECKING:   # spaCy is imported where a RuleCoder is built: the classifier's cues need no spaCy
    from spacy.language import Language
    from spacy.matcher import PhraseMatcher
    from spacy.tokens import Doc

PUNCT_BREAKS = {",", ";", ":", "(", ")", "–", "—", "?", "!", ".", "…", "\"", "“", "”", "‘", "’"}
NEGATION_WINDOW = 3          # tokens before a cue in which a negator counts
VALENCE_AFTER_WINDOW = 1     # a negator right after an evaluative word also counts ("werkt niet")
NOT_A_NEGATION_AFTER = {"alleen", "enkel", "slechts", "zozeer", "zomaar", "vanzelfsprekend"}
CONTEXT_CACHE_SIZE = 1024    # context questions whose valence topics are kept (answers often share one)


class PatternError(ValueError):
    """A pattern string cannot be compiled."""


# --------------------------------------------------------------------------- pattern compilation

@dataclass
class TokenSpec:
    """A parsed pattern token plus what ``kwal check`` needs to know about it."""

    spec: dict[str, Any]
    lemmas: list[str] = field(default_factory=list)    # literal lemma alternatives
    wildcard: bool = False                             # has a prefix/suffix alternative
    optional: bool = False
    words: list[str] = field(default_factory=list)     # exact lower-case words (=word)


def parse_token(raw: str) -> TokenSpec:
    """Compile one token of the pattern syntax to a spaCy ``Matcher`` token dict."""
    text = raw.strip()
    if not text:
        raise PatternError("empty token")
    gap = re.fullmatch(r"_(\d*)", text)
    if gap:
        n = int(gap.group(1) or 1)
        return TokenSpec({"OP": f"{{0,{n}}}"} if gap.group(1) else {}, optional=bool(gap.group(1)))
    optional = len(text) > 1 and text.endswith("?")
    if optional:
        text = text[:-1]
    op = {"OP": "?"} if optional else {}
    if text.startswith("="):
        words = [w for w in text[1:].lower().split("|") if w]
        if not words:
            raise PatternError(f"'{raw}': no word after '='")
        return TokenSpec({"LOWER": {"IN": words}, **op}, optional=optional, words=words)
    alts = [a for a in text.lower().split("|")]
    if any(not a or a == "*" for a in alts):
        raise PatternError(f"'{raw}': empty alternative (check the '|' and '*' signs)")
    if any("*" in a for a in alts):
        parts = [".*".join(re.escape(p) for p in a.split("*")) for a in alts]
        regex = "^(?:" + "|".join(parts) + ")$"
        re.compile(regex)
        return TokenSpec({"LEMMA": {"REGEX": regex}, **op}, [a for a in alts if "*" not in a], True, optional)
    spec = {"LEMMA": alts[0]} if len(alts) == 1 else {"LEMMA": {"IN": alts}}
    return TokenSpec({**spec, **op}, alts, False, optional)


def parse_pattern(pattern: Any) -> list[TokenSpec]:
    """A pattern (string in the rule syntax, or a list of spaCy token dicts) as parsed tokens."""
    if isinstance(pattern, list):
        return [TokenSpec(dict(t)) for t in pattern]
    tokens = [parse_token(t) for t in str(pattern).split()]
    if not tokens or all(t.optional or not t.spec or "LEMMA" not in t.spec and "LOWER" not in t.spec
                         for t in tokens):
        raise PatternError(f"'{pattern}' has no required word")
    return tokens


_VOWELS = "aeiouy"


def adjective_forms(word: str) -> list[str]:
    """Regular inflected forms of a Dutch adjective (``waardevol`` -> ``waardevolle``; ``positief`` ->
    ``positieve``; ``groot`` -> ``grote``), so the lexicon also matches where the lookup lemmatiser
    leaves the inflected form as it is. Multi-word terms and words ending in -e/-en get none."""
    if " " in word or len(word) < 3 or word.endswith(("e", "en")) or not word.isalpha():
        return []
    stem = word
    if word.endswith("f") and word[-2] in _VOWELS:
        stem = word[:-1] + "v"
    elif word.endswith("s") and not word.endswith("sch") and word[-2] in _VOWELS:
        stem = word[:-1] + "z"
    if len(stem) >= 3 and stem[-2] == stem[-3] and stem[-2] in "aou" and stem[-1] not in _VOWELS:
        stem = stem[:-3] + stem[-2] + stem[-1]                   # groot -> grot(e), raar -> rar(e)
    elif word.endswith(("ol", "el", "al")) and word.endswith("vol"):
        stem = word + word[-1]                                    # waardevol -> waardevolle
    else:
        groups = re.findall(r"[aeiouy]+", word)
        if (len(groups) == 1 and len(groups[0]) == 1 and word[-1] not in _VOWELS + "wj"
                and word[-2] in _VOWELS):
            stem = word + word[-1]                                # snel -> snelle, zwak -> zwakke
    return [stem + "e"]


def _literal_words(tokens: list[TokenSpec]) -> set[str]:
    return {w for t in tokens for w in t.lemmas + t.words}


# --------------------------------------------------------------------------- kwal check: patterns

def producible_lemmas(nlp: Language, words: set[str]) -> dict[str, bool]:
    """Which literals the pipeline can produce as a (lower-case) lemma."""
    table_values: set[str] = set()
    if "lemmatizer" in nlp.pipe_names:
        lookups = getattr(nlp.get_pipe("lemmatizer"), "lookups", None)
        if lookups is not None and lookups.has_table("lemma_lookup"):
            table_values = {str(v).lower() for v in lookups.get_table("lemma_lookup").values()}
    result: dict[str, bool] = {}
    ordered = sorted(words)
    for word, doc in zip(ordered, nlp.pipe(ordered)):
        if len(doc) != 1 or word != word.lower() or word.strip() != word:
            result[word] = False
            continue
        result[word] = (doc[0].lemma_ or doc[0].text).lower() == word or word in table_values
    return result


def pattern_problems(codebook: Codebook, nlp: Language) -> list[str]:
    """Patterns that cannot compile or can never match a lemma the pipeline produces (``kwal check``)."""
    problems: list[str] = []
    parsed: list[tuple[str, Any, list[TokenSpec]]] = []

    def visit(where: str, patterns: list[Any]) -> None:
        for pattern in patterns:
            if isinstance(pattern, str) and pattern.strip().startswith("@"):
                continue
            try:
                parsed.append((where, pattern, parse_pattern(pattern)))
            except (PatternError, re.error) as exc:
                problems.append(f"{where}: pattern {pattern!r} cannot be compiled: {exc}. Hint: see the rule "
                                "syntax at the top of the codebook.")

    for name, patterns in codebook.cues.items():
        visit(f"{codebook.path}: cue set '{name}'", patterns)
    for rule in codebook.rules:
        where = f"{codebook.path}:{rule.line}: rule '{rule.id}'"
        visit(where, rule.match)
        for group in rule.with_:
            visit(where, group)
        visit(where, rule.without)
    words = {w for _, _, tokens in parsed for t in tokens for w in t.lemmas}
    producible = producible_lemmas(nlp, words)
    for where, pattern, tokens in parsed:
        for token in tokens:
            if token.optional or token.wildcard or not token.lemmas:
                continue
            if not any(producible.get(w, False) for w in token.lemmas):
                shown = "|".join(token.lemmas)
                lemma_of = {w: (nlp(w)[0].lemma_.lower() if len(nlp(w)) == 1 else "several tokens")
                            for w in token.lemmas}
                hint = ", ".join(f"'{w}' is lemmatised as '{l}'" for w, l in lemma_of.items())
                problems.append(f"{where}: pattern {pattern!r} can never match: no word has the lemma "
                                f"'{shown}' ({hint}). Hint: use the lemma, add it as an alternative, or use a "
                                "prefix such as 'stem*'.")
        for token in tokens:
            for word in token.words:
                if len(nlp.make_doc(word)) != 1:
                    problems.append(f"{where}: pattern {pattern!r}: '={word}' is not a single token, so it can "
                                    "never match. Hint: write one token per word.")
    return problems


# --------------------------------------------------------------------------- matching

@dataclass(slots=True)
class Hit:
    """A matched cue: token span [start, end) and, for lexicon words, a polarity."""

    start: int
    end: int
    polarity: str | None = None
    neg_at: int | None = None      # token index of the negator that flipped it


# the keys of a group of patterns: the predicates of its one-token patterns (``FastMatcher.single``) and
# its other keys
KeyGroup = tuple[frozenset[int], frozenset[str]]


@dataclass
class _Compiled:
    key: str
    has_negator: bool


class RuleCoder:
    """The codebook compiled once: ``code`` codes one fragment from its text, token rows and sentence starts."""

    def __init__(self, codebook: Codebook, nlp: Language):
        from spacy.matcher import Matcher, PhraseMatcher

        self.codebook = codebook
        self.nlp = nlp
        self.vocab = nlp.vocab
        self.matcher = Matcher(nlp.vocab)            # raw spaCy patterns only (a list of token dicts)
        self.fast = FastMatcher()                     # the pattern syntax: same matches, much faster
        self.negators = set(codebook.negators)
        self.breaks = PUNCT_BREAKS | set(codebook.clause_breaks) | set(codebook.contrast)   # end a clause
        self._groups: dict[str, list[_Compiled]] = {}
        self._counter = 0
        for name, patterns in codebook.cues.items():
            self._groups[f"@{name}"] = self._register(f"@{name}", patterns)
        self._rule_keys: dict[str, dict[str, Any]] = {}
        for rule in codebook.rules:
            self._rule_keys[rule.id] = {
                "match": self._register(f"{rule.id}|m", rule.match),
                "with": [self._register(f"{rule.id}|w{i}", g) for i, g in enumerate(rule.with_)],
                "without": self._register(f"{rule.id}|x", rule.without),
            }
        lemma_phrases = PhraseMatcher(nlp.vocab, attr="LEMMA")
        lower_phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        lemma_docs: list[Doc] = []
        lower_docs: list[Doc] = []
        polarity: dict[int, str] = {}
        by_pol: dict[str, list[str]] = {}
        for entry in codebook.lexicon:
            by_pol.setdefault(entry.polarity, []).append(entry)
        for pol, entries in sorted(by_pol.items()):
            key = f"lex|{pol}"
            polarity[self.vocab.strings.add(key)] = pol
            # Lemma patterns must be lemmatised by the same pipeline (spaCy issue #4100): use nlp.pipe.
            # Only base forms match by lemma ("waarderen" also finds "waardeert"); an inflected entry such
            # as "gehoord" matches as a word, so it does not turn every "hoort" into an evaluation.
            terms = [e.term for e in entries]
            docs = [d for d in nlp.pipe(terms)
                    if " ".join(t.lemma_.lower() or t.lower_ for t in d) == " ".join(t.lower_ for t in d)]
            if docs:
                lemma_phrases.add(key, docs)
                lemma_docs += docs
            words = sorted({w for e in entries for w in [e.term, *e.variants, *adjective_forms(e.term)]})
            word_docs = [nlp.make_doc(w) for w in words]
            lower_phrases.add(key, word_docs)
            lower_docs += word_docs
        # the lexicon as token-sequence tables with the PhraseMatchers' matches: no Doc needed per fragment
        self.lemma_terms = _PhraseTable(lemma_phrases, lemma_docs, [[t.lemma_ for t in d] for d in lemma_docs],
                                        polarity)
        self.lower_terms = _PhraseTable(lower_phrases, lower_docs, [[t.lower_ for t in d] for d in lower_docs],
                                        polarity)
        self.valenced_codes = set(codebook.valenced_codes)
        # The rules in codebook order, each with the keys of its ``match`` group (None when it refers to the
        # lexicon: it can always fire) and of its ``with`` groups. A rule can only fire when a key of its
        # ``match`` group and of each ``with`` group matched: the positions in this list of the rules whose
        # ``match`` has a key, by the predicate of the key's one-token pattern or by the key of a longer one.
        self._plan: list[tuple[str, Rule, bool, KeyGroup | None, list[KeyGroup]]] = []
        self._always: set[int] = set()
        self._rules_of_pred: dict[int, list[int]] = {}
        self._rules_of_key: dict[str, list[int]] = {}
        for code in codebook.codes:
            for rule in code.rules:
                index = len(self._plan)
                keys, uses_lexicon = self._match_keys(self._rule_keys[rule.id]["match"])
                if uses_lexicon:
                    self._always.add(index)
                for key in keys:
                    if key in self.fast.single:
                        self._rules_of_pred.setdefault(self.fast.single[key], []).append(index)
                    else:
                        self._rules_of_key.setdefault(key, []).append(index)
                groups = [self._match_keys(group) for group in self._rule_keys[rule.id]["with"]]
                needs = [self.fast.group(group_keys) for group_keys, lexicon in groups if not lexicon]
                self._plan.append((code.id, rule, code.id in self.valenced_codes,
                                   None if uses_lexicon else self.fast.group(keys), needs))
        self._lowers: dict[str, str] = {}                # word -> its lower-case form (the vocab's LOWER)
        self._context_topics: dict[tuple[Any, ...], list[tuple[str, Rule]]] = {}

    def _register(self, key: str, patterns: list[Any]) -> list[Any]:
        """Add the literal patterns of a group to the matcher; returns the group's refs and keys."""
        refs: list[Any] = []
        for pattern in patterns:
            if isinstance(pattern, str) and pattern.strip().startswith("@"):
                refs.append(pattern.strip())
                continue
            tokens = parse_pattern(pattern)
            self._counter += 1
            sub = f"{key}#{self._counter}"
            specs = [t.spec for t in tokens]
            if not self.fast.add(sub, specs):
                self.matcher.add(sub, [specs])
            refs.append(_Compiled(sub, bool(_literal_words(tokens) & set(self.codebook.negators))))
        return refs

    def _match_keys(self, refs: list[Any], depth: int = 0) -> tuple[set[str], bool]:
        """The matcher keys of a group (through its cue sets) and whether it refers to ``@positief`` or
        ``@negatief``."""
        keys: set[str] = set()
        polarity = False
        for ref in refs:
            if not isinstance(ref, str):
                keys.add(ref.key)
            elif ref in POLARITY_REFS:
                polarity = True
            elif depth < 3:
                sub_keys, sub_polarity = self._match_keys(self._groups.get(ref, []), depth + 1)
                keys |= sub_keys
                polarity = polarity or sub_polarity
        return keys, polarity

    # ----------------------------------------------------------------- per fragment

    def code(self, text: str, tokens: list[list], sents: list[int],
             context: tuple[str, list[list], list[int]] | None = None) -> list[dict]:
        """Rule codings of one fragment: ``[{code, valence, source, rule_id, evidence, start, end, score}]``.

        ``tokens`` are the stored ``[offset, length, lemma]`` rows of ``text`` (not empty) and ``sents`` the
        indices of the tokens that start a sentence. ``context`` (optional): the (text, tokens, sents) of the
        preceding interviewer question, used only to find the topic of a code with valence when the fragment itself
        names none before its evaluative words.
        """
        state = _DocState(self, text, tokens, sents)
        fired: dict[str, list[tuple[Rule, list[Hit]]]] = {}
        topics: dict[str, list[tuple[Rule, Hit]]] = {}
        for code_id, rule, valenced in self._candidates(state):
            hits = state.evaluate(rule, self._rule_keys[rule.id], valenced=valenced)
            if not hits:
                continue
            if valenced:
                for hit in hits:
                    topics.setdefault(code_id, []).append((rule, hit[0]))
            else:
                fired.setdefault(code_id, []).append((rule, hits[0]))
        rows: list[dict] = []
        coded = set(fired) | set(topics)
        for code in self.codebook.codes:
            if code.id in fired:
                for rule, hits in fired[code.id]:
                    if set(rule.without_codes) & (coded - {code.id}):
                        continue
                    rows.append(state.row(code.id, None, rule.id, hits))
                    break
        rows.extend(self._opinions(state, topics, context, coded))
        return rows

    def _candidates(self, state: "_DocState") -> list[tuple[str, Rule, bool]]:
        """(code id, rule, has valence) of the rules that may fire in the fragment, in codebook order."""
        matches = state.matches
        indices = set(self._always)
        for pid in self._rules_of_pred.keys() & matches.positions.keys():
            indices.update(self._rules_of_pred[pid])
        for key in self._rules_of_key.keys() & matches.possible:
            indices.update(self._rules_of_key[key])
        out = []
        for i in sorted(indices):
            code_id, rule, valenced, keys, needs = self._plan[i]
            if (keys is None or matches.any(keys)) and all(matches.any(group) for group in needs):
                out.append((code_id, rule, valenced))
        return out

    def context_topics(self, text: str, tokens: list[list], sents: list[int]) -> list[tuple[str, Rule]]:
        """The codes with valence (with the first rule that finds each) whose topic a question names; memoised,
        as many answers follow the same question."""
        key = (text, tuple(map(tuple, tokens)), tuple(sents))
        found = self._context_topics.get(key)
        if found is None:
            state = _DocState(self, text, tokens, sents)
            found = []
            for code_id, rule, valenced in self._candidates(state):     # the first rule that fires, per code
                if valenced and (not found or found[-1][0] != code_id) and state.evaluate(
                        rule, self._rule_keys[rule.id], valenced=True):
                    found.append((code_id, rule))
            if len(self._context_topics) >= CONTEXT_CACHE_SIZE:
                self._context_topics.clear()
            self._context_topics[key] = found
        return found

    def _opinions(self, state: "_DocState", topics: dict[str, list[tuple[Rule, Hit]]],
                  context: tuple[str, list[list], list[int]] | None, coded: set[str]) -> list[dict]:
        """Codings with valence: each evaluative word goes to the topics of its sentence (or the sentences before);
        before the first sentence with a topic, to those of the context question, if it names any."""
        if not topics and context is None:
            return []
        lexicon = state.lexicon_hits()
        if not lexicon:
            return []
        n_sents = len(state.sent_bounds)
        mentioned: list[list[str]] = [[] for _ in range(n_sents)]
        for code_id, items in topics.items():
            for _, hit in items:
                s = state.sent_of[hit.start]
                if code_id not in mentioned[s]:
                    mentioned[s].append(code_id)
        first = next((s for s in range(n_sents) if mentioned[s]), n_sents)
        topic_tokens = {i for items in topics.values() for _, h in items for i in range(h.start, h.end)}
        evaluative = [h for h in lexicon if not any(i in topic_tokens for i in range(h.start, h.end))]
        context_topics: list[tuple[str, Rule]] = []
        if context is not None and any(state.sent_of[h.start] < first for h in evaluative):
            context_topics = self.context_topics(*context)
        current = [c for c, _ in context_topics] or (mentioned[first] if first < n_sents else [])
        about: list[list[str]] = []
        for s in range(n_sents):
            if mentioned[s]:
                current = mentioned[s]
            about.append(list(current))
        evaluations: dict[str, list[Hit]] = {}
        for hit in evaluative:
            for code_id in about[state.sent_of[hit.start]]:
                evaluations.setdefault(code_id, []).append(hit)
        rows = []
        context_rule = dict(context_topics)
        for code in self.codebook.codes:
            hits = evaluations.get(code.id)
            if not hits:
                continue
            rule_list = topics.get(code.id)
            rule = rule_list[0][0] if rule_list else context_rule.get(code.id)
            if rule is None or set(rule.without_codes) & (coded - {code.id}):
                continue
            pos = any(h.polarity in ("positief", "gemengd") for h in hits)
            neg = any(h.polarity in ("negatief", "gemengd") for h in hits)
            valence = "gemengd" if pos and neg else ("positief" if pos else "negatief")
            topic_hits = [h for _, h in rule_list[:1]] if rule_list else []
            rule_id = rule.id if rule_list else f"{rule.id}@context"
            rows.append(state.row(code.id, valence, rule_id, topic_hits + hits))
        return rows

    def lowers(self, words: list[str]) -> list[str]:
        """The lower-case form of each word, as the vocab gives it (spaCy's ``LOWER``)."""
        cache = self._lowers
        try:
            return [cache[word] for word in words]
        except KeyError:
            for word in words:
                if word not in cache:
                    cache[word] = self.vocab[word].lower_
            return [cache[word] for word in words]


class _PhraseTable:
    """A ``PhraseMatcher``'s patterns as a dict of token-sequence tuples: the same matches (every
    occurrence of every pattern, keys of one pattern in the matcher's order) on a list of strings."""

    def __init__(self, matcher: PhraseMatcher, docs: list[Doc], sequences: list[list[str]],
                 labels: dict[int, str]):
        self.phrases: dict[tuple[str, ...], list[str]] = {}
        self.prefixes: set[tuple[str, ...]] = set()
        for doc, seq in zip(docs, sequences):
            if not seq:
                continue
            key = tuple(seq)
            self.phrases[key] = [labels[m] for m, s, e in matcher(doc) if s == 0 and e == len(doc)]
            self.prefixes.update(key[:i] for i in range(1, len(key) + 1))
        self.first = {key[0] for key in self.phrases}

    def __call__(self, seq: list[str]) -> list[tuple[int, int, str]]:
        """All matches as (start, end, label), by start then length."""
        phrases, prefixes, first = self.phrases, self.prefixes, self.first
        out: list[tuple[int, int, str]] = []
        if first.isdisjoint(seq):
            return out
        n = len(seq)
        for i in [i for i, word in enumerate(seq) if word in first]:
            for j in range(i + 1, n + 1):
                key = tuple(seq[i:j])
                if key not in prefixes:
                    break
                for label in phrases.get(key, ()):
                    out.append((i, j, label))
        return out


class FastMatcher:
    """The compiled patterns of the rule syntax, matched like spaCy's ``Matcher`` (every span [start, end)
    the pattern matches, no greedy filtering) but without its per-token predicate calls.

    What each pattern token accepts is worked out once per distinct (lemma, lower-case word) and cached;
    the matches of a pattern are only worked out when asked for (``_Matches``); a longer pattern is only
    tried on a fragment that has a token for each of its required pattern tokens, and only from the
    positions where its first required token can be. Patterns with anything other than LEMMA (a string, IN
    or REGEX), LOWER IN, an empty dict (any token) and the operators ``?`` and ``{0,n}`` are not accepted
    (``add`` returns False) and stay with spaCy's ``Matcher``.
    """

    def __init__(self) -> None:
        self._preds: list[tuple[str, Any]] = []          # (kind, arg): lemma_in, lemma_regex, lower_in
        self._pred_ids: dict[tuple[str, Any], int] = {}
        self._lemma_in: dict[str, list[int]] = {}         # lemma -> predicates (exact lemma alternatives)
        self._lower_in: dict[str, list[int]] = {}
        self._regex: list[tuple[int, Any]] = []
        self.single: dict[str, int] = {}                  # key of a pattern of one token -> its predicate
        # key -> ([(pred id or -1 for any token, min, max)], required pred ids, anchor index, the most
        # tokens before the anchor)
        self.multi: dict[str, tuple[list[tuple[int, int, int]], frozenset[int], int, int]] = {}
        self.by_anchor: dict[int, list[str]] = {}         # pred id -> the longer patterns anchored on it
        self._cache: dict[tuple[str, str], frozenset[int]] = {}   # (lemma, lower-case word) -> preds

    def __len__(self) -> int:
        return len(self.single) + len(self.multi)

    def _pred(self, kind: str, arg: Any) -> int:
        key = (kind, arg)
        if key not in self._pred_ids:
            pid = len(self._preds)
            self._pred_ids[key] = pid
            self._preds.append(key)
            if kind == "lemma_in":
                for value in arg:
                    self._lemma_in.setdefault(value, []).append(pid)
            elif kind == "lower_in":
                for value in arg:
                    self._lower_in.setdefault(value, []).append(pid)
            else:
                self._regex.append((pid, re.compile(arg)))
            self._cache.clear()
        return self._pred_ids[key]

    def add(self, key: str, specs: list[dict[str, Any]]) -> bool:
        """Compile one pattern; False when it uses something this matcher does not do."""
        steps: list[tuple[int, int, int]] = []
        for spec in specs:
            spec = dict(spec)
            op = spec.pop("OP", None)
            if op is None:
                low, high = 1, 1
            elif op == "?":
                low, high = 0, 1
            else:
                quant = re.fullmatch(r"\{0,(\d+)\}", str(op))
                if not quant:
                    return False
                low, high = 0, int(quant.group(1))
            if not spec:
                steps.append((-1, low, high))
                continue
            if len(spec) != 1:
                return False
            (attr, value), = spec.items()
            if attr == "LEMMA" and isinstance(value, str):
                pid = self._pred("lemma_in", frozenset([value]))
            elif attr in ("LEMMA", "LOWER") and isinstance(value, dict) and len(value) == 1 and "IN" in value:
                pid = self._pred("lemma_in" if attr == "LEMMA" else "lower_in", frozenset(value["IN"]))
            elif attr == "LEMMA" and isinstance(value, dict) and len(value) == 1 and "REGEX" in value:
                pid = self._pred("lemma_regex", value["REGEX"])
            else:
                return False
            steps.append((pid, low, high))
        required = frozenset(p for p, low, _ in steps if p >= 0 and low > 0)
        anchor = next((i for i, (p, low, _) in enumerate(steps) if p >= 0 and low > 0), -1)
        if anchor < 0:
            return False
        if len(steps) == 1:                                     # one required token
            self.single[key] = steps[0][0]
        else:
            self.multi[key] = (steps, required, anchor, sum(high for _, _, high in steps[:anchor]))
            self.by_anchor.setdefault(steps[anchor][0], []).append(key)
        return True

    def group(self, keys: set[str]) -> KeyGroup:
        """Keys as a ``KeyGroup``: the predicates of its one-token patterns and its other keys."""
        return (frozenset(self.single[k] for k in keys if k in self.single),
                frozenset(k for k in keys if k not in self.single))

    def _satisfied(self, lemma: str, lower: str) -> frozenset[int]:
        found = set(self._lemma_in.get(lemma, ()))
        found.update(self._lower_in.get(lower, ()))
        for pid, regex in self._regex:
            if regex.search(lemma):
                found.add(pid)
        return frozenset(found)

    def match(self, lemmas: list[str], lowers: list[str]) -> "_Matches":
        """The matches in a token sequence (its lemmas and lower-case words)."""
        cache = self._cache
        try:
            sat = [cache[key] for key in zip(lemmas, lowers)]
        except KeyError:
            for key in zip(lemmas, lowers):
                if key not in cache:
                    cache[key] = self._satisfied(*key)
            sat = [cache[key] for key in zip(lemmas, lowers)]
        return _Matches(self, sat)


class _Matches:
    """The matches of a ``FastMatcher`` in one token sequence, each key's listed when first asked for."""

    __slots__ = ("fast", "sat", "positions", "possible", "_spans")

    def __init__(self, fast: FastMatcher, sat: list[frozenset[int]]):
        self.fast = fast
        self.sat = sat                                      # per token: the predicates it satisfies
        positions: dict[int, list[int]] = {}                # predicate -> the tokens that satisfy it
        for j, preds in enumerate(sat):
            if preds:                                       # most tokens satisfy none
                for pid in preds:
                    if pid in positions:
                        positions[pid].append(j)
                    else:
                        positions[pid] = [j]
        self.positions = positions
        # the longer patterns that may match: a token for each of their required pattern tokens
        multi, by_anchor = fast.multi, fast.by_anchor
        self.possible = {key for pid in by_anchor.keys() & positions.keys() for key in by_anchor[pid]
                         if positions.keys() >= multi[key][1]}
        self._spans: dict[str, list[tuple[int, int]]] = {}

    def add(self, key: str, start: int, end: int) -> None:
        """A match of a pattern the ``FastMatcher`` does not have (from spaCy's ``Matcher``)."""
        self.possible.add(key)
        self._spans.setdefault(key, []).append((start, end))

    def get(self, key: str) -> list[tuple[int, int]]:
        """The matches of one key, by start then end."""
        pid = self.fast.single.get(key)
        if pid is not None:
            return [(j, j + 1) for j in self.positions.get(pid, ())]
        if key not in self.possible:
            return []
        spans = self._spans.get(key)
        if spans is None:
            spans = self._spans[key] = self._find(key)
        return spans

    def _find(self, key: str) -> list[tuple[int, int]]:
        steps, _, anchor, before = self.fast.multi[key]
        at = self.positions[steps[anchor][0]]
        # the anchor is the first required step: before it only optional steps, at most `before` tokens
        starts = at if not before else sorted({i for j in at for i in range(max(0, j - before), j + 1)})
        sat, n = self.sat, len(self.sat)
        return [(start, end) for start in starts for end in _ends(steps, sat, start, n)]

    def any(self, group: KeyGroup) -> bool:
        """Whether a key of the group matched."""
        pids, keys = group
        if not self.positions.keys().isdisjoint(pids):
            return True
        return not self.possible.isdisjoint(keys) and any(self.get(key) for key in keys & self.possible)


def _ends(steps: list[tuple[int, int, int]], sat: list[frozenset[int]], start: int, n: int) -> list[int]:
    """The ends of the matches of ``steps`` from token ``start`` (sorted)."""
    states = {start}
    for pid, low, high in steps:
        if low == high == 1:                                # one token
            states = {j + 1 for j in states if j < n and (pid < 0 or pid in sat[j])}
        elif pid < 0:                                       # a gap of low..high tokens
            states = {k for j in states for k in range(j + low, min(j + high, n) + 1)}
        else:
            nxt: set[int] = set()
            for j in states:
                k = j
                for count in range(high + 1):
                    if count >= low:
                        nxt.add(k)
                    if count == high or k >= n or pid not in sat[k]:
                        break
                    k += 1
            states = nxt
        if not states:
            return []
    return sorted(states)


class _DocState:
    """Matches, sentences and clauses of one fragment (its stored token rows), computed once and shared by
    all rules. A spaCy Doc is built only for raw ``Matcher`` patterns."""

    def __init__(self, coder: RuleCoder, text: str, tokens: list[list], sents: list[int]):
        self.coder = coder
        self.text = text
        self.tokens = tokens
        self.lemma = [token[2] for token in tokens]
        self.lower = coder.lowers([text[o:o + n] for o, n, _ in tokens])
        self.matches = coder.fast.match(self.lemma, self.lower)
        if len(coder.matcher):
            from .nlp import doc_from_rows

            strings = coder.vocab.strings
            for match_id, start, end in coder.matcher(doc_from_rows(coder.nlp, text, tokens, sents)):
                self.matches.add(strings[match_id], start, end)
        n = len(tokens)
        starts = sorted({0, *(i for i in sents if 0 < i < n)}) if n else []
        self.sent_bounds = list(zip(starts, starts[1:] + [n])) or [(0, 0)]
        self.sent_of: list[int] = []
        for k, (s, e) in enumerate(self.sent_bounds):
            self.sent_of += [k] * (e - s)
        breaks = coder.breaks
        new_clause = [word in breaks for word in self.lower]       # a break word or a sentence start
        for i in starts[1:]:
            new_clause[i] = True
        self.clause_of = list(accumulate(new_clause, initial=0))[1:]
        self._lexicon: list[Hit] | None = None

    def span_text(self, start: int, end: int) -> str:
        """``doc[start:end].text`` of the Doc the token rows describe: the words, with a space between two
        where the text has one right after the first."""
        text, tokens = self.text, self.tokens
        parts = []
        for k in range(start, end):
            offset, length, _ = tokens[k]
            parts.append(text[offset:offset + length])
            after = offset + length
            if k + 1 < end and tokens[k + 1][0] > after and text[after:after + 1] == " ":
                parts.append(" ")
        return "".join(parts)

    def row(self, code: str, valence: str | None, rule_id: str, hits: list[Hit]) -> dict[str, Any]:
        """A rule coding with its evidence words and character span in the fragment text."""
        pieces = []
        for h in sorted(hits, key=lambda h: h.start):
            start = min(h.start, h.neg_at) if h.neg_at is not None else h.start
            words = self.span_text(start, h.end)
            if h.polarity:
                words += {"positief": " (+)", "negatief": " (-)", "gemengd": " (+/-)"}[h.polarity]
            pieces.append(words)
        tok_start = min(min(h.start, h.neg_at if h.neg_at is not None else h.start) for h in hits)
        tok_end = max(h.end for h in hits)
        offset, length, _ = self.tokens[tok_end - 1]
        return {
            "code": code,
            "valence": valence,
            "source": "rule",
            "rule_id": rule_id,
            "evidence": " … ".join(pieces),
            "start": self.tokens[tok_start][0],
            "end": offset + length,
            "score": None,
        }

    # negation ----------------------------------------------------------------
    def is_negator(self, i: int) -> bool:
        if self.lower[i] not in self.coder.negators:
            return False
        nxt = self.lower[i + 1] if i + 1 < len(self.lower) else ""
        return nxt not in NOT_A_NEGATION_AFTER

    def negator_for(self, start: int, end: int, inside: bool, after: int = 0) -> int | None:
        """Index of a negator in the clause of [start, end) that negates it, or None."""
        clause = self.clause_of[start]
        for i in range(start - 1, max(-1, start - 1 - NEGATION_WINDOW), -1):
            if self.clause_of[i] != clause:
                break
            if self.is_negator(i):
                return i
        if inside:
            for i in range(start, end):
                if self.is_negator(i):
                    return i
        for i in range(end, min(len(self.lower), end + after)):
            if self.clause_of[i] != self.clause_of[end - 1]:
                break
            if self.is_negator(i):
                return i
        return None

    # cues ---------------------------------------------------------------------
    def lexicon_hits(self) -> list[Hit]:
        """Evaluative words with their polarity after negation (longest match wins on overlap)."""
        if self._lexicon is None:
            coder = self.coder
            raw = coder.lemma_terms(self.lemma) + coder.lower_terms(self.lower)
            raw.sort(key=lambda x: (-(x[1] - x[0]), x[0]))
            taken: set[int] = set()
            hits: list[Hit] = []
            for s, e, pol in raw:
                if any(i in taken for i in range(s, e)):
                    continue
                taken.update(range(s, e))
                neg = self.negator_for(s, e, inside=False, after=VALENCE_AFTER_WINDOW)
                if neg is not None and pol != "gemengd" and not any(i in range(s, e) for i in [neg]):
                    pol = "negatief" if pol == "positief" else "positief"
                    hits.append(Hit(s, e, pol, neg))
                else:
                    hits.append(Hit(s, e, pol))
            hits.sort(key=lambda h: h.start)
            self._lexicon = hits
        return self._lexicon

    def spans(self, refs: list[Any], block_negated: bool, depth: int = 0) -> list[Hit]:
        """Occurrences of a group of patterns/refs, without the negated ones when ``block_negated``."""
        out: list[Hit] = []
        for ref in refs:
            if isinstance(ref, str):
                if ref in POLARITY_REFS:
                    pol = ref[1:]
                    out.extend(h for h in self.lexicon_hits() if h.polarity == pol)
                elif depth < 3:
                    out.extend(self.spans(self.coder._groups.get(ref, []), block_negated, depth + 1))
                continue
            for s, e in self.matches.get(ref.key):
                if block_negated and self.negator_for(s, e, inside=not ref.has_negator) is not None:
                    continue
                out.append(Hit(s, e))
        # by position, shortest first: the most precise evidence first
        out.sort(key=lambda h: (h.start, h.end - h.start))
        return out

    def evaluate(self, rule: Rule, keys: dict[str, Any], valenced: bool) -> list[list[Hit]]:
        """The evidence for each way ``rule`` fires in this doc (empty when it does not fire)."""
        block = rule.negation == "block"
        primary = self.spans(keys["match"], block and not valenced)
        if not primary:
            return []
        withs = [self.spans(g, block) for g in keys["with"]]
        if any(not w for w in withs):
            return []
        # a negated ``without`` cue does not block (``niet opgelost`` is no solved problem), whatever the rule's
        # ``negation``: that setting is about the rule's own cues
        without = self.spans(keys["without"], True) if keys["without"] else []
        results: list[list[Hit]] = []
        for hit in primary:
            if rule.scope == "sentence":
                s = self.sent_of[hit.start]
                inside = lambda h: self.sent_of[h.start] == s  # noqa: E731
            else:
                inside = lambda h: True  # noqa: E731
            if any(inside(h) for h in without):
                continue
            evidence = [hit]
            ok = True
            for group in withs:
                near = [h for h in group if inside(h)]
                if not near:
                    ok = False
                    break
                evidence.append(min(near, key=lambda h: abs(h.start - hit.start)))
            if ok:
                results.append(evidence)
        return results
