"""The Dutch spaCy pipeline: ``nl_core_news_sm`` when installed, else a blank Dutch pipeline with lookups."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable, Iterator
from functools import lru_cache

import spacy
from spacy.attrs import IDX, LEMMA, LENGTH, ORTH
from spacy.lang.nl.lemmatizer import DutchLemmatizer
from spacy.language import Language
from spacy.lexeme import Lexeme
from spacy.pipeline import Lemmatizer, Sentencizer
from spacy.tokens import Doc

log = logging.getLogger("kwalitatief.nlp")

FALLBACK_NAME = "blank:nl+lookup"


@lru_cache(maxsize=4)
def load_nlp(model: str = "nl_core_news_sm") -> Language:
    """Load ``model`` if it is installed; otherwise fall back, with one log line, to blank Dutch.

    The fallback is ``spacy.blank("nl")`` with the lookup lemmatizer (tables from
    ``spacy-lookups-data``, installed with the project) and a sentencizer. Nothing is downloaded.
    """
    if model and model != FALLBACK_NAME and spacy.util.is_package(model):
        nlp = spacy.load(model, exclude=["ner", "parser"])
        if "senter" in nlp.pipe_names:
            nlp.enable_pipe("senter")
        else:
            nlp.add_pipe("sentencizer")
        nlp.meta["kwal_model"] = f"{model}-{nlp.meta.get('version', '?')}"
        return nlp
    if model and model != FALLBACK_NAME:   # the documented offline default, not a fault: no warning
        log.info(
            "spaCy model '%s' is not installed; using spacy.blank('nl') with the lookup lemmatizer "
            "and a sentencizer (see README: 'Using the full Dutch model').", model,
        )
    nlp = spacy.blank("nl")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.add_pipe("sentencizer")
    spacy_log = logging.getLogger("spacy")   # "[INFO] Created vocabulary" and the like on every stage
    level = spacy_log.level
    spacy_log.setLevel(logging.WARNING)
    try:
        nlp.initialize()
    finally:
        spacy_log.setLevel(level)
    nlp.meta["kwal_model"] = FALLBACK_NAME
    return nlp


def installed_model_name(model: str = "nl_core_news_sm") -> str:
    """The name ``model_name(load_nlp(model))`` gives, without loading the pipeline (for cache keys)."""
    if model and model != FALLBACK_NAME and spacy.util.is_package(model):
        return f"{model}-{spacy.util.get_package_version(model) or '?'}"
    return FALLBACK_NAME


def model_name(nlp: Language) -> str:
    """The name recorded in provenance for this pipeline."""
    return str(nlp.meta.get("kwal_model", nlp.meta.get("name", "?")))


def token_rows(doc: Doc) -> tuple[list[list], list[int]]:
    """Compact token data of a parsed text: ``[[offset, length, lemma], ...]`` and sentence starts."""
    if not len(doc):
        tokens: list[list] = []
    else:  # arrays instead of Token objects (creating those is most of the cost)
        strings = doc.vocab.strings
        tokens = [[idx, length, (strings[lemma] if lemma else strings[orth]).lower()]
                  for idx, length, lemma, orth in doc.to_array([IDX, LENGTH, LEMMA, ORTH]).tolist()]
    sents = [s.start for s in doc.sents] if doc.has_annotation("SENT_START") else [0]
    return tokens, sents


def doc_from_rows(nlp: Language, text: str, tokens: list[list], sents: list[int]) -> Doc:
    """Rebuild a spaCy ``Doc`` (words, spaces, lemmas, sentence starts) without running the pipeline."""
    words = [text[o:o + n] for o, n, _ in tokens]
    spaces = []
    for i, (o, n, _) in enumerate(tokens):
        nxt = tokens[i + 1][0] if i + 1 < len(tokens) else len(text)
        spaces.append(nxt > o + n and text[o + n:o + n + 1] == " ")
    starts = set(sents)
    sent_starts = [i in starts for i in range(len(tokens))]
    doc = Doc(nlp.vocab, words=words, spaces=spaces, lemmas=[lemma for _, _, lemma in tokens],
              sent_starts=sent_starts if tokens else None)
    return doc


# --------------------------------------------------------------------------------------------
# The fallback pipeline without per-token Python in spaCy's components
# --------------------------------------------------------------------------------------------

class FallbackAnnotator:
    """Token rows and sentence starts of the fallback pipeline, without running its components.

    ``nlp.pipe`` on the fallback pipeline spends most of its time in the lookup lemmatizer and the
    sentencizer, which visit every token as a Python ``Token`` object. This class runs only the
    (compiled) tokenizer and reproduces both components exactly, with a cache per distinct word:

    - lemma: ``DutchLemmatizer.lookup_lemmatize`` (what ``spacy.blank("nl")`` adds) — the ``lemma_lookup``
      table's entry for the lowercased token text, else that lowercased text (``Lemmatizer.lookup_lemmatize``,
      the language-neutral one: the entry for the text as is, the first if it is a list, else the text);
      an empty lemma counts as unset, as in ``token_rows``;
    - sentence starts: ``Sentencizer.predict`` — a sentence starts at the first token after a token in
      ``punct_chars`` that is neither punctuation (``is_punct``) nor in ``punct_chars``.

    Its output equals ``token_rows(nlp(text))`` (tests/test_segment.py checks this on varied text).
    """

    def __init__(self, nlp: Language) -> None:
        self.nlp = nlp
        lemmatizer = nlp.get_pipe("lemmatizer")
        self.table = lemmatizer.lookups.get_table("lemma_lookup")
        self.lowercase_key = type(lemmatizer).lookup_lemmatize is DutchLemmatizer.lookup_lemmatize
        self.punct_chars = set(nlp.get_pipe("sentencizer").punct_chars)
        self._words: dict[int, tuple[str, int]] = {}  # orth -> (lowercased lemma, kind: 0 word, 1 punct, 2 stop)

    def _word(self, orth: int) -> tuple[str, int]:
        vocab = self.nlp.vocab
        text = vocab.strings[orth]
        if self.lowercase_key:  # DutchLemmatizer.lookup_lemmatize
            key = text.lower()
            lemma = self.table.get(key, key)
        else:  # Lemmatizer.lookup_lemmatize
            lemma = self.table.get(text, text)
            if not isinstance(lemma, str):
                lemma = lemma[0]
        kind = 2 if text in self.punct_chars else 1 if Lexeme(vocab, orth).is_punct else 0
        entry = ((lemma or text).lower(), kind)
        self._words[orth] = entry
        return entry

    def annotate(self, doc: Doc) -> tuple[list[list], list[int]]:
        """``token_rows`` of ``doc`` (tokenized only) as if the lemmatizer and sentencizer had run."""
        if not len(doc):
            return [], []
        words, word = self._words, self._word
        idx, length, orth = doc.to_array([IDX, LENGTH, ORTH]).T.tolist()
        entries = [words.get(o) or word(o) for o in orth]
        tokens = [[i, n, entry[0]] for i, n, entry in zip(idx, length, entries)]
        sents = [0]
        seen_stop = False
        for i, (_, kind) in enumerate(entries):
            if kind == 2:
                seen_stop = True
            elif seen_stop and kind == 0:
                sents.append(i)
                seen_stop = False
        return tokens, sents

    def pipe(self, texts: Iterable[str]) -> Iterator[tuple[list[list], list[int]]]:
        """``annotate`` for each text, tokenized by ``nlp.make_doc`` (the tokenizer, as ``nlp.pipe`` does)."""
        make_doc = self.nlp.make_doc
        for text in texts:
            yield self.annotate(make_doc(text))


_ANNOTATORS: "weakref.WeakKeyDictionary[Language, FallbackAnnotator]" = weakref.WeakKeyDictionary()


def fallback_annotator(nlp: Language) -> FallbackAnnotator | None:
    """The fast path for ``nlp`` if it is exactly the fallback pipeline of ``load_nlp``, else None.

    None for a real model (``nl_core_news_sm``) or any pipeline with other or changed components.
    """
    if nlp.meta.get("kwal_model") != FALLBACK_NAME or nlp.pipe_names != ["lemmatizer", "sentencizer"]:
        return None
    lemmatizer, sentencizer = nlp.get_pipe("lemmatizer"), nlp.get_pipe("sentencizer")
    if (type(lemmatizer) not in (DutchLemmatizer, Lemmatizer) or type(sentencizer) is not Sentencizer
            or lemmatizer.mode != "lookup" or not lemmatizer.lookups.has_table("lemma_lookup")):
        return None  # only the components whose semantics FallbackAnnotator reproduces
    annotator = _ANNOTATORS.get(nlp)
    if annotator is None:
        annotator = _ANNOTATORS[nlp] = FallbackAnnotator(nlp)
    return annotator
