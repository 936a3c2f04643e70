"""Verification of a candidate pair: is one text a copy of the other?

MinHash finds pairs that *may* be copies; this stage decides, by aligning the
two word sequences with rapidfuzz (an Indel/LCS alignment, bit-parallel and
fast) and reading the alignment:

* **shared words** are runs of at least ``min_block`` words found in both, in
  the same order. Short gaps between runs whose words are spelling variants
  (OCR noise, a word split in two) count as shared too.
* **containment** is the share of the shorter text that is shared. A truncated
  copy, an excerpt with a "read more" line or a copy with a dropped paragraph
  is contained in the full story even when its whole-text similarity is low.
* **where the shared text starts.** Copies start with the same story; a page
  that carries another story in a "related articles" block shares that story
  only further down. Pairs whose shared text starts at the top of both (within
  ``lead_slack`` words) are judged by containment; other pairs (a write-thru
  with a new lead) need ``overlap_threshold`` of *both* texts to be shared.
* **conflicts**: a gap in the alignment where the two texts hold different
  numbers or different names ("Kemper Corp ... pay May 29" against "Wallace
  Computer ... pay June 19"). Template items (dividend notices, earnings
  tables, weekly reports) are nearly identical apart from these, so one
  conflict is tolerated only per ``conflict_every`` shared words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Indel, Levenshtein, MatchingBlock

from .config import Config
from .normalise import CALENDAR as _CALENDAR
from .normalise import is_name, is_number, ocr_fold

# Words of each text that are aligned: the alignment's memory grows with the product of the two
# lengths (two 800,000-word texts would need 80 GB). News stories are far shorter; longer texts
# are judged on their first MAX_ALIGNED_WORDS words.
MAX_ALIGNED_WORDS = 20_000
_SPELLING_RATIO = 75.0  # rapidfuzz ratio at which two short word runs are spelling variants
_MAX_GAP = 8  # longest gap (in words, each side) compared for spelling variants and conflicts
# Words of the longest lead paragraph: 99% of Reuters-21578's stories of three paragraphs or more
# have a shorter first one (median 27 words); three paragraphs of another story are not one.
_LEAD_PARAGRAPH = 50


@dataclass(frozen=True)
class Verdict:
    """The outcome of verifying one pair, with the figures behind it."""

    match: bool
    score: float
    containment: float
    overlap: float
    shared: int
    conflicts: int
    start_a: int
    start_b: int
    measure: str
    reason: str


def verify(
    words_a: Sequence[str],
    words_b: Sequence[str],
    config: Config,
    head_a: int = 0,
    head_b: int = 0,
    lower_a: Sequence[str] | None = None,
    lower_b: Sequence[str] | None = None,
) -> Verdict:
    """Decide whether two word sequences (case kept) are copies of one story
    (on their first :data:`MAX_ALIGNED_WORDS` words).

    ``head_a``/``head_b`` are the lengths of their headlines (first segments),
    0 if unknown; ``lower_a``/``lower_b`` the words lower-cased, if the caller
    has them already. Symmetric: ``verify(a, b)`` and ``verify(b, a)`` give the
    same decision and score.
    """
    if len(words_a) > MAX_ALIGNED_WORDS or len(words_b) > MAX_ALIGNED_WORDS:
        words_a, words_b = words_a[:MAX_ALIGNED_WORDS], words_b[:MAX_ALIGNED_WORDS]
        lower_a = lower_a[:MAX_ALIGNED_WORDS] if lower_a is not None else None
        lower_b = lower_b[:MAX_ALIGNED_WORDS] if lower_b is not None else None
    la, lb = len(words_a), len(words_b)
    ta = _as_list(lower_a) if lower_a is not None else [w.lower() for w in words_a]
    tb = _as_list(lower_b) if lower_b is not None else [w.lower() for w in words_b]
    if (lb, tb) < (la, ta):  # one fixed order, so that the alignment (and verdict) is symmetric
        v = _verify(words_b, words_a, tb, ta, head_b, head_a, config)
        return Verdict(
            v.match, v.score, v.containment, v.overlap, v.shared, v.conflicts, v.start_b, v.start_a, v.measure, v.reason
        )
    return _verify(words_a, words_b, ta, tb, head_a, head_b, config)


def _as_list(words: Sequence[str]) -> list[str]:
    return words if isinstance(words, list) else list(words)


def _verify(
    words_a: Sequence[str],
    words_b: Sequence[str],
    ta: list[str],
    tb: list[str],
    head_a: int,
    head_b: int,
    config: Config,
) -> Verdict:
    la, lb = len(words_a), len(words_b)
    if la == 0 or lb == 0:
        return Verdict(False, 0.0, 0.0, 0.0, 0, 0, 0, 0, "none", "an empty text")
    if la >= config.min_block and ta == tb:  # the same words: what the alignment below would find, at once
        return Verdict(True, 1.0, 1.0, 1.0, la, 0, 0, 0, "containment",
                       "100% of the shorter text is in the longer, both from the top")
    blocks = [blk for blk in Indel.opcodes(ta, tb).as_matching_blocks() if blk.size >= config.min_block]
    if not blocks:
        return Verdict(False, 0.0, 0.0, 0.0, 0, 0, la, lb, "none", "no shared run of words")
    shared = sum(blk.size for blk in blocks)
    lead_a, lead_b = slice(0, blocks[0].a), slice(0, blocks[0].b)
    credit, conflicts = _lead_gap(words_a[lead_a], words_b[lead_b], ta[lead_a], tb[lead_b])
    shared += credit
    prev_a, prev_b = blocks[0].a + blocks[0].size, blocks[0].b + blocks[0].size
    for blk in blocks[1:]:
        gap_a, gap_b = slice(prev_a, blk.a), slice(prev_b, blk.b)
        credit, conflict = _gap(words_a[gap_a], words_b[gap_b], ta[gap_a], tb[gap_b])
        shared += credit
        conflicts += conflict
        prev_a, prev_b = blk.a + blk.size, blk.b + blk.size
    # The tails: a changed pay date is a conflict, a truncated copy's end is not.
    tail_a, tail_b = la - prev_a, lb - prev_b
    if abs(tail_a - tail_b) <= 2 or max(tail_a, tail_b) <= _MAX_GAP:  # else the tails can count for nothing
        credit, conflict = _gap(words_a[prev_a:], words_b[prev_b:], ta[prev_a:], tb[prev_b:])
        shared += credit
        if abs(tail_a - tail_b) <= 2:
            conflicts += conflict
    shorter, longer = min(la, lb), max(la, lb)
    shared = min(shared, shorter)
    new_lead = _new_lead(blocks, ta, tb, config)
    containment = shared / max(shorter - new_lead, 1)
    overlap = shared / longer
    start_a, start_b = blocks[0].a, blocks[0].b
    allowed = shared // config.conflict_every

    def verdict(match: bool, measure: str, reason: str) -> Verdict:
        return Verdict(match, containment, containment, overlap, shared, conflicts, start_a, start_b, measure, reason)

    if conflicts > allowed:
        return verdict(False, "conflict", f"{conflicts} differing numbers or names where {allowed} are tolerated")
    # from the top of the text, under its headline when that is not shared (a write-thru's new lead)
    under_a = start_a - (head_a if head_a <= start_a else 0)
    under_b = start_b - (head_b if head_b <= start_b else 0)
    lead_aligned = under_a <= config.lead_slack and under_b <= config.lead_slack
    if lead_aligned and _other_headlines(ta, tb, head_a, head_b, start_a, start_b):
        return verdict(False, "headlines", "the shared text starts under two headlines that name different things: "
                                           "another story's lead, taken by a write-thru")
    if lead_aligned and containment >= config.containment_threshold:
        aside = f" (a new lead of {new_lead} words aside)" if new_lead else ""
        return verdict(
            True, "containment", f"{containment:.0%} of the shorter text is in the longer{aside}, both from the top"
        )
    # One text, headline included, carried further down the other page: a "related articles"
    # block, not a copy (a write-thru shares the body only; a lead that starts with the
    # headline's first words, "Brazilian Finance Minister ...", shares only those).
    end_a, end_b = start_a + blocks[0].size, start_b + blocks[0].size
    carried = not lead_aligned and (
        (start_a < head_a <= end_a and start_b > config.lead_slack)
        or (start_b < head_b <= end_b and start_a > config.lead_slack)
    )
    if carried:
        return verdict(
            False,
            "carried",
            f"the whole of one text, headline included, appears from word {max(start_a, start_b)} "
            "of the other: a story carried further down the page, not a copy",
        )
    if overlap >= config.overlap_threshold:
        return verdict(True, "overlap", f"{overlap:.0%} of both texts is shared")
    if not lead_aligned and containment >= config.containment_threshold:
        # Under a block no longer than a lead paragraph at the top of a text without headline,
        # from the top in the other: a write-thru's new lead over the story, its headline lost
        # (a carried story comes with its headline, or after a whole story; under a headline,
        # the block may be another story's lead and the shared text a third story's).
        if (min(under_a, under_b) <= config.lead_slack and max(under_a, under_b) <= _LEAD_PARAGRAPH
                and (head_a if under_a > under_b else head_b) == 0):
            return verdict(True, "containment", f"{containment:.0%} of the shorter text is in the longer, "
                                                f"under a new lead of {max(under_a, under_b)} words in one")
        return verdict(
            False,
            "none",
            f"{containment:.0%} of the shorter text is in the longer, but only from word "
            f"{max(start_a, start_b)} on: another story carried further down the page",
        )
    return verdict(False, "none", f"only {containment:.0%} of the shorter text is shared")


def partial(v: Verdict, config: Config) -> bool:
    """Whether a verdict of "different" is what two partial copies of one story get (a truncated
    teaser, and a copy with a paragraph dropped): no conflict, no other story's headline or carried
    story, and at least half of what a copy must share of the shorter text (more than a stock
    phrase, "Moody's Investors Service Inc said"), but less. Clustering does not count such a pair
    against a merge when a longer copy holds both (:func:`dedup.cluster.partial_copies`)."""
    return (not v.match and v.measure == "none"
            and config.containment_threshold / 2 <= v.score < config.containment_threshold)


_NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand "
    "million billion trillion half quarter".split()
)
_MAX_LEAD_GAP = 30  # words of the leading gap (headline, dateline) searched for names


def _numbers(lower: Sequence[str]) -> set[str]:
    """The numbers (all digits) and number words among lower-cased ``words``.

    Set operations only: gaps can be hundreds of words long.

    >>> sorted(_numbers(["paid", "may", "11", "two", "billion", "4f", "someone"]))
    ['11', 'billion', 'two']
    """
    distinct = set(lower)
    found = distinct & _NUMBER_WORDS
    found.update(filter(str.isdigit, distinct))
    return found


_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "it",
        "its",
        "he",
        "she",
        "they",
        "we",
        "you",
        "i",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "his",
        "her",
        "their",
        "our",
        "your",
        "not",
        "no",
        "said",
        "says",
        "say",
        "will",
        "would",
        "can",
        "could",
        "after",
        "before",
        "over",
        "under",
        "about",
        "into",
        "than",
        "then",
        "also",
    ]
)


def _names(words: Sequence[str], *, caps: bool) -> list[str]:
    """Capitalised words that may name someone (all-caps headline words only if ``caps``),
    lower-cased; numbers, one-letter words, calendar words and stopwords are not names.

    >>> _names(["Amoco", "Corp", "said", "The", "MAY", "X", "1987", "OPEC"], caps=False)
    ['amoco', 'corp']
    """
    out = []
    for w in words:
        if len(w) > 1 and is_name(w) and (caps or not w.isupper()) and not is_number(w):
            lower = w.lower()
            if lower not in _CALENDAR and lower not in _STOPWORDS:
                out.append(lower)
    return out


def _same_name(x: str, y: str) -> bool:
    """Spelling variants: close overall, one letter apart ("Net"/"Nct" from OCR), or
    apart only in letters that OCR confuses ("Cbnbb"/"Chubb": see :func:`~dedup.normalise.ocr_fold`),
    or, however short, in letters OCR read as digits ("U5"/"US", "C0"/"Co").

    >>> _same_name("U5", "US"), _same_name("C0", "Co"), _same_name("US", "UN"), _same_name("B5", "B6")
    (True, True, False, False)
    """
    return (fuzz.ratio(x, y) >= _SPELLING_RATIO or (min(len(x), len(y)) >= 3 and Levenshtein.distance(x, y) <= 1)
            or (min(len(x), len(y)) >= 4 and ocr_fold(x) == ocr_fold(y))
            or (len(x) == len(y) and _has_digit(x) != _has_digit(y) and ocr_fold(x.lower()) == ocr_fold(y.lower())))


def _has_digit(word: str) -> bool:
    return not word.isalpha()  # words are letters and digits (and "_")


def _names_differ(xa: Sequence[str], xb: Sequence[str], *, caps: bool = True) -> bool:
    """Each side names someone the other side does not (allowing spelling variants)."""
    names_a = _names(xa, caps=caps)
    if not names_a:
        return False
    names_b = _names(xb, caps=caps)
    if not names_b:
        return False

    def unmatched(xs: list[str], ys: list[str]) -> bool:
        found = set(ys)  # a name on both sides is matched without comparing spellings
        return any(x not in found and all(not _same_name(x, y) for y in ys) for x in xs)

    return unmatched(names_a, names_b) and unmatched(names_b, names_a)


def _spelling_variants(lower_a: Sequence[str], lower_b: Sequence[str]) -> bool:
    """Two short runs of lower-cased words that are the same text spelt differently
    (close overall, or equal but for the spacing)."""
    sa, sb = " ".join(lower_a), " ".join(lower_b)
    return fuzz.ratio(sa, sb) >= _SPELLING_RATIO or sa.replace(" ", "") == sb.replace(" ", "")


def _other_headlines(ta: Sequence[str], tb: Sequence[str], head_a: int, head_b: int, start_a: int,
                     start_b: int) -> bool:
    """Whether both texts open with a headline outside their shared text, and the two
    headlines (of three words or more, with at most one number) have no word of three
    letters or more in common but stopwords, spelling variants allowed; or only one of
    them has such a word in the shared text's first paragraph.

    Copies keep their headline, or rewrite it around the same names; a write-thru that
    took another story's first paragraph for its new lead shares that paragraph, under
    its own headline, with that story's teaser.
    """
    if not (0 < head_a <= start_a and 0 < head_b <= start_b):
        return False
    heads = ta[:head_a], tb[:head_b]
    if any(len(h) < 3 or _figures(h) > 1 for h in heads):
        return False  # a table row taken for a title ("shr loss eight cts vs loss eight cts")
    words_a, words_b = ({w for w in h if len(w) >= 3 and w not in _STOPWORDS} for h in heads)
    if words_a.isdisjoint(words_b) and not any(_same_name(x, y) for x in words_a for y in words_b):
        return True
    # A word in common ("sees", "sets") but outside the shared lead, which only one headline
    # names: the lead is that headline's story, taken by the other
    lead = set(ta[start_a:start_a + _LEAD_PARAGRAPH])
    return (not words_a.isdisjoint(lead)) != (not words_b.isdisjoint(lead))


def _figures(words: Sequence[str]) -> int:
    """How many figures lower-cased ``words`` hold: runs of numbers and number words, so that a
    decimal or a fiscal year cut in two by tokenising ("190 9", "1987 88") is one.

    >>> _figures("japan s ntt forecasts profits fall in 1987 88".split())
    1
    >>> _figures("shr loss eight cts vs loss eight cts".split()), _figures("net 190 9 mln vs 150 4 mln".split())
    (2, 2)
    """
    runs, before = 0, False
    for w in words:
        figure = is_number(w) or w in _NUMBER_WORDS
        runs += figure and not before
        before = figure
    return runs


def _new_lead(blocks: Sequence[MatchingBlock], lower_a: Sequence[str], lower_b: Sequence[str], config: Config) -> int:
    """The words of a new lead in the shorter text, not counted against its containment.

    A write-thru puts a new lead paragraph under the headline; a truncated copy of it holds
    that lead and only the first paragraphs of the story. So when both texts start with a
    shared run (the headline, within ``lead_slack`` words of the top) and the next shared
    run follows it at once in the longer text but only after a block of words in the
    shorter one (less than half of it, or no longer than a lead paragraph,
    :data:`_LEAD_PARAGRAPH`: a copy cut after the story's first paragraph is mostly new
    lead), that block is the new lead. "At once" allows a few words in the longer text that
    the block ends with, spelt otherwise (words run together). ``lower_a``/``lower_b`` are the
    texts' lower-cased words.
    """
    if len(blocks) < 2:
        return 0
    first, second = blocks[0], blocks[1]
    la, lb = len(lower_a), len(lower_b)
    if first.a > config.lead_slack or first.b > config.lead_slack:
        return 0
    end_a, end_b = first.a + first.size, first.b + first.size
    swap = la > lb  # "mine": the shorter text's
    mine, theirs = (second.b - end_b, second.a - end_a) if swap else (second.a - end_a, second.b - end_b)
    shorter = min(la, lb)
    if 2 < theirs <= _MAX_GAP:
        # The longer text's few words before the next shared run end the shorter's gap too,
        # spelt otherwise ("The portof Philadelphiawas" / "The port of Philadelphia was"):
        # the new lead is what comes before them.
        gaps = lower_a[end_a:second.a], lower_b[end_b:second.b]
        my_words, their_words = gaps[::-1] if swap else gaps
        spelt = _spelt_by_end(my_words, their_words)
        if spelt:
            mine, theirs = mine - spelt, 0
    return mine if theirs <= 2 and mine > _MAX_GAP and (mine < shorter / 2 or mine <= _LEAD_PARAGRAPH) else 0


def _spelt_by_end(words: Sequence[str], other: Sequence[str]) -> int:
    """How many of the last ``words`` spell ``other`` (spaces aside, at least
    :data:`_SPELLING_RATIO` alike), or 0 if they do not. Whole words, unlike :func:`_ends_alike`,
    which compares letters: the count is what the new lead is measured without.

    >>> port = ["the", "port", "of", "philadelphia", "was"]
    >>> _spelt_by_end(["oil", "prices", "the", "portof", "philadelphiawas"], port)
    3
    >>> _spelt_by_end(["oil", "prices", "rose", "today"], port)
    0
    """
    letters = sum(len(w) for w in other)
    count = run = 0
    while count < len(words) and run < letters:
        count += 1
        run += len(words[-count])
    if count == len(words) and run < letters:
        return 0
    return count if fuzz.ratio("".join(words[-count:]), "".join(other)) >= _SPELLING_RATIO else 0


def _ends_alike(short: Sequence[str], other: Sequence[str]) -> bool:
    """Whether the words ``short`` spell the end of ``other`` (spaces aside, at least
    :data:`_SPELLING_RATIO` alike).

    >>> _ends_alike(["the", "fedcra1"], ["fnma", "clarifies", "status", "the", "federal"])
    True
    >>> _ends_alike(["kemper", "corp"], ["wallace", "sets", "payout", "wallace", "computer"])
    False
    """
    mine = "".join(short)
    theirs = "".join(other[-len(mine):])[-len(mine):]  # enough words, then as many letters
    return fuzz.ratio(mine, theirs) >= _SPELLING_RATIO


def _misread(lower_a: Sequence[str], lower_b: Sequence[str]) -> bool:
    """Whether two short runs of lower-cased words are one text read differently: apart
    from spacing and letters, they differ only where a letter inside a word was read as
    a digit (OCR's "pr0ceeds", "bi1lion"). A number changed or written otherwise is no
    misreading.

    >>> _misread(["pr0ceeds", "6", "57billion"], ["proceeds", "6", "57", "bi1lion"])
    True
    >>> _misread(["may", "11"], ["may", "one"]), _misread(["pay", "may", "29"], ["pay", "may", "19"])
    (False, False)
    """
    sa, sb = " ".join(lower_a), " ".join(lower_b)
    for op in Levenshtein.editops(sa, sb):
        x = sa[op.src_pos] if op.tag != "insert" else ""
        y = sb[op.dest_pos] if op.tag != "delete" else ""
        if not (x.isdigit() or y.isdigit()):
            continue  # letters and spaces: spelling and spacing
        if op.tag != "replace" or (x.isdigit() and y.isdigit()):
            return False  # a digit added, dropped or changed
        text, at = (sa, op.src_pos) if x.isdigit() else (sb, op.dest_pos)
        before, after = text[at - 1:at] if at else "", text[at + 1:at + 2]
        if not (before.isalpha() or after.isalpha()):
            return False  # a number on its own, not a letter of a word
    return True


def _lead_gap(xa: Sequence[str], xb: Sequence[str], lower_a: Sequence[str], lower_b: Sequence[str]) -> tuple[int, int]:
    """(credit, conflicts) for the gap before the first shared run.

    It holds headlines, datelines and leftover chrome, so numbers there (dates,
    "36 min ago") are no evidence; different names are (two companies' notices).
    """
    credit = 0
    if not xa or not xb:  # one text starts with the shared run: nothing to compare
        return credit, 0
    if len(xa) <= _MAX_GAP and len(xb) <= _MAX_GAP and _spelling_variants(lower_a, lower_b):
        return min(len(xa), len(xb)), 0
    # A text without a headline whose first words are misspelt (OCR, words run together):
    # its gap is those words, and they end the other's gap, after its headline.
    short, other = (lower_a, lower_b) if len(xa) <= len(xb) else (lower_b, lower_a)
    if len(short) <= _MAX_GAP and _ends_alike(short, other):
        return len(short), 0
    # Headlines are often all capitals and rewritten: only names written in
    # mixed case (the first sentence's "Amoco Corp said" / "Texaco Inc said") count.
    if _names_differ(xa[-_MAX_LEAD_GAP:], xb[-_MAX_LEAD_GAP:], caps=False):
        return credit, 1
    return credit, 0


def _gap(xa: Sequence[str], xb: Sequence[str], lower_a: Sequence[str], lower_b: Sequence[str]) -> tuple[int, int]:
    """(words credited as shared, conflicts) for one aligned gap between shared runs
    (its words as written, and lower-cased)."""
    if not xa or not xb:
        return 0, 0
    nums_a, nums_b = _numbers(lower_a), _numbers(lower_b)
    if len(xa) > _MAX_GAP or len(xb) > _MAX_GAP:
        # A rewritten passage: its figures conflict when neither side's are all in the other.
        return 0, int(bool(nums_a and nums_b) and not (nums_a <= nums_b or nums_b <= nums_a))
    if nums_a and nums_b and nums_a != nums_b and not _misread(lower_a, lower_b):
        return 0, 1  # "May 11" / "May one", "1.5 billion" / "two billion"
    if _spelling_variants(lower_a, lower_b):
        return min(len(xa), len(xb)), 0
    if _names_differ(xa, xb):
        return 0, 1
    return 0, 0
