"""Reading articles from folders, files and JSON Lines streams.

Every problem with one input (an unreadable file, a binary file, invalid
UTF-8, a malformed JSON line, a record without text, an empty article) is
reported as a :class:`Problem` through the ``on_problem`` callback and the rest
of the input is still read. The library never prints; the CLI turns problems
into warnings.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import os
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from resiliparse.parse.encoding import map_encoding_to_html5

from .article import Article, check_text_types, default_group, json_kind, misfits
from .document import title_lines
from .errors import InputError
from .extraction import extract_html

TEXT_SUFFIXES = (".txt", ".md")
HTML_SUFFIXES = (".html", ".htm")
JSON_SUFFIXES = (".json",)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
WARC_SUFFIXES = (".warc",)  # web archives (.warc.gz too), with the warc extra (pip install 'dedup-news[warc]')
KNOWN_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + JSON_SUFFIXES + JSONL_SUFFIXES + WARC_SUFFIXES
COMPRESSED_SUFFIXES = (".gz", ".zst")  # gzip; Zstandard with the zstd extra (pip install 'dedup-news[zstd]')


@dataclass(frozen=True)
class Problem:
    """One input that was skipped, or read with a caveat.

    ``skipped`` is False for a caveat that did not lose the article (for
    example invalid UTF-8 decoded with replacement characters).
    """

    where: str
    reason: str
    skipped: bool = True

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


ProblemHandler = Callable[[Problem], None]


@dataclass(frozen=True)
class Source:
    """One file to read: its path, the id prefix of its articles and its kind
    (text, html, json, jsonl; None: unknown, read as text)."""

    path: str
    ident: str
    kind: str | None = None


def discover(paths: Iterable[str | os.PathLike[str]], on_problem: ProblemHandler,
             leave_out: str | None = None) -> Iterator[Source | str]:
    """Expand the paths given by the user into files to read.

    A folder is walked recursively (hidden entries, files of unknown kinds and
    README/LICENSE-like files are left out); a file is read whatever its name; ``-`` stands for JSON
    Lines on standard input and is yielded as the string ``"-"``.
    ``leave_out`` is a file not to read inside the folders (the run's own report, written
    there by an earlier run). A file's id is its path relative to the folder given; when another path given earlier
    had a file of that id (``day1/a.txt``, ``day2/a.txt``), it is the path as given, with a warning.
    A path given again, or inside a folder given, is left out with a caveat: each file is read once.
    Raises :class:`InputError` for a path that does not exist.
    """
    if isinstance(paths, (str, os.PathLike)):  # one path, not the characters of one
        paths = [paths]
    paths = list(paths)
    ids: dict[str, str] | None = {} if len(paths) > 1 else None  # one path: its files' ids differ
    covered = _covered(paths) if len(paths) > 1 else {}
    for n, raw in enumerate(paths):
        if str(raw) == "-":
            yield "-"
            continue
        path = Path(raw)
        if not path.exists():
            raise InputError(f"path does not exist: {raw}")
        if n in covered:
            on_problem(Problem(str(raw), covered[n], skipped=False))
            continue
        if path.is_dir():
            root = str(path)
            skip = _inside(leave_out, root)
            for rel, kind in _walk(root, on_problem):  # plain strings: a Path per file cost more than its listing
                if rel != skip:
                    yield _source(os.path.join(root, rel), _text_id(rel), kind, ids, on_problem)
        else:
            yield _source(str(path), _text_id(path.as_posix() if not path.is_absolute() else path.name),
                          _kind_of(path.name), ids, on_problem)


def _covered(paths: list[Any]) -> dict[int, str]:
    """The paths given (by their place in ``paths``) that another path given already covers, each
    with why: the same file or folder given again, or a path inside a folder given. Each file is
    then read once, with its id relative to the outer folder (not twice, as a copy of itself)."""
    real = {n: os.path.realpath(raw) for n, raw in enumerate(paths) if str(raw) != "-" and os.path.exists(raw)}
    folders = [(n, top) for n, top in real.items() if os.path.isdir(top)]
    covered: dict[int, str] = {}
    for n, here in real.items():
        for m, top in folders:
            if m != n and here.startswith(top.rstrip(os.sep) + os.sep):
                covered[n] = f"inside {paths[m]}, also given: read once, from there"
                break
        else:
            first = next(m for m, there in real.items() if there == here)
            if first != n:
                covered[n] = ("given twice: read once" if str(paths[first]) == str(paths[n])
                              else f"the same as {paths[first]}, also given: read once")
    return covered


def _inside(path: str | None, folder: str) -> str | None:
    """``path`` relative to ``folder`` (as ``_walk`` lists it), if it is a file under it."""
    if path is None:
        return None
    real, top = os.path.realpath(path), os.path.realpath(folder)
    return os.path.relpath(real, top) if real.startswith(top.rstrip(os.sep) + os.sep) else None


def _source(path: str, ident: str, kind: str | None, ids: dict[str, str] | None,
            on_problem: ProblemHandler) -> Source:
    """A file to read, with an id no other file of an earlier path given has (``ids``: their
    paths by id). The same file given twice keeps its id (and is skipped as a duplicate)."""
    if ids is not None:
        first = ids.setdefault(ident, path)
        if first != path and os.path.realpath(first) != os.path.realpath(path):
            other = _text_id(Path(path).as_posix())
            on_problem(Problem(other, f"a file of an earlier path given has the id {ident!r}: this one is "
                                      f"{other!r}", skipped=False))
            ident = other
            ids.setdefault(ident, path)
    return Source(path, ident, kind)


def _is_special(entry: os.DirEntry[str]) -> bool:
    """A pipe, socket or device (a broken link is not: reading it gives its own warning)."""
    try:
        return not entry.is_file() and os.path.exists(entry.path)
    except OSError:
        return False


def _text_id(name: str) -> str:
    """A file name as an article id: names that are not valid UTF-8 (the bytes Python keeps as
    lone surrogates) get backslash escapes, so that ids can be written as UTF-8 text.

    >>> _text_id("caf\\udce9.txt"), _text_id("café.txt")
    ('caf\\\\xe9.txt', 'café.txt')
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")
    return name


def _walk(root: str, on_problem: ProblemHandler) -> Iterator[tuple[str, str | None]]:
    """The article files under folder ``root`` as paths relative to it (with their kinds), in the order their
    Path objects sort (part by part), found and yielded one folder at a time: reading
    starts at once, and the list of a huge tree is never held whole.

    Like ``os.walk``: hidden entries are skipped, and symbolic links to folders are not followed.
    """
    stack = [iter(_listing(root, "", on_problem))]  # no recursion: any depth of folders
    while stack:
        for rel, kind in stack[-1]:
            if kind is _FOLDER:
                stack.append(iter(_listing(root, rel, on_problem)))
                break
            yield rel, kind
        else:
            stack.pop()


_FOLDER = "folder"


def _listing(root: str, folder: str, on_problem: ProblemHandler) -> list[tuple[str, str | None]]:
    """The sub-folders and article files of ``root/folder``, sorted by name: ``(path from root,
    kind)``, the kind :data:`_FOLDER` for a sub-folder."""
    entries: list[tuple[str, str | None]] = []
    try:
        with os.scandir(os.path.join(root, folder) if folder else root) as listing:
            for entry in listing:
                if entry.name.startswith("."):
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if is_dir:
                    if not entry.is_symlink():
                        entries.append((entry.name, _FOLDER))
                    continue
                kind = _kind_of(entry.name)
                if kind is not None and not _is_project_file(entry.name):
                    if _is_special(entry):  # reading a pipe would wait for a writer forever
                        where = f"{folder}/{entry.name}" if folder else entry.name
                        on_problem(Problem(_text_id(where), "not a regular file (a pipe, socket or device)"))
                        continue
                    entries.append((entry.name, kind))
    except OSError as exc:
        on_problem(Problem(str(exc.filename), f"cannot list folder ({exc.strerror})"))
        return []
    entries.sort()
    return [(f"{folder}/{name}" if folder else name, kind) for name, kind in entries]


_PROJECT_FILES = ("readme", "license", "licence", "changelog", "contributing", "notice")


def _is_project_file(name: str) -> bool:
    """README, LICENSE and the like describe a folder; they are not articles in it.

    >>> _is_project_file("README.md"), _is_project_file("readme-of-the-day.md")
    (True, False)
    """
    stem = name.lower().split(".", 1)[0]
    return stem in _PROJECT_FILES


def _kind_of(name: str) -> str | None:
    """The kind of file a name says: text, html, json, jsonl, warc (compressed or not), or None."""
    name = name.lower()
    if name.endswith(COMPRESSED_SUFFIXES):
        name = name[:name.rfind(".")]
    for kind, suffixes in (("text", TEXT_SUFFIXES), ("html", HTML_SUFFIXES),
                           ("json", JSON_SUFFIXES), ("jsonl", JSONL_SUFFIXES), ("warc", WARC_SUFFIXES)):
        if name.endswith(suffixes):
            return kind
    return None


# Fields of an article record, and what a feed may call them instead (``--field text=body``).
FIELDS = ("id", "text", "html", "title", "url", "source", "published")
Renames = tuple[tuple[str, str], ...]  # (our name, the feed's name) pairs


@dataclass(frozen=True)
class FileBatch:
    """Some files to read, as one piece of work for a worker process (``fields``: see
    :func:`read_units`)."""

    sources: tuple[Source, ...]
    fields: Renames = ()


@dataclass(frozen=True)
class BlockBatch:
    """Whole lines of a JSON Lines file or of standard input, as bytes (``first`` is
    the first line's number): the worker decodes and splits them, so the reading
    process does no work per line."""

    where: str
    first: int
    data: bytes
    fields: Renames = ()


@dataclass(frozen=True)
class PageBatch:
    """Web pages of a WARC file (its HTML responses), as one piece of work: each as its id (the
    page's URL), where it is in the file (``file#n``: the n-th HTML response), its bytes and the
    charset its HTTP header gives (or None)."""

    pages: tuple[tuple[str, str, bytes, str | None], ...]
    fields: Renames = ()  # unused: pages have no JSON fields


Unit = FileBatch | BlockBatch | PageBatch

FILES_PER_UNIT = 128  # ~40 ms of a worker's time: fewer, larger tasks cost the main process less to hand out
BYTES_PER_BLOCK = 1 << 20  # ~250 news articles a piece of work
_READ_BYTES = 1 << 16  # what one read asks for: a damaged compressed file loses at most this much more


def read_units(paths: Iterable[str | os.PathLike[str]], on_problem: ProblemHandler,
               stdin: IO[str] | None = None, leave_out: str | None = None,
               fields: dict[str, str] | None = None) -> Iterator[Unit]:
    """Cut the input into pieces of work, in input order.

    Files are grouped a few at a time; JSON Lines files and standard input are
    streamed here and cut into blocks of whole lines, so a single huge file is
    still spread over all workers and never held in memory whole. ``-`` reads
    standard input, or ``stdin`` if given (a text stream, read as its UTF-8 bytes).
    ``leave_out``: a file not to read inside the folders (:func:`discover`). ``fields`` names
    the fields of JSON records that hold ours, by our name (``{"text": "body", "published":
    "date"}``): a record's own field of our name is then not read.
    """
    renames = check_fields(fields)
    for unit in _units(paths, on_problem, stdin, leave_out):
        yield replace(unit, fields=renames) if renames else unit


def check_fields(fields: dict[str, str] | None) -> Renames:
    """``fields`` as (our name, the feed's name) pairs; raises :class:`InputError` for a name
    that is not one of :data:`FIELDS` or an empty field name."""
    renames = tuple((fields or {}).items())
    for ours, theirs in renames:
        if ours not in FIELDS:
            raise InputError(f"{ours!r} is not a field of an article: one of {', '.join(FIELDS)}")
        if not theirs:
            raise InputError(f"no field name given for {ours!r}")
    return renames


def _units(paths: Iterable[str | os.PathLike[str]], on_problem: ProblemHandler,
           stdin: IO[str] | None, leave_out: str | None) -> Iterator[Unit]:
    pending: list[Source] = []
    for item in discover(paths, on_problem, leave_out):
        if item != "-" and isinstance(item, Source) and item.kind not in ("jsonl", "warc"):
            pending.append(item)
            if len(pending) >= FILES_PER_UNIT:
                yield FileBatch(tuple(pending))
                pending = []
            continue
        if pending:
            yield FileBatch(tuple(pending))
            pending = []
        if item == "-":  # as bytes, so that invalid UTF-8 is reported as in a file
            chunks = _reads(sys.stdin.buffer) if stdin is None else _encoded(stdin)
            yield from _blocks(chunks, "<stdin>", on_problem)
        else:
            assert isinstance(item, Source)
            yield from (_page_batches if item.kind == "warc" else _jsonl_file_batches)(item, on_problem)
    if pending:
        yield FileBatch(tuple(pending))


PAGES_PER_UNIT = 64  # HTML responses of a WARC file a piece of work: ~7 ms of a worker's time


def _page_batches(src: Source, on_problem: ProblemHandler) -> Iterator[PageBatch]:
    """The HTML pages of a WARC file (or .warc.gz), streamed with FastWARC, in pieces of work.
    Other records (requests, metadata, images, redirects and errors) are no articles: they are
    counted, and one caveat says how many were left out."""
    try:
        from fastwarc.warc import ArchiveIterator, WarcRecordType
    except ImportError:
        on_problem(Problem(src.ident, "a WARC file needs the fastwarc package: pip install 'dedup-news[warc]'"))
        return
    if src.path.lower().endswith(".zst"):
        on_problem(Problem(src.ident, "a Zstandard-compressed WARC file: decompress it (fastwarc reads .warc and "
                                      ".warc.gz)"))
        return
    try:
        raw = open(src.path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        on_problem(Problem(src.ident, f"cannot read file ({exc.strerror or exc})"))
        return
    pages: list[tuple[str, str, bytes, str | None]] = []
    found = other = 0
    try:
        with raw:
            for record in ArchiveIterator(raw, record_types=WarcRecordType.response, parse_http=True):
                if record.http_headers is None:  # no HTTP header in a response: the file is cut short or damaged
                    raise ValueError(f"a response record without an HTTP header, at byte {record.stream_pos}")
                html = (record.http_content_type or "").lower() in _HTML_TYPES
                if record.http_headers.status_code != 200 or not html:
                    other += 1
                    continue
                url = record.headers.get("WARC-Target-URI") or ""
                data = record.reader.read()
                if len(data) < record.content_length:  # FastWARC hands out what there is
                    raise ValueError(f"the file ends inside the page of {url or 'a record'}")
                found += 1
                pages.append((url or f"{src.ident}#{found}", f"{src.ident}#{found}", data, record.http_charset))
                if len(pages) >= PAGES_PER_UNIT:
                    yield PageBatch(tuple(pages))
                    pages = []
    except Exception as exc:  # FastWARC's errors have no common base: whatever it is, the file ends here
        on_problem(Problem(src.ident, f"cannot read the rest of the file ({exc})"))
        other = found = -1  # said: no more warnings about what was found
    if pages:
        yield PageBatch(tuple(pages))
    if other > 0:
        on_problem(Problem(src.ident, f"{other} of its {found + other} responses left out: not HTML pages, or "
                                      "not status 200", skipped=False))
    if found == other == 0:
        on_problem(Problem(src.ident, "no HTTP responses found: not a WARC file, or an empty one"))


_HTML_TYPES = ("text/html", "application/xhtml+xml")


def _page(ident: str, where: str, data: bytes, charset: str | None, on_problem: ProblemHandler) -> Article | None:
    """A web page of a WARC file as an article: its main text and metadata (:func:`extract_html`),
    decoded as its HTTP header or its ``<meta>`` tag says, else as UTF-8."""
    declared = (map_encoding_to_html5(charset) if charset else None) or _declared_charset(data)  # as browsers do
    codec = declared if declared is not None and _known_codec(declared) else "utf-8"
    try:
        html = data.decode(codec)
    except UnicodeDecodeError as exc:
        html = data.decode(codec, errors="replace")
        on_problem(Problem(where, f"invalid {codec} at byte {exc.start}, decoded with replacement characters",
                           skipped=False))
    body, meta = extract_html(html)
    if "://" in ident and not meta.get("url"):
        meta["url"] = ident  # the crawled URL, unless the page names its canonical one
    found = _single(ident, body, meta, on_problem, where)
    return found[0] if found else None


def _known_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def _reads(raw: IO[bytes]) -> Iterator[bytes]:
    while chunk := raw.read(_READ_BYTES):
        yield chunk


def _encoded(text: IO[str]) -> Iterator[bytes]:
    """A text stream's content as UTF-8, a read at a time. Text decoded with
    ``surrogateescape`` gets its undecodable bytes back; any lone surrogate stays an
    invalid byte sequence, reported as invalid UTF-8 as on standard input."""
    while chunk := text.read(_READ_BYTES):
        try:
            yield chunk.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a surrogate that is no escaped byte
            yield chunk.encode("utf-8", "surrogatepass")


def _blocks(chunks: Iterable[bytes], where: str, on_problem: ProblemHandler) -> Iterator[BlockBatch]:
    """A stream of lines, read as ``chunks`` of bytes, cut into blocks of whole lines (a
    byte order mark at its start dropped).

    Invalid UTF-8 is found here, so that it is reported once, at its first line; the
    workers decode with replacement characters. Text that is all ASCII needs no check.
    If reading fails (a damaged compressed file), the whole lines read before are
    yielded, then the error is raised.
    """
    first = 1
    bad_utf8 = False
    not_jsonl = False  # the first line is no JSON object: nothing more is read
    pieces: list[bytes] = []  # read, not yet yielded
    size = 0

    def cut(final: bool) -> BlockBatch | None:
        nonlocal first, bad_utf8, not_jsonl, pieces, size
        data = b"".join(pieces)
        if first == 1 and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        end = len(data) if final else data.rfind(b"\n") + 1
        block, rest = data[:end], data[end:]
        pieces, size = ([rest], len(rest)) if rest else ([], 0)
        if not block:
            return None
        if first == 1 and not _opens_an_object(block):
            not_jsonl = True
            on_problem(Problem(where, "not JSON Lines: the first line is not a JSON object (give one object per "
                                      "line, or plain text and HTML as files in a folder)"))
            return None
        if not bad_utf8 and not block.isascii():
            try:
                block.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = first + block.count(b"\n", 0, exc.start)
                on_problem(Problem(f"{where}:{line}", "invalid UTF-8, decoded with replacement characters",
                                   skipped=False))
                bad_utf8 = True
        batch = BlockBatch(where, first, block)
        first += block.count(b"\n")
        return batch

    reads = iter(chunks)
    while True:
        try:
            chunk = next(reads, b"")
        except Exception:
            batch = cut(final=False)
            if batch is not None:
                yield batch
            if not_jsonl:
                return  # reported: the read error is of no more use
            raise
        if chunk:
            pieces.append(chunk)
            size += len(chunk)
            if size < BYTES_PER_BLOCK or b"\n" not in chunk:
                continue
        batch = cut(final=not chunk)
        if batch is not None:
            yield batch
        if not chunk or not_jsonl:
            return


def _opens_an_object(block: bytes) -> bool:
    """Whether the first line of a stream's first block that is not blank starts a JSON
    object (or the block holds blank lines only). Plain text or a JSON array is not JSON
    Lines: reported once, not once a line."""
    stripped = block.lstrip(b" \t\r\n")
    return not stripped or stripped.startswith(b"{")


def _jsonl_file_batches(src: Source, on_problem: ProblemHandler) -> Iterator[BlockBatch]:
    lower = src.path.lower()
    try:
        zstandard = _zstandard() if lower.endswith(".zst") else None
        raw: IO[bytes] = (gzip.open(src.path, "rb") if lower.endswith(".gz")  # type: ignore[assignment]  # noqa: SIM115
                          else open(src.path, "rb"))  # noqa: SIM115 - closed by the with below
    except _ZstdMissingError as exc:
        on_problem(Problem(src.ident, str(exc)))
        return
    except OSError as exc:
        on_problem(Problem(src.ident, f"cannot read file ({exc.strerror or exc})"))
        return
    chunks = _unzstd(_reads(raw), zstandard) if zstandard is not None else _reads(raw)
    damaged = (OSError, EOFError, zlib.error) + ((zstandard.ZstdError,) if zstandard is not None else ())
    try:
        with raw:
            yield from _blocks(chunks, src.ident, on_problem)
    except damaged as exc:  # zlib.error: a damaged gzip body
        on_problem(Problem(src.ident, f"cannot read the rest of the file ({exc})"))


class _ZstdMissingError(InputError):
    """A .zst file, and the zstandard package not installed: a problem of that file."""


def _zstandard() -> Any:
    try:
        import zstandard
    except ImportError as exc:
        raise _ZstdMissingError("a .zst file needs the zstandard package: pip install 'dedup-news[zstd]'") from exc
    return zstandard


def _unzstd(chunks: Iterable[bytes], zstandard: Any) -> Iterator[bytes]:
    """Zstandard data (one frame or several, one after another) decompressed a piece at a time.
    Raises ``zstandard.ZstdError`` for data that is not Zstandard, or that ends inside a frame
    (a file cut short: zstandard's own stream reader ends there without a word)."""
    frame, fed = zstandard.ZstdDecompressor().decompressobj(), False
    for chunk in chunks:
        while chunk:
            out = frame.decompress(chunk)
            fed = True
            if out:
                yield out
            if not frame.eof:
                break
            chunk = frame.unused_data  # the next frame's start, if any
            frame, fed = zstandard.ZstdDecompressor().decompressobj(), False
    if fed and not frame.eof:
        raise zstandard.ZstdError("the data ends inside a frame: the file is cut short")


def _decompressed(path: str, raw: bytes) -> bytes:
    """A file's bytes, decompressed as its name says (.gz, .zst): ValueError if they are damaged."""
    lower = path.lower()
    if lower.endswith(".gz"):
        try:
            return gzip.decompress(raw)
        except (EOFError, gzip.BadGzipFile, zlib.error, ValueError) as exc:
            raise ValueError(f"corrupt gzip data ({exc})") from exc
    if lower.endswith(".zst"):
        zstandard = _zstandard()
        try:
            return b"".join(_unzstd([raw], zstandard))
        except zstandard.ZstdError as exc:
            raise ValueError(f"corrupt zstd data ({exc})") from exc
    return raw


def load_unit(unit: Unit) -> tuple[list[Article], list[Problem]]:
    """Read one piece of work (a pure function, run in worker processes)."""
    problems: list[Problem] = []
    articles: list[Article] = []
    if isinstance(unit, FileBatch):
        for src in unit.sources:
            articles.extend(read_file(src, problems.append, unit.fields))
    elif isinstance(unit, PageBatch):
        for ident, where, data, charset in unit.pages:
            page = _page(ident, where, data, charset, problems.append)
            if page is not None:
                articles.append(page)
    else:
        lines = unit.data.decode("utf-8", errors="replace").split("\n")
        articles.extend(read_jsonl_lines(lines, unit.where, problems.append, first=unit.first, fields=unit.fields))
    return articles, problems


def read_articles(paths: Iterable[str | os.PathLike[str]], on_problem: ProblemHandler,
                  stdin: IO[str] | None = None, fields: dict[str, str] | None = None) -> Iterator[Article]:
    """Yield every article found under ``paths``, in a stable order (``fields``: see
    :func:`read_units`)."""
    order = 0
    for unit in read_units(paths, on_problem, stdin, fields=fields):
        articles, problems = load_unit(unit)
        for problem in problems:
            on_problem(problem)
        for article in articles:
            yield replace(article, order=order)
            order += 1


def read_file(src: Source, on_problem: ProblemHandler, fields: Renames = ()) -> list[Article]:
    """Read the articles in one file; problems are reported, never raised (``fields``: the
    names of our fields in JSON records, see :func:`read_units`)."""
    where = src.ident
    try:
        raw = _decompressed(src.path, _read_bytes(src.path))
    except (ValueError, _ZstdMissingError) as exc:
        on_problem(Problem(where, str(exc)))
        return []
    except OSError as exc:
        on_problem(Problem(where, f"cannot read file ({exc.strerror or exc})"))
        return []
    kind = src.kind or "text"
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with its byte order mark (NUL bytes are no sign of binary)
        text = raw.decode("utf-16", errors="replace")
    elif b"\x00" in raw[:8192]:
        on_problem(Problem(where, "binary file, not text"))
        return []
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            declared = _declared_charset(raw) if kind == "html" else None
            if declared:  # a page in the encoding it says it is in (<meta charset="iso-8859-1">)
                text = raw.decode(declared, errors="replace")
            else:
                text = raw.decode("utf-8", errors="replace")
                on_problem(Problem(where, f"invalid UTF-8 at byte {exc.start}, decoded with replacement characters",
                                   skipped=False))
    if kind == "jsonl":
        return list(read_jsonl_lines(io.StringIO(text), where, on_problem, fields=fields))
    if kind == "json":
        return _read_json(text, src, on_problem, fields)
    if kind == "html":
        body, meta = extract_html(text)
        return _single(src.ident, body, meta, on_problem)
    return _single(src.ident, text, {"title": guess_title(text) or ""}, on_problem)


_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.IGNORECASE)


def _declared_charset(raw: bytes) -> str | None:
    """The encoding a page declares in a ``<meta>`` tag of its first 1,024 bytes (as HTML5
    reads the label: "iso-8859-1" is Windows-1252), or None when it declares none, or UTF-8.

    >>> _declared_charset(b'<html><head><meta charset="ISO-8859-1">'), _declared_charset(b'<p>caf\\xe9')
    ('cp1252', None)
    """
    found = _META_CHARSET.search(raw[:1024])
    if found is None:
        return None
    name = map_encoding_to_html5(found.group(1).decode("ascii"))
    if name in (None, "utf-8") or not _known_codec(name):  # a WHATWG label Python has no codec for ("x-user-defined")
        return None
    return str(name)


def _read_bytes(path: str) -> bytes:
    """A file's contents: ``Path.read_bytes`` without its buffered file object (half the time on a news page)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        data = os.read(fd, size + 1)
        if len(data) == size:  # all of it at once (asked for one byte more, got the end)
            return data
        chunks = [data]  # a file that grew, or one too big for one read: read to the end
        while chunk := os.read(fd, 1 << 24):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _single(ident: str, text: str, meta: dict[str, str], on_problem: ProblemHandler, where: str = "") -> list[Article]:
    """The one article of a file or web page (none if it has no text), with its metadata."""
    if not text.strip():
        on_problem(Problem(where or ident, "empty article, no text found"))
        return []
    return [Article(id=ident, text=text, title=meta.get("title") or None, source=meta.get("source"),
                    url=meta.get("url"), published=meta.get("published"),
                    group=default_group(meta.get("source"), meta.get("url"), ident), where=where)]


def _read_json(text: str, src: Source, on_problem: ProblemHandler, fields: Renames) -> list[Article]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        on_problem(Problem(src.ident, f"invalid JSON ({exc})"))
        return []
    if isinstance(data, list):
        out = []
        for n, rec in enumerate(data, 1):
            art = _record(_renamed(rec, fields), f"{src.ident}#{n}", on_problem)
            if art is not None:
                out.append(art)
        return out
    if not isinstance(data, dict):
        on_problem(Problem(src.ident, "JSON is neither an article object nor a list of them"))
        return []
    # A one-article file is identified by its path, like a text or HTML file.
    data = _renamed(data, fields)
    art = _record({**data, "id": src.ident}, src.ident, on_problem)
    if art is not None and not data.get("source"):
        art = _regroup(art, src.ident)
    return [art] if art is not None else []


def _regroup(article: Article, ident: str) -> Article:
    return replace(article, group=default_group(None, article.url, ident))


def read_jsonl_lines(stream: Iterable[str], where: str, on_problem: ProblemHandler,
                     first: int = 1, fields: Renames = ()) -> Iterator[Article]:
    """Yield one article per JSON line; bad lines are reported and skipped."""
    for n, line in enumerate(stream, first):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as exc:
            on_problem(Problem(f"{where}:{n}", f"malformed JSON line ({getattr(exc, 'msg', exc)})"))
            continue
        art = _record(_renamed(rec, fields), f"{where}:{n}", on_problem)
        if art is not None:
            yield art


def _renamed(rec: Any, fields: Renames) -> Any:
    """A JSON record with the feed's fields under our names (``fields``: see :func:`read_units`)."""
    if not fields or not isinstance(rec, dict):
        return rec
    ours = {name for name, _ in fields}
    out = {key: value for key, value in rec.items() if key not in ours}
    out.update((name, rec[theirs]) for name, theirs in fields if theirs in rec)
    return out


def _no_text(rec: dict[str, Any]) -> str:
    """Why a record without text is skipped: its text is empty, or it has no text field at all
    (then its fields are named, so that a feed that calls its text ``body`` is seen at once)."""
    if "text" in rec or "html" in rec:
        return "record's text is empty" if "text" in rec else "record's html is empty"
    names = [str(name) for name in rec if name != "id"][:8]
    return "record has no text or html field" + (f" (its fields: {', '.join(names)})" if names else "")


def _record(rec: Any, fallback_id: str, on_problem: ProblemHandler) -> Article | None:
    if not isinstance(rec, dict):
        on_problem(Problem(fallback_id, "record is not a JSON object"))
        return None
    if rec.get("id") in (None, ""):
        rec = {**rec, "id": fallback_id}
    dropped = misfits(rec)
    if dropped:
        on_problem(Problem(fallback_id, "left out, not a string: " + ", ".join(
            f"{name} ({json_kind(rec[name])})" for name in dropped), skipped=False))
        rec = {k: v for k, v in rec.items() if k not in dropped}
    try:
        check_text_types(rec)
    except InputError as exc:
        on_problem(Problem(fallback_id, str(exc)))
        return None
    if not (rec.get("text") or "").strip() and not (rec.get("html") or "").strip():
        on_problem(Problem(fallback_id, _no_text(rec)))
        return None
    try:
        art = Article.from_dict(rec, where=fallback_id)
    except InputError as exc:
        on_problem(Problem(fallback_id, str(exc)))
        return None
    if art.published and art.published_at is None:
        on_problem(Problem(fallback_id, f"published {art.published!r} is not an ISO 8601 time: the article counts "
                                        "as undated", skipped=False))
    if not art.title and rec.get("text"):
        art = replace(art, title=guess_title(art.text))
    return art


def guess_title(text: str) -> str | None:
    """The headline of a plain-text article: among its first lines, the first
    that reads like one (3 to 20 words, not a sentence, not a time stamp; see
    :func:`~dedup.document.title_lines`). When it is a masthead or a tagline that
    the site repeats, a scan takes the next such line (:func:`~dedup.document.choose_title`).

    >>> guess_title("logo\\nHARBOR TIMES\\nWagner leaves Mali after losses\\n\\nDAKAR (AP) - The group said...")
    'Wagner leaves Mali after losses'
    >>> guess_title("A long first line that reads like a sentence of the story itself, not a headline at all.") is None
    True
    >>> guess_title("MASTHEAD\\nRALEIGH, N.C., Oct 20 - Shr 38 cts\\n\\nNet 1.3 mln vs 668,000") is None
    True
    """
    found = title_lines(text)
    return found[0] if found else None
