"""The matching form of an article: its text as segments of words.

:func:`prepare` turns an :class:`~dedup.article.Article` into a
:class:`Prepared` (normalised, segmented, title first); boilerplate removal
then turns that into a :class:`Doc`, the compact form every later stage uses.
Both are plain data and pickle cheaply to worker processes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .article import Article, url_host
from .fingerprint import segment_keys
from .normalise import (
    CALENDAR,
    MAX_HEADLINE,
    clean_for_matching,
    first_sentence_end,
    is_relative_time,
    normalise_text,
    segment_lines,
    strip_dateline,
    words,
)

BODY_SENTENCE = 3  # words of a story's first line of text, after which a headline starts another story
TOP = 12  # the first lines (and segments) of a text searched for its headline: pages open with menus

_PREFIXES = ("update", "corrected", "refile", "rpt", "repeat", "urgent", "wrapup")


@dataclass(frozen=True)
class Segment:
    """One line or sentence: its boilerplate key and its words (case kept)."""

    key: int
    words: tuple[str, ...]
    line: bool = False  # a paragraph of its own, of one sentence (a headline, a table row)


@dataclass(frozen=True)
class Prepared:
    """An article normalised and cut into segments, the title first."""

    id: str
    group: str
    segments: tuple[Segment, ...]
    headline: int = -1  # the position of the segment that is the article's title, -1 if none is
    # other lines that may be the headline (segment positions, and the lines as written) when the
    # title may be a site's recurring line (see choose_title)
    alternatives: tuple[int, ...] = ()
    titles: tuple[str, ...] = ()
    # the segment at which the text starts below lines that may be headlines (title_lines), -1 if
    # unknown: with a title the site repeats and no other, this line, not a headline, opens the text
    text_start: int = -1


@dataclass(frozen=True)
class Doc:
    """What matching needs of an article: its words after boilerplate removal.

    ``words`` keep their case (capitalised words and numbers are evidence when
    two short items differ); ``tokens`` are the same words lower-cased.
    ``removed`` holds the segments dropped as boilerplate, for ``explain``.
    ``head`` is the length in words of the first segment kept, normally the
    headline (0 when unknown).
    """

    id: str
    words: tuple[str, ...]
    removed: tuple[str, ...] = ()
    head: int = 0
    # the headline as written, when another line than the article's title (choose_title): not matching data
    title: str | None = field(default=None, compare=False, repr=False)

    @property
    def tokens(self) -> list[str]:
        return " ".join(self.words).lower().split(" ") if self.words else []


def prepare(article: Article) -> Prepared:
    """Normalise an article and split it into segments, with its title first.

    The title is prepended unless the text already starts with it, so that a
    JSON record (title apart from text) and an HTML page (title in the
    ``<h1>``) of the same story line up the same way.
    """
    texts, headline, others, start = segment_texts(article)
    keys = segment_keys([text for text, _ in texts]).tolist()
    segs = tuple(Segment(key, tuple(text.split(" ")), alone) for key, (text, alone) in zip(keys, texts))
    return Prepared(article.id, article.group, segs, headline, tuple(k for k, _ in others),
                    tuple(line for _, line in others), start)


def segment_texts(article: Article) -> tuple[list[tuple[str, bool]], int, list[tuple[int, str]], int]:
    """What :func:`prepare` makes of an article, as plain strings: each segment's
    words joined by single spaces, and whether it is a paragraph of its own;
    which segment is the article's title (-1: none, or not a segment of its own);
    the other lines above the text that may be its headline, as segment
    positions and lines as written (:func:`title_lines`; none when there is no title);
    and the segment at which the text starts below them (-1: unknown, or no title)."""
    segs = segment_lines(article.text)
    if not article.title:
        return segs, -1, [], -1
    stripped = strip_site_name(article.title, article.source, article.url)
    title = _as_segment(stripped)
    if stripped != article.title:  # the page's own headline line may carry the site's name too
        _drop_site_name(segs, _as_segment(article.title).lower(), title)
    if not title:
        return segs, -1, [], -1
    if segs and segs[0][0] == title and title.split(" ", 1)[0].lower() not in _PREFIXES:
        at = 0  # what the search below finds
    elif not _starts_with_title(segs, title):
        segs.insert(0, (title, True))
        at = 0
    else:
        at = _title_at(segs, title)
    lines, start = _title_scan(article.text)
    return segs, at, _other_titles(segs, lines, at, article.title), _segment_at(segs, start, at)


def _segment_at(segs: list[tuple[str, bool]], line: str | None, title: int) -> int:
    """The position of the segment that line ``line`` (as written) starts with, among the
    first ones and after the title's (``title``), or -1. A segment is taken for the line's
    first sentence by its first and last words (cheaper than the line's words by regex).

    >>> _segment_at([("Today s Paper", True), ("the council met", True)], "the council met. It voted.", 0)
    1
    """
    if line is None:
        return -1
    line = strip_dateline(clean_for_matching(line))
    found = _FIRST_WORD.search(line)
    if found is None:
        return -1
    sentence = ""
    for k in range(title + 1, min(TOP, len(segs))):
        text = segs[k][0]
        # the segment's first word first (most segments are not the line's), then its last word
        if text.startswith(found.group()) and (text == found.group() or text[len(found.group())] == " "):
            sentence = sentence or line[:first_sentence_end(line)].rstrip(_SENTENCE_TAIL)
            if sentence.endswith(text[text.rfind(" ") + 1:]):
                return k
    return -1


_SENTENCE_TAIL = " \t.!?\"')]\u201d\u2019"  # what may follow a sentence's last word
_FIRST_WORD = re.compile(r"\w+")


def _as_segment(line: str) -> str:
    """A line as a segment of :func:`segment_lines` is written: its words joined by spaces."""
    return " ".join(words(clean_for_matching(line)))


def _other_titles(segs: list[tuple[str, bool]], lines: list[str], title: int,
                  title_text: str) -> list[tuple[int, str]]:
    """The lines above the text that read like a headline (``lines``, from :func:`title_lines`,
    in capitals or Title Case) but the title (segment ``title``): each as the position of the
    segment it is among the first ones, and as written. A line in sentence case above the text
    is as often a first line of text or of a table ("Jan 31 end") as a headline."""
    if len(lines) < 2 and (not lines or lines[0] == title_text):
        return []  # most pages: no other line above the text than the title
    found: dict[int, str] = {}
    for line in lines:
        seg = _as_segment(line)
        if not looks_like_headline(seg.split(" ")):
            continue
        k = next((k for k, (text, _) in enumerate(segs[:TOP]) if text == seg), -1)
        if k >= 0 and k != title:
            found.setdefault(k, line)
    return list(found.items())


def title_lines(text: str) -> list[str]:
    """The lines among a text's first ones, above where the text starts, that may
    be its headline: 3 to 20 words, not a sentence, not a time stamp.

    Scraped pages often open with a masthead, a logo line or a site's tagline
    before the headline, which only the site's other pages tell apart (see
    :func:`choose_title`).

    >>> title_lines("logo\\nHARBOR TIMES\\nLocal news since 1891\\nWagner leaves Mali after losses\\n\\n"
    ...             "DAKAR (AP) - The group said...")
    ['Local news since 1891', 'Wagner leaves Mali after losses']
    >>> title_lines("A long first line that reads like a sentence of the story itself, not a headline at all.")
    []
    >>> title_lines("MASTHEAD\\nRALEIGH, N.C., Oct 20 - Shr 38 cts\\n\\nNet 1.3 mln vs 668,000")
    []
    """
    return _title_scan(text)[0]


def _title_scan(text: str) -> tuple[list[str], str | None]:
    """:func:`title_lines`, and the line at which the text starts (None: not among the first lines).

    >>> _title_scan("Weather\\nToday's Paper\\nthe council met on tuesday.\\n\\nMORE NEWS")
    (["Today's Paper"], 'the council met on tuesday.')
    """
    found: list[str] = []
    for line in text.split("\n", TOP)[:TOP]:
        line = line.strip()
        if not line or is_relative_time(line):
            continue
        end = line.rstrip("\"')\u201d\u2019")  # a sentence may end inside quotes
        if len(line.split(None, MAX_HEADLINE)) > MAX_HEADLINE or end.endswith(("!", "?", ":", ";", ",")) or (
                end.endswith(".") and not line.isupper()):
            return found, line  # the text has started: no headline below
        # "RALEIGH, N.C., Oct 20 - Shr 38 cts": a dateline (in capitals, with a dash) starts the story's text
        if line[:1].isupper() and _DASH.search(line):
            normalised = normalise_text(line)
            if strip_dateline(normalised) != normalised:
                return found, line
        if len(words(line)) >= 3:  # not counting bullets and dashes
            found.append(line)
    return found, None


_DASH = re.compile("[-\u2010-\u2015\u2212]")  # what a dateline ends with, before normalise_text


def choose_title(headline: int, alternatives: Sequence[int], boiler: Sequence[bool]) -> tuple[int, int]:
    """The segment that is an article's headline, given whether each is boilerplate: the
    title's (``headline``), unless it is a line the site repeats on its other pages (a
    masthead, a tagline), then the first of ``alternatives`` that is not; and which
    one it is (0: the title, ``k``: ``alternatives[k - 1]``).

    >>> choose_title(0, [1, 2], [True, False, False])
    (1, 1)
    >>> choose_title(0, [1], [False, False]), choose_title(0, [1], [True, True])
    ((0, 0), (0, 0))
    """
    if headline >= 0 and boiler[headline]:
        for k, at in enumerate(alternatives):
            if not boiler[at]:
                return at, k + 1
    return headline, 0


def _title_at(segs: list[tuple[str, bool]], title: str) -> int:
    """The first of the first segments that is the title (an update prefix aside), or -1."""
    core = " ".join(_strip_prefix(title.lower().split(" ")))
    for k, (text, _) in enumerate(segs[:TOP]):
        # most segments differ in length or ending: the prefix is stripped only from the rest
        ends_alike = len(text) >= len(core) and text[-len(core):].lower() == core
        if ends_alike and " ".join(_strip_prefix(text.lower().split(" "))) == core:
            return k
    return -1


def _drop_site_name(segs: list[tuple[str, bool]], full: str, title: str) -> None:
    """Replace, among the first segments, the headline line that repeats the page title
    with its site name (``full``, lower-cased) by the headline alone (``title``)."""
    for k, (text, alone) in enumerate(segs[:TOP]):
        if text.lower() == full:
            segs[k] = (title, alone)
            return


def _starts_with_title(segs: list[tuple[str, bool]], title: str) -> bool:
    """Whether the headline is already among the first words of the text."""
    core = _strip_prefix(title.lower().split(" "))
    if not core:
        return True
    head: list[str] = []
    count = 0
    for text, _ in segs[:TOP]:
        head.append(text)
        count += text.count(" ") + 1
        if count >= 80:
            break
    return f" {' '.join(core)} " in f" {' '.join(head).lower()} "


def _strip_prefix(tokens: list[str]) -> list[str]:
    if tokens and tokens[0] in _PREFIXES:
        rest = tokens[1:]
        while rest and rest[0].isdigit():
            rest = rest[1:]
        return rest
    return tokens


def is_headline(seg: Segment) -> bool:
    """A paragraph of its own that reads like a headline: 2-20 words, written
    in capitals or Title Case.

    >>> is_headline(Segment(0, ("FED", "OPPOSES", "CARD", "RATE", "CEILINGS"), True))
    True
    >>> is_headline(Segment(0, ("Ended", "March", "one"), True))
    False
    >>> is_headline(Segment(0, ("DEAN", "FOODS", "CO", "DF", "3RD", "QTR", "NET"), True))
    True
    >>> is_headline(Segment(0, ("Shr", "12", "cts", "vs", "10", "cts"), True))
    False
    """
    return seg.line and looks_like_headline(seg.words)


def looks_like_headline(words: Sequence[str]) -> bool:
    """The words of a headline: 2-20 words, in capitals or Title Case (see :func:`is_headline`)."""
    if not 2 <= len(words) <= MAX_HEADLINE:
        return False
    alpha = [w for w in words if w[:1].isalpha() and len(w) > 2 and w.lower() not in CALENDAR]
    if len(alpha) >= 2 and all(w.isupper() for w in alpha):
        return True  # "DEAN FOODS CO <DF> 3RD QTR NET"
    alpha = [w for w in alpha if len(w) > 3]
    if len(alpha) < 3:
        return False
    return sum(1 for w in alpha if w[:1].isupper()) >= 0.7 * len(alpha)


def strip_site_name(title: str, source: str | None, url: str | None = None) -> str:
    """Drop a trailing "| Site" (whatever follows a bar) or "- Site" naming the site.

    After a dash, the tail names the site when it is the source's name, or when
    the headline before it has 3 words or more and the tail (4 words at most)
    starts with the source's initials, the first word of its name or a label of
    the page's web address: sites brand their titles with a short form
    of their name ("- WQXZ 101.5" for WQXZ NewsRadio, "— CRC" for Capital
    Region Courier).

    >>> strip_site_name("Wagner leaves Mali | World | TBD News", None)
    'Wagner leaves Mali'
    >>> strip_site_name("Wagner leaves Mali - The Daily Ledger", "The Daily Ledger")
    'Wagner leaves Mali'
    >>> strip_site_name("Oil prices - analysis", "The Daily Ledger")
    'Oil prices - analysis'
    >>> strip_site_name("Wagner leaves Mali — CRC", "Capital Region Courier")
    'Wagner leaves Mali'
    >>> strip_site_name("Wagner leaves Mali - WQXZ 101.5", None, "https://www.wqxz.example/2025/wagner")
    'Wagner leaves Mali'
    >>> strip_site_name("Oil prices rise again - analysts say", "The Daily Ledger", "https://ledger.example/x")
    'Oil prices rise again - analysts say'
    """
    head, found, _ = title.partition(" | ")
    if found and len(head.split()) >= 3:  # "Headline | Section | Site": what follows a bar is chrome
        return head.rstrip()
    if not source and not url:
        return title
    names: set[str] | None = None  # made when a title has a dash: most have none
    for sep in (" - ", " \u2014 ", " \u2013 ", " :: "):
        head, found, tail = title.rpartition(sep)
        if not found or not head:
            continue
        if source and tail.strip().lower() == source.strip().lower():
            return head.rstrip()
        tail_words = words(tail.lower())
        if tail_words and len(tail_words) <= 4 and len(head.split()) >= 3:
            names = _site_names(source, url) if names is None else names
            if tail_words[0] in names:
                return head.rstrip()
    return title


def _site_names(source: str | None, url: str | None) -> set[str]:
    """Short forms a site brands its titles with (lower-cased): its initials (with and
    without a leading "the"), the first word of its name ("the" aside) and the labels
    of its web address's host (of 3 characters or more, "www" and the last one aside).

    >>> sorted(_site_names("The Brief Daily", "https://www.thebriefdaily.example/a"))
    ['bd', 'brief', 'tbd', 'thebriefdaily']
    >>> sorted(_site_names(None, "https://news.bbc.co.uk/1/hi"))
    ['bbc', 'news']
    """
    names: set[str] = set()
    if source:
        parts = words(source.lower())
        if len(parts) >= 2:
            names.add("".join(p[0] for p in parts))
        if len(parts) >= 3 and parts[0] == "the":
            names.add("".join(p[0] for p in parts[1:]))
        first = [p for p in parts if p != "the"][:1]
        names.update(first)
    if url and "//" in url:
        host = url_host(url).split(":", 1)[0]
        names.update(label for label in host.split(".")[:-1] if len(label) >= 3 and label != "www")
    return names
