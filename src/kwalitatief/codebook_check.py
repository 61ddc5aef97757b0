"""``kwal check`` for the codebook: its structure and references (:func:`parse_codebook`) and rule patterns
that can never match a lemma the pipeline produces (checked with the rule matcher and the NLP pipeline)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .codebook import Codebook, load_yaml_with_lines, parse_codebook, patterns_with_lines
from .nlp import load_nlp
from .rules import pattern_problems, producible_lemmas


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
    """Every string pattern of the cue sets and rules as (owner, line, pattern); lines from the YAML."""
    return patterns_with_lines(load_yaml_with_lines(codebook.path)[0])


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


def _phrase_binding(pattern: str) -> str:
    """A message when a ``|`` list looks meant to separate whole phrases (``a|b _1 a``), else ''.

    ``|`` binds to one word, so a ``|`` token with an alternative that is also another word of the same
    pattern (``tekort|geld _1 tekort``, ``geld _1 tekort|geld _1 tekorten``) reads as one word between the
    others, not as a choice between phrases: the phrases as written never match on their own.
    """
    tokens = pattern.split()
    if len(tokens) < 2:
        return ""
    words = [_alternatives(t)[0] for t in tokens]
    for i, alts in enumerate(words):
        if len(alts) < 2:
            continue
        others = {a for j, other in enumerate(words) if j != i for a in other if a and not _GAP.fullmatch(a)}
        repeated = [a for a in alts if a in others]
        if repeated:
            phrases = " / ".join(f"'{p.strip()}'" for p in pattern.split("|"))
            return (f"{_short(tokens[i])}: '|' binds to one word, so '{tokens[i]}' is one word between the "
                    f"others ('{repeated[0]}' also occurs elsewhere in the pattern); the phrases {phrases} "
                    "never match as alternatives. Hint: write each phrase as its own pattern in this list.")
    return ""


def alternative_problems(codebook: Codebook, nlp: Any) -> tuple[list[str], list[str]]:
    """Check each alternative of every ``a|b|c`` token of the cue sets and rules; returns (errors, warnings).

    Errors: rule syntax inside a ``|`` list (``@cue``, ``=word``, ``_``/``_3``, ``word?``) or an alternative
    that is several tokens -- all of which would be taken literally and never match; and tokens none of
    whose alternatives can ever be a lemma the pipeline produces. Warnings: single dead alternatives of a
    token whose other alternatives can match.
    """
    errors: list[str] = []
    warnings: list[str] = []
    checked: list[tuple[str, str, list[str], bool]] = []   # where, token, literal alternatives, has wildcard
    for owner, line, pattern in _located_patterns(codebook):
        if pattern.strip().startswith("@"):
            continue
        where = f"{codebook.path}:{line}: {owner}"
        if len(pattern.split()) > 1:
            where += f": pattern {pattern!r}"
        binding = _phrase_binding(pattern)
        if binding:
            errors.append(f"{where}: {binding}")
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
    producible = producible_lemmas(nlp, {a for _, _, alts, _ in checked for a in alts})

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
