"""Pure text functions: Unicode and typography clean-up, segments, words.

Copies of one story differ in quote marks, dashes, spaces before punctuation,
non-breaking spaces and letter case; these functions map all of them to one
form so that the later stages compare words, not typography.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import repeat

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u202f": " ",
        "\u3000": " ",
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\ufeff": None,
        "\u00ad": None,
        "\u2022": " ",
        "\u00b7": " ",
    }
)
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([,.;:!?%)\]])")
_DOUBLE_DASH = re.compile(r"\s*--+\s*")
_SPACES = re.compile(r"[ \t\f\v]+")
# A hard-wrapped text has no line much longer than its width (2 of Reuters-21578's 16,310
# wrapped stories have one); a page with a paragraph on one long line and a few chrome lines
# near a width of 50 to 100 characters is not wrapped, and unwrapping glued its chrome to the
# headline.
_WRAP_OVERRUN = 20
# The share of the lines after near-width lines that must go on in lower case or with a digit:
# 99.5% of Reuters-21578's wrapped stories have more (the rest are tables).
_WRAP_GOING_ON = 0.25
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!\b[A-Za-z]\.)[\"'\u201d\u2019)\]]*\s+(?=\S)")  # not after "U.S." or "J."
_WORD = re.compile(r"\w+")


_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def clean_for_matching(text: str) -> str:
    """The cheap normalisation matching needs: NFKC and no invisible characters.

    Words are runs of letters and digits, so quote marks, dashes and spacing
    do not reach them; only characters that change or split words matter:
    compatibility forms (ligatures, full-width letters, non-breaking spaces)
    and zero-width joiners or soft hyphens inside words. ASCII text is
    returned as it is.

    >>> clean_for_matching("co\u00adoperation \ufb01nal")
    'cooperation final'
    """
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text)
    return _INVISIBLE.sub("", text) if _INVISIBLE.search(text) else text


def normalise_text(text: str) -> str:
    """Map typographic variants to one plain form; keep line breaks and case.

    >>> normalise_text("\u201cMission accomplished ,\u201d it said \u2014 at 5\u00a0pm .")
    '"Mission accomplished," it said - at 5 pm.'
    """
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
    text = _DOUBLE_DASH.sub(" - ", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    return _SPACES.sub(" ", text)


def unwrap(text: str) -> str:
    """Join hard-wrapped lines back into paragraphs.

    Wire copy and e-mail are often wrapped at a fixed width (~70 characters),
    with paragraphs marked by an indent or a blank line. When most lines of a
    text look wrapped (near one width of 50 to 100 characters, none much longer,
    and often followed by a line going on in lower case), a line is joined to
    the previous one unless it is blank, indented, or the previous line is short
    (a headline, a table row) and the line does not go on in lower case.

    >>> text = ("    The bank said it would hold rates at the current level, a\\n"
    ...         "spokesman told reporters on Friday in the capital city.\\n"
    ...         "    It gave no details of the talks with the ministry.")
    >>> unwrap(text).splitlines()[0].strip()
    'The bank said it would hold rates at the current level, a spokesman told reporters on Friday in the capital city.'
    """
    lines = text.split("\n")
    longest = max(lines, key=len)
    if len(longest) > 100 + _WRAP_OVERRUN and len(longest.rstrip()) > 100 + _WRAP_OVERRUN:
        return text  # longer than any width allows (below): most pages, at once
    lengths = sorted(len(ln.rstrip()) for ln in lines if ln.strip())
    if len(lengths) < 3:
        return text
    width = lengths[int(0.9 * (len(lengths) - 1))]
    if not 50 <= width <= 100 or lengths[-1] > width + _WRAP_OVERRUN:
        return text  # one paragraph per line, as web pages and JSON records have
    near_width = [k for k, ln in enumerate(lines) if len(ln.rstrip()) >= width - 25]
    if len(near_width) < 2 or len(near_width) < 0.4 * len(lengths):
        return text
    # A wrapped line breaks a sentence, so the line after it often goes on in lower case;
    # stacked chrome lines (a menu, a date line, a headline) each start with a capital.
    after = [lines[k + 1][:1] for k in near_width if k + 1 < len(lines) and lines[k + 1][:1].strip()]
    going_on = sum(first.islower() or first.isdigit() for first in after)
    if not going_on or going_on < _WRAP_GOING_ON * len(after):
        return text
    out: list[str] = []
    for ln in lines:
        prev = out[-1].rstrip() if out else ""
        if (
            prev.strip()
            and ln.strip()
            and not ln[:1].isspace()
            and (len(prev) >= min(50, width - 20) or (ln.strip()[:1].islower() and prev[-1:] not in '.!?:"'))
        ):
            out[-1] = out[-1].rstrip() + " " + ln.strip()
        else:
            out.append(ln)
    return "\n".join(out)


def split_segments(text: str) -> list[str]:
    """Split normalised text into lines, and lines into sentences.

    Segments are the unit of boilerplate detection: a newsletter block glued to
    the end of the story's last paragraph is still a sentence of its own.

    >>> split_segments("Title\\n\\nIt rained. Then it stopped!\\nSign up now.")
    ['Title', 'It rained.', 'Then it stopped!', 'Sign up now.']
    >>> split_segments("U.S. farm plans. J. Smith said so.")
    ['U.S. farm plans.', 'J. Smith said so.']
    """
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            out.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return out


def first_sentence_end(line: str) -> int:
    """Where a line's first sentence ends (:func:`split_segments`' rule), or its length.

    >>> line = "U.S. farm plans. J. Smith said so."
    >>> line[:first_sentence_end(line)]
    'U.S. farm plans.'
    """
    for found in _SENTENCE_END_FAST.finditer(line):  # _SENTENCE_END's lookbehinds, tried at its matches only
        at = found.start()
        if line[at] == "." and at and line[at - 1] in _ASCII_LETTERS and (at == 1 or not _is_word_char(line[at - 2])):
            continue  # after "U.S" or "J": not a sentence end
        return at + 1
    return len(line)


_SENTENCE_END_FAST = re.compile(r"[.!?][\"'\u201d\u2019)\]]*\s+(?=\S)")
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


# Typographic characters that are not word characters, as UTF-8, mapped to ASCII before the
# byte-level passes of :func:`segment_lines`. Closing quotes may follow a sentence end, so they
# map to ASCII quotes; every other one maps to a backtick, which is neither a closer nor a space
# (an opening quote or a bullet right after "!" does not end a sentence in split_segments).
_TYPOGRAPHY = {
    ch: rep.encode("ascii")
    for ch, rep in (("\u2019", "'"), ("\u201d", '"'),
                    *((other, "`") for other in "\u2018\u201c\u2014\u2013\u2022\u00b7\u2026\u00ab\u00bb"
                                                "\u2032\u00b4\u2212\u2010\u2011"))
}
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# The sentence end of _SENTENCE_END, on bytes, punctuation included (it becomes a NUL byte).
_SENTENCE_END_BYTES = re.compile(rb"[.!?](?<!\b[A-Za-z]\.)[\"')\]]*[ \t\x1f]+(?=[^ \t\x1f\n])")
_SENTENCE_END_TEXT = re.compile(r"[.!?](?<!\b[A-Za-z]\.)[\"')\]]*[^\S\n]+(?=\S)")
# ASCII bytes that are not word characters (\w), but for the line and sentence separators.
_ASCII_NONWORD = bytes(
    c if (c >= 0x80 or chr(c).isalnum() or c in (0x5F, 0x0A, 0x00)) else 0x20 for c in range(256)
)
_NONWORD_KEEP_BREAKS = re.compile(r"[^\w\n\x00]+")
_SPACE_RUN = re.compile(rb"  +")


def segment_lines(text: str) -> list[tuple[str, bool]]:
    """The segments of a text (lines, and sentences within lines), each as its
    words joined by single spaces, with whether it is a paragraph of its own.

    The same segments as :func:`split_segments` followed by :func:`words`, with
    wire datelines (first lines) and relative-time lines dropped. A segment is
    *alone* when its line holds one sentence and blank lines (or the text's
    ends) are around it: a headline, a table row. The work is done on the
    whole text's bytes (a few passes of ``bytes.translate`` and ``re``), not
    per word, except for text with non-ASCII letters left after typography.

    >>> segment_lines("Title line\\n\\nIt rained. Then it stopped!\\nSign\u00a0up \u2014 now.")
    [('Title line', True), ('It rained', False), ('Then it stopped', False), ('Sign up now', False)]
    >>> segment_lines("U.S. farm plans. J. Smith said so.\\n\\nDAKAR, Senegal (AP) \u2014 Caf\u00e9 owners met.")
    [('U S farm plans', False), ('J Smith said so', False), ('Caf\u00e9 owners met', True)]
    """
    lines = clean_for_matching(unwrap(text)).splitlines()
    if not lines:
        return []
    blank = [not line.strip() for line in lines]
    for n in range(min(12, len(lines))):
        if lines[n][:1].isalpha():  # what a dateline starts with
            lines[n] = strip_dateline(lines[n])
    for n, line in enumerate(lines):
        if len(line) < 40 and is_relative_time(line):  # the length first: it rules most lines out
            lines[n] = ""
    joined = "\n".join(lines)
    if "\x00" in joined:  # the passes below mark sentence ends with NUL: keep another non-word character
        lines = [line.replace("\x00", "\x01") for line in lines]
        joined = "\n".join(lines)
    data = joined.encode("utf-8")
    ascii_only = data.isascii()
    if not ascii_only:
        for char in set(_NON_ASCII.findall(joined)):
            plain = _TYPOGRAPHY.get(char)
            if plain is not None:
                data = data.replace(char.encode("utf-8"), plain)
        ascii_only = data.isascii()
    if ascii_only:
        data = _SENTENCE_END_BYTES.sub(b"\x00", data).translate(_ASCII_NONWORD)
    else:  # letters beyond ASCII: Unicode word boundaries and word characters
        marked = _SENTENCE_END_TEXT.sub("\x00", data.decode("utf-8"))
        data = _NONWORD_KEEP_BREAKS.sub(" ", marked).encode("utf-8")
    out: list[tuple[str, bool]] = []
    last = len(lines) - 1
    for n, line in enumerate(_SPACE_RUN.sub(b" ", data).decode("utf-8").split("\n")):
        if "\x00" not in line:
            line = line.strip(" ")
            if line:
                out.append((line, (n == 0 or blank[n - 1]) and (n == last or blank[n + 1])))
            continue
        # Only spaces are left of the white space: str.strip() is strip(" "), in C.
        parts = list(filter(None, map(str.strip, line.split("\x00"))))
        if len(parts) == 1 or (len(parts) > 1 and lines[n].isupper() and _capitals_headline(lines[n], parts)):
            out.append((" ".join(parts), (n == 0 or blank[n - 1]) and (n == last or blank[n + 1])))
        else:
            out.extend(zip(parts, repeat(False)))
    return out


MAX_HEADLINE = 20  # words of the longest headline


def _capitals_headline(line: str, parts: list[str]) -> bool:
    """Whether a line in capitals cut into sentences (``parts``) is a headline with an
    abbreviation ("COMPUTER ASSOC. <CA> BOLSTERS HAND AGAINST IBM"): one segment, not two."""
    return sum(part.count(" ") + 1 for part in parts) <= MAX_HEADLINE and not line.rstrip().endswith((".", "!", "?"))


# Months as written short ("Feb", "Sept"); "may" is a month and its own short form.
MONTHS_SHORT = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec")
CALENDAR = frozenset(
    [
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
        "november", "december", *MONTHS_SHORT,
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
        "mon", "tue", "wed", "thu", "fri", "sat", "sun",
    ]
)

# A wire dateline opening the first paragraph: "NORTH CHICAGO, Ill., April 9 - ",
# "DAKAR, Senegal (AP) - ". Here the place is in capitals; up to three comma-separated
# parts (region, date) and an optional agency credit follow, then a dash.
_DATELINE = re.compile(
    r"^[A-Z][A-Z.'\- ]{1,40}(?:,\s*[A-Za-z0-9.' ]{1,30}){0,3}(?:\s*\([A-Za-z. ]{1,20}\))?"
    r"\s+(?:-{1,2}|\u2013|\u2014)\s+(?=\S)"
)
# The same with the place in mixed or lower case ("Toronto, Feb 26 - ", "Washington (Reuters) - ",
# "jackson, miss., june 19 - " in a lower-cased feed): up to four words and a region, then a date
# or an agency credit, without which an opening ("Smith, the manager - ") is no dateline.
_DATELINE_MIXED = re.compile(
    r"^[A-Za-z][A-Za-z.'\-]*(?: [A-Za-z][A-Za-z.'\-]*){0,3}(?:,\s*[A-Za-z][A-Za-z.' ]{0,30})?"
    rf"(?:,\s*(?i:{'|'.join(MONTHS_SHORT)})[a-z]*\.?\s+\d{{1,2}}|\s*\([A-Za-z. ]{{1,20}}\))"
    r"\s+(?:-{1,2}|\u2013|\u2014)\s+(?=\S)"
)


def strip_dateline(line: str) -> str:
    """Remove a wire dateline from the start of a (normalised) line.

    >>> strip_dateline("NORTH CHICAGO, ILL., April 9 - Abbott Laboratories said")
    'Abbott Laboratories said'
    >>> strip_dateline("DAKAR, Senegal (AP) \u2014 The Russia-backed Wagner Group said")
    'The Russia-backed Wagner Group said'
    >>> strip_dateline("U.S. - Japan trade talks resume")
    'U.S. - Japan trade talks resume'
    >>> strip_dateline("Scarborough, Ontario, Feb 26 - Inco Ltd said")
    'Inco Ltd said'
    >>> strip_dateline("Washington (Reuters) \u2014 The Senate voted")
    'The Senate voted'
    >>> strip_dateline("jackson, miss., june 19 - general motors corp said")
    'general motors corp said'
    >>> strip_dateline("Smith, the manager - said no")
    'Smith, the manager - said no'
    """
    if not line[:1].isalpha() or ("-" not in line and "\u2014" not in line and "\u2013" not in line):
        return line  # a dateline ends with a dash: most lines have none
    m = _DATELINE.match(line)
    if m is None or ("," not in m.group(0) and "(" not in m.group(0)):
        head = line[:100]  # the dash a mixed-case dateline ends with is near the start
        if "-" not in head and "\u2014" not in head and "\u2013" not in head:
            return line
        m = _DATELINE_MIXED.match(line)
        if m is None:
            return line
    return line[m.end() :]


_RELATIVE_TIME = re.compile(  # up to three words before the time ("Last updated: 2 hours ago", "time29 minutes ago")
    r"^\W*(?:[A-Za-z]+[\s:]*){0,3}\d{1,3}\s*(?:s|sec|secs|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)"
    r"\s+ago\W*$",
    re.IGNORECASE,
)


def is_relative_time(line: str) -> bool:
    """A line that only says how long ago the page was updated (it differs on every page).

    >>> [is_relative_time(s) for s in ("time29 minutes ago", "Updated 51 minutes ago", "3 h ago", "Ago 3")]
    [True, True, True, False]
    >>> [is_relative_time(s) for s in ("Last updated: 2 hours ago", "Updated time25 minutes ago", "Up 3 pct ago")]
    [True, True, False]
    """
    return len(line) < 40 and "ago" in line.lower() and _RELATIVE_TIME.match(line.strip()) is not None


def words(segment: str) -> list[str]:
    """The words of a segment, as written (case kept).

    >>> words("U.S. oil-output rose 5.2% ,said Reuters")
    ['U', 'S', 'oil', 'output', 'rose', '5', '2', 'said', 'Reuters']
    """
    return _WORD.findall(segment)


def is_number(token: str) -> bool:
    """True for a token made of digits only.

    >>> is_number("1987"), is_number("4F")
    (True, False)
    """
    return token.isdigit()


def is_name(token: str) -> bool:
    """True for a capitalised word that is not all digits (a likely proper noun).

    >>> is_name("Kemper"), is_name("said"), is_name("15")
    (True, False, False)
    """
    return token[:1].isupper()


# The letters that optical character recognition commonly takes for one another, each group
# written as one: b/h, n/u, c/e, l/i/1, o/0, s/5; and m/rn, d/cl, w/vv.
OCR_LETTERS = ("hue1i05", "bncllos")  # each letter of the first string folds to the one below it
OCR_PAIRS = (("rn", "m"), ("cl", "d"), ("vv", "w"))
_OCR_SHAPES = str.maketrans(*OCR_LETTERS)


def ocr_fold(word: str) -> str:
    """A lower-case word with the letters OCR confuses folded together, so that a misread
    word and its original fold alike.

    >>> ocr_fold("chubb") == ocr_fold("cbnbb"), ocr_fold("modern") == ocr_fold("rnodern")
    (True, True)
    >>> ocr_fold("kemper") == ocr_fold("wallace")
    False
    """
    for pair, one in OCR_PAIRS:
        if pair in word:
            word = word.replace(pair, one)
    return word.translate(_OCR_SHAPES)
