"""The matching form of an article: its text as segments of words.

:func:`prepare` turns an :class:`~dedup.article.Article` into a
:class:`Prepared` (normalised, segmented, title first); boilerplate removal
then turns that into a :class:`Doc`, the compact form every later stage uses.
Both are plain data and pickle cheaply to worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass

from .article import Article
from .normalise import normalise_text, segment_key, split_segments, words

_PREFIXES = ("update", "corrected", "refile", "rpt", "repeat", "urgent", "wrapup")


@dataclass(frozen=True)
class Segment:
    """One line or sentence: its boilerplate key and its words (case kept)."""

    key: int
    words: tuple[str, ...]


@dataclass(frozen=True)
class Prepared:
    """An article normalised and cut into segments, the title first."""

    id: str
    group: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Doc:
    """What matching needs of an article: its words after boilerplate removal.

    ``words`` keep their case (capitalised words and numbers are evidence when
    two short items differ); ``tokens`` are the same words lower-cased.
    ``removed`` holds the segments dropped as boilerplate, for ``explain``.
    """

    id: str
    words: tuple[str, ...]
    removed: tuple[str, ...] = ()

    @property
    def tokens(self) -> list[str]:
        return [w.lower() for w in self.words]


def prepare(article: Article) -> Prepared:
    """Normalise an article and split it into segments, with its title first.

    The title is prepended unless the text already starts with it, so that a
    JSON record (title apart from text) and an HTML page (title in the
    ``<h1>``) of the same story line up the same way.
    """
    segs = [Segment(segment_key(w), tuple(w)) for w in map(words, split_segments(normalise_text(article.text))) if w]
    if article.title:
        title_words = words(normalise_text(article.title))
        if title_words and not _starts_with_title(segs, title_words):
            segs.insert(0, Segment(segment_key(title_words), tuple(title_words)))
    return Prepared(article.id, article.group, tuple(segs))


def _starts_with_title(segs: list[Segment], title: list[str]) -> bool:
    wanted = [w.lower() for w in title]
    core = _strip_prefix(wanted)
    for seg in segs[:6]:
        have = [w.lower() for w in seg.words]
        if have == wanted or _strip_prefix(have) == core or (len(core) >= 3 and _contains(have, core)):
            return True
    return False


def _strip_prefix(tokens: list[str]) -> list[str]:
    if tokens and tokens[0] in _PREFIXES:
        rest = tokens[1:]
        while rest and rest[0].isdigit():
            rest = rest[1:]
        return rest
    return tokens


def _contains(have: list[str], core: list[str]) -> bool:
    n = len(core)
    return any(have[i:i + n] == core for i in range(len(have) - n + 1))
