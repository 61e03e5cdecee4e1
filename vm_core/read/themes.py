"""Themes of a set of comments: TF-IDF keywords, from the textbook definition.

Manning, C.D., Raghavan, P. & Schütze, H. (2008) *Introduction to Information Retrieval*, Cambridge
University Press, chapter 6.2 ("Term frequency and weighting"): each comment is a document d of a
collection of N documents;

* ``tf(t, d)``: how often term t occurs in d (the raw count);
* ``df(t)``: the number of documents holding t;
* ``idf(t) = log10(N / df(t))`` (eq. 6.7), so a term in every comment weighs nothing;
* ``tf-idf(t, d) = tf(t, d) · idf(t)`` (eq. 6.8).

A term's weight for the whole collection is its tf-idf summed over the documents,
``w(t) = Σ_d tf(t, d) · idf(t)``. The keywords are the :data:`KEYWORDS` terms of highest weight among
those in at least :data:`MIN_DOCUMENT_FREQUENCY` comments (a word only one person used may be a name, or
a detail that identifies them) and of positive weight; ties go to the term in more comments, then to
the alphabetically first, so the same comments always give the same keywords.

Tokens: the text case-folded, the masks ``[e-mail]``, ``[phone]`` and ``[link]`` removed, then runs of
letters (any script) with inner apostrophes; a final ``'s`` is dropped (``council's`` → ``council``).
Terms are the tokens of two letters or more that are not :data:`STOP_WORDS` and hold no apostrophe
(contractions — ``we're``, ``I'd``, ``won't`` — are function words); digits are never part of one. No
stemming: ``kpi`` and ``kpis`` are two terms.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vm_core.ingest.scrub import EMAIL, LINK, PHONE

#: How many keywords a set of comments gets.
KEYWORDS = 5
#: Fewest comments a keyword must occur in.
MIN_DOCUMENT_FREQUENCY = 2

#: The English stop-word list of NLTK's ``stopwords`` corpus (179 words).
_NLTK_ENGLISH = """
    i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves he
    him his himself she she's her hers herself it it's its itself they them their theirs themselves what
    which who whom this that that'll these those am is are was were be been being have has had having do
    does did doing a an the and but if or because as until while of at by for with about against between
    into through during before after above below to from up down in out on off over under again further
    then once here there when where why how all any both each few more most other some such no nor not
    only own same so than too very s t can will just don don't should should've now d ll m o re ve y ain
    aren aren't couldn couldn't didn didn't doesn doesn't hadn hadn't hasn hasn't haven haven't isn isn't
    ma mightn mightn't mustn mustn't needn needn't shan shan't shouldn shouldn't wasn wasn't weren weren't
    won won't wouldn wouldn't
"""
#: Words that carry no theme in survey comments, beyond NLTK's list.
_SURVEY = "also would could us get got much even still yet though really"
#: Words that are never terms.
STOP_WORDS = frozenset(_NLTK_ENGLISH.split()) | frozenset(_SURVEY.split())

_MASKS = re.compile("|".join(re.escape(mask) for mask in (EMAIL, PHONE, LINK)))
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


@dataclass(frozen=True)
class Keyword:
    term: str
    weight: float  # w(t) = Σ_d tf(t, d) · idf(t)
    documents: int  # df(t): comments holding it


def terms(text: str) -> list[str]:
    """The terms of one comment, in order (module docstring: tokens)."""
    text = _MASKS.sub(" ", text.casefold().replace("\u2019", "'"))
    words = (word.removesuffix("'s") for word in _WORD.findall(text))
    return [word for word in words if len(word) > 1 and "'" not in word and word not in STOP_WORDS]


def keywords(
    documents: Sequence[str], *, top: int = KEYWORDS, min_documents: int = MIN_DOCUMENT_FREQUENCY
) -> list[Keyword]:
    """The ``top`` TF-IDF keywords of the comments ``documents`` (module docstring), best first."""
    counted = [Counter(terms(document)) for document in documents]
    vocabulary = sorted(set().union(*counted))
    if not vocabulary:
        return []
    column = {term: j for j, term in enumerate(vocabulary)}
    # one entry per (comment, term) pair: the tf matrix without its zeros (comments are short)
    pairs = np.array([column[term] for counts in counted for term in counts], dtype=np.int64)
    tf = np.array([count for counts in counted for count in counts.values()], dtype=np.int64)
    df = np.bincount(pairs, minlength=len(vocabulary))
    idf = np.log10(len(documents) / df)
    weight = np.bincount(pairs, weights=tf, minlength=len(vocabulary)) * idf  # Σ_d tf(t, d) · idf(t)
    ranked = sorted(
        (j for j in range(len(vocabulary)) if df[j] >= min_documents and weight[j] > 0),
        key=lambda j: (-round(float(weight[j]), 12), -int(df[j]), vocabulary[j]),
    )
    return [Keyword(vocabulary[j], float(weight[j]), int(df[j])) for j in ranked[:top]]
