"""The article record every stage passes along."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import InputError


@dataclass(frozen=True)
class Article:
    """One news item: an id, its text, and what is known about it.

    ``text`` is the article's plain text as read (for HTML pages, the main
    content found by the extractor). ``group`` is the set of articles whose
    repeated lines count as one site's chrome: the ``source`` when known, else
    the URL's host, else the first folder of the path. ``where`` is where it was
    read from (a file, or a JSON Lines file and line), for messages; not compared.
    """

    id: str
    text: str
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published: str | None = None
    group: str = ""
    order: int = 0
    where: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        # Lone surrogates (undecodable bytes kept by surrogateescape, "\\udce9" escapes in JSON)
        # are not text: they cannot be written as UTF-8. Each becomes U+FFFD.
        for name in ("id", "text", "title", "source", "url", "published"):
            value = getattr(self, name)
            if isinstance(value, str) and not value.isascii() and _has_surrogates(value):
                object.__setattr__(self, name, without_surrogates(value))

    @property
    def published_at(self) -> dt.datetime | None:
        """The publication time as an aware UTC datetime, when it parses."""
        return parse_time(self.published)

    @classmethod
    def from_dict(cls, data: dict[str, Any], order: int = 0, where: str = "") -> Article:
        """Build an article from a record with ``id`` and ``text`` (or ``html``)."""
        from .extraction import extract_html

        if "id" not in data or data["id"] in (None, ""):
            raise InputError("record has no id")
        check_text_types(data)
        text = data.get("text")
        meta: dict[str, str] = {}
        if not text and data.get("html"):
            text, meta = extract_html(str(data["html"]))
        if not text or not str(text).strip():
            raise InputError(f"record {data['id']!r} has no text")
        title = data.get("title") or meta.get("title")
        source = data.get("source") or meta.get("source")
        url = data.get("url") or meta.get("url")
        published = data.get("published") or meta.get("published")
        return cls(
            id=str(data["id"]), text=str(text), title=_opt(title), source=_opt(source),
            url=_opt(url), published=_opt(published), group=default_group(source, url, str(data["id"])),
            order=order, where=where,
        )


_METADATA = ("title", "source", "url", "published")  # what a reader may leave out of a record


def check_text_types(data: dict[str, Any]) -> None:
    """Raise :class:`InputError` if a record's id is there but neither a string nor a whole
    number, or one of its other fields is there but not a string (a list, an object, a
    number: written out as Python would print it, it would be no title or time at all).

    >>> check_text_types({"id": 7, "text": "t", "title": None})
    >>> check_text_types({"id": "a", "text": "t", "source": {"name": "AP"}})
    Traceback (most recent call last):
    dedup.errors.InputError: record's source is not a string (an object)
    """
    ident = data.get("id")
    if ident is not None and (isinstance(ident, bool) or not isinstance(ident, (str, int))):
        raise InputError(f"record's id is not a string or a whole number ({json_kind(ident)})")
    bad = _not_strings(data, ("text", "html", *_METADATA))
    if bad:
        raise InputError(f"record's {bad[0]} is not a string ({json_kind(data[bad[0]])})")


def misfits(data: dict[str, Any]) -> list[str]:
    """The metadata fields of a record (title, source, url, published) that are there but not
    strings: a reader leaves them out, with a warning, and keeps the article.

    >>> misfits({"id": "a", "title": ["x"], "url": 5, "source": None})
    ['title', 'url']
    """
    return _not_strings(data, _METADATA)


def _not_strings(data: dict[str, Any], names: Sequence[str]) -> list[str]:
    return [name for name in names if data.get(name) is not None and not isinstance(data[name], str)]


def json_kind(value: Any) -> str:
    kinds = {bool: "true or false", dict: "an object", list: "a list", int: "a number", float: "a number"}
    return kinds.get(type(value), type(value).__name__)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_surrogates(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate (UTF-8 encoding fails on one: twice as fast as a regex search)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD.

    >>> without_surrogates("caf\\udce9 au lait")
    'caf\ufffd au lait'
    """
    return _SURROGATE.sub("\ufffd", text)


def _opt(value: object) -> str | None:
    return None if value in (None, "") else str(value)


def default_group(source: object, url: object, ident: str) -> str:
    """Name the set of articles that share one site's chrome."""
    if source:
        return str(source).strip().lower()
    if url:
        host = url_host(str(url))
        if host:
            return host
    parts = ident.replace("\\", "/").split("/")
    return parts[0] if len(parts) > 1 else ""


def url_host(url: str) -> str:
    """The host of a web address (lower-cased, port kept), or what stands first in it.

    >>> url_host("https://www.Example.com:8080/a/b"), url_host("example.com/a")
    ('www.example.com:8080', 'example.com')
    """
    return url.split("//", 1)[-1].split("/", 1)[0].lower()


def parse_time(value: str | None) -> dt.datetime | None:
    """Parse ISO 8601 (and a trailing ``Z``) into an aware UTC datetime.

    >>> parse_time("2025-05-24T10:00:00Z").isoformat()
    '2025-05-24T10:00:00+00:00'
    >>> parse_time("yesterday") is None
    True
    """
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            when = dt.datetime.strptime(text[:10], "%Y-%m-%d")
        except ValueError:
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC)
