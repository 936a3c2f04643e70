"""The whole batch run: articles in, clusters out.

    read -> prepare (normalise, segment) -> count boilerplate -> strip
         -> fingerprint (MinHash, LSH band keys) -> candidates -> verify
         -> cluster -> choose canonical

Each stage is a pure function over a batch of articles; only the boilerplate
counts are corpus-wide (and mergeable). The batch stages run in ``jobs``
worker processes; results are identical to a one-process run. Texts, and the
metadata only the report needs (titles, URLs), are kept out of memory in
temporary spool files: the main process holds per article its id, source,
time, word count and band keys (until the candidates are found), and per
candidate pair an encoded pair and a verdict.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import itertools
import json
import math
import multiprocessing
import os
import signal
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

import numpy as np

from .article import Article, parse_time
from .boilerplate import BoilerplateSet, SegmentCounts, batch_keys, distinct_keys, group_id, strip_segments
from .candidates import (
    SKETCH_DTYPE,
    band_keys,
    bands,
    distinct,
    jaccard_upper_bounds,
    pairs_from_keys,
    passage_keys,
    passage_pairs,
    screen_floor,
    screening_bounds,
    sketch_agreement,
    sketches,
)
from .canonical import Candidate, choose
from .cluster import ALIASING, CANDIDATES, LINKING, Verdicts, cluster, component_labels
from .config import Config
from .document import TOP, Doc, segment_texts
from .fingerprint import permutations, signature_batch
from .reading import Problem, Unit, load_unit
from .spool import RowReader, RowSpool, Spool, SpoolReader, encode_all
from .verify import Verdict, partial, verify

T = TypeVar("T")
Progress = Callable[[Iterable[T], str, int | None], Iterable[T]]

ARTICLES_PER_TASK = 256
PAIRS_PER_TASK = 4096


def no_progress(items: Iterable[T], label: str, total: int | None) -> Iterable[T]:
    """The default progress hook: report nothing."""
    return items


@dataclass(frozen=True, slots=True)
class Counted(Generic[T]):
    """What a progress hook sees go by: a batch's result (``value``) and how many articles
    ("reading", "fingerprinting") or pairs ("verifying", "linking") it stands for. The hook's
    ``total`` counts the same units (None: not known in advance)."""

    value: T
    count: int


@dataclass(frozen=True, slots=True)
class Item:
    """An article as reported: everything but its text."""

    id: str
    title: str | None
    source: str | None
    url: str | None
    published: str | None
    words: int
    order: int


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where one article landed."""

    id: str
    cluster: int
    canonical_id: str
    is_canonical: bool
    similarity: float


@dataclass(frozen=True)
class Cluster:
    """One story: its members, canonical item and how tightly it holds."""

    id: int
    canonical_id: str
    members: tuple[str, ...]
    weakest_link: float
    mean_similarity: float

    @property
    def size(self) -> int:
        return len(self.members)


@dataclass
class Result:
    """The outcome of :func:`find_duplicates`; nothing is printed."""

    clusters: list[Cluster]
    assignments: dict[str, Assignment]
    items: Mapping[str, Item]
    config: Config
    problems: list[Problem] = field(default_factory=list)
    pairs_checked: int = 0
    pairs_screened: int = 0  # pairs dropped unverified by screening (candidates.screen_floor)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage

    @property
    def duplicates(self) -> int:
        """Articles that are not the canonical item of their cluster."""
        return sum(c.size - 1 for c in self.clusters)

    def counts(self) -> dict[str, int]:
        return {
            "articles": len(self.items),
            "skipped": sum(1 for p in self.problems if p.skipped),
            "warnings": len(self.problems),
            "clusters": len(self.clusters),
            "multi_member_clusters": sum(1 for c in self.clusters if c.size > 1),
            "duplicates": self.duplicates,
            "pairs_checked": self.pairs_checked,
            "pairs_screened": self.pairs_screened,
        }

    def canonical_of(self, article_id: str) -> str:
        return self.assignments[article_id].canonical_id


# ---------------------------------------------------------------- worker functions (pure)

_Record = tuple[str, str | None, float, str]  # id, source, publication time (NaN: unknown), where read from
_Encoded = tuple[bytes, np.ndarray]  # texts for a spool (spool.encode_all)


def _pass_read(task: Unit | list[Article]) -> tuple[list[_Record], list[int], _Encoded, _Encoded, _Encoded,
                                                   np.ndarray, np.ndarray, list[Problem]]:
    """Read (or take) articles and prepare them: metadata (id, source, time; the rest as
    JSON for a spool), source ids (:func:`~dedup.boilerplate.group_id`), segment texts
    (spool form), the combined key of each segment (spool form: int64 bytes,
    :func:`~dedup.boilerplate.batch_keys`; the fingerprint pass reads them rather than
    hashing again) and the distinct keys of each article (article positions, keys)."""
    problems: list[Problem]
    if isinstance(task, list):
        articles, problems = task, []
    else:
        articles, problems = load_unit(task)
    items: list[_Record] = []
    groups, texts, sizes, metas = [], [], [], []
    segments: list[str] = []
    for art in articles:
        segs, headline, others, start = segment_texts(art)
        items.append((art.id, art.source, _timestamp(art.published), art.where))
        meta: list[Any] = [art.title, art.url, art.published]
        groups.append(art.group)
        lines = [_ALONE + text if alone else text for text, alone in segs]
        if headline >= 0:
            lines[headline] = _TITLE + lines[headline]
        if others:
            meta.append([line for _, line in others])  # the titles a scan may choose instead (choose_title)
            for k, _ in others:
                lines[k] = _OTHER + lines[k]
        if start >= 0 and all(k != start for k, _ in others):  # one mark a line (start is after the title)
            lines[start] = _START + lines[start]
        metas.append(json.dumps(meta))
        texts.append("\n".join(lines))
        segments.extend(text for text, _ in segs)
        sizes.append(len(segs))
    gids = [group_id(g) for g in groups]
    owners, keys = batch_keys(gids, segments, sizes)
    spooled = (keys.tobytes(), np.asarray(sizes, dtype=np.int64) * keys.itemsize)
    return items, gids, encode_all(metas), encode_all(texts), spooled, *distinct_keys(owners, keys), problems


_STATE: dict[str, Any] = {}


def _init_worker(state: dict[str, Any]) -> None:
    _STATE.clear()
    _STATE.update(state)


def _init_pool_worker(state: dict[str, Any]) -> None:
    # Ctrl-C reaches every process of the terminal's group: the main process stops the
    # workers; interrupted themselves, they printed tracebacks and could leave it waiting.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _init_worker(state)


_ALONE = "\x01"  # marks, in the spool, a segment that is a paragraph of its own
_TITLE = "\x02"  # and, before that mark, the segment that is the article's title
_OTHER = "\x03"  # or another line that may be its headline (document.choose_title)
_START = "\x04"  # or the line at which the text starts below those (Prepared.text_start)


class _Fingerprints(NamedTuple):
    """What the fingerprint pass gives for a run of articles (:func:`_pass_fingerprint`)."""

    keys: np.ndarray  # band keys of the whole-text and lead indexes
    passages: tuple[np.ndarray, np.ndarray]  # the passage index's rows (candidates.passage_keys)
    texts: _Encoded  # cleaned texts (words joined by spaces)
    lengths: list[int]  # word counts
    heads: list[int]  # headline lengths
    digests: np.ndarray  # of each cleaned text's words: equal words, equal digests, headline or not
    sketches: bytes  # screening sketches of the whole-text signatures (candidates.sketches)
    choices: list[int]  # which title each article has (document.choose_title)


def _pass_fingerprint(task: tuple[int, int]) -> _Fingerprints:
    """Strip boilerplate and fingerprint articles ``lo..hi-1``."""
    lo, hi = task
    config: Config = _STATE["config"]
    rule: BoilerplateSet = _STATE["rule"]
    reader: SpoolReader = _STATE["segments"]
    articles: list[tuple[list[str], list[bool], int, list[int], int]] = []
    for entry in reader.get_many(lo, hi):
        lines = entry.split("\n")
        headline, others, start = -1, [], -1
        for k, line in enumerate(lines[:TOP]):
            if line[:1] == _TITLE:
                headline, lines[k] = k, line[1:]
            elif line[:1] == _OTHER:
                others.append(k)
                lines[k] = line[1:]
            elif line[:1] == _START:
                start, lines[k] = k, line[1:]
        alone = [line[:1] == _ALONE for line in lines]
        segs = [line[1:] if a else line for line, a in zip(lines, alone)] if any(alone) else lines
        if segs == [""]:
            segs, alone = [], []
        articles.append((segs, alone, headline, others, start))
    keys = np.frombuffer(_STATE["keys"].get_range(lo, hi), dtype=np.int64)
    segments = sum(len(article[0]) for article in articles)
    if len(keys) != segments:  # the two spools out of step: a bug, not bad input
        raise RuntimeError(f"articles {lo}-{hi - 1}: {len(keys)} segment keys spooled for {segments} segments")
    boiler = rule.flags(keys).tolist()
    texts, lowers, lengths, heads, choices = [], [], [], [], []
    at = 0
    for segs, alone, headline, others, start in articles:
        first, rest, length, choice = strip_segments(segs, alone, boiler[at:at + len(segs)], config, headline, others,
                                                     start)
        choices.append(choice)
        at += len(segs)
        flat = first + " " + rest if first and rest else first or rest
        texts.append(flat)
        lowers.append(flat.lower())
        lengths.append(length)
        heads.append(first.count(" ") + 1 if first else 0)
    blob, sizes_ = encode_all(texts)
    digests = np.frombuffer(b"".join(hashlib.blake2b(text, digest_size=8).digest()
                                     for text in _pieces((blob, sizes_))), dtype=np.uint64)
    if not texts:
        nothing = np.zeros((0, 0), dtype=np.uint32), np.zeros(0, dtype=np.int64)
        return _Fingerprints(nothing[0], nothing, (blob, sizes_), lengths, heads, digests, b"", choices)
    sigs = signature_batch(lowers, config.shingle_size, config.lead_tokens, config.num_perm, config.seed,
                           config.passages, config.passage_tokens)
    keys = np.hstack([band_keys(sigs.full, config.lsh_threshold, config.num_perm),
                      band_keys(sigs.lead, config.lead_lsh_threshold, config.num_perm)])
    return _Fingerprints(keys, passage_keys(sigs.passages, config, lo), (blob, sizes_), lengths, heads, digests,
                         sketches(sigs.full).tobytes(), choices)


def _pass_verify(task: tuple[np.ndarray, int, bool]) -> list[tuple[bool, float, bool] | None]:
    """Verdicts of encoded pairs (``i * n + j``); with ``screen``, ``None`` for the pairs
    that screening drops (:func:`_screened`) and are not verified."""
    encoded, n, screen = task
    i, j = np.divmod(encoded, n)
    dropped = _screened(i, j).tolist() if screen else [False] * len(encoded)
    config: Config = _STATE["config"]
    reader: SpoolReader = _STATE["docs"]
    times: np.ndarray = _STATE["times"]
    heads: list[int] = _STATE["heads"][np.concatenate([i, j])].tolist()  # of the texts (_text_headlines)
    cache: dict[int, tuple[list[str], list[str]]] = {}  # insertion-ordered: the oldest go first

    def doc(i: int) -> tuple[list[str], list[str]]:
        found = cache.get(i)
        if found is None:
            if len(cache) >= 512:  # ~30 MB of word lists
                for old in list(cache)[:128]:
                    del cache[old]
            found = cache[i] = _doc_words(reader.get(i))
        return found

    windowed = config.window_seconds is not None
    out: list[tuple[bool, float, bool] | None] = []
    for x, y, drop, head_a, head_b in zip(i.tolist(), j.tolist(), dropped, heads[:len(i)], heads[len(i):]):
        if drop:
            out.append(None)
            continue
        (a, la), (b, lb) = doc(x), doc(y)
        if windowed:
            v = verify_words(a, b, _time_at(times, x), _time_at(times, y), config, head_a, head_b, la, lb)
        else:
            v = verify(a, b, config, head_a, head_b, la, lb)
        out.append((v.match, v.score, partial(v, config)))
    return out


def _pass_agree(task: tuple[np.ndarray, int]) -> np.ndarray:
    """For encoded pairs (``i * n + j``), the share of their whole-text signature values
    that are equal (from the screening sketches): an estimate of their Jaccard similarity."""
    encoded, n = task
    i, j = np.divmod(encoded, n)
    reader: RowReader = _STATE["sketches"]
    shares: np.ndarray = sketch_agreement(reader.rows(i), reader.rows(j)) / reader.width
    return shares


def _pass_bounds(task: tuple[np.ndarray, int]) -> np.ndarray:
    """Screening's bound (:func:`_bounds`) of encoded pairs (``i * n + j``)."""
    encoded, n = task
    return _bounds(*np.divmod(encoded, n))


PASSAGE_PAIRS = 8
"""Pairs an article keeps of those only the passage index found: the ones sharing most of its text."""


def _with_passage_pairs(pairs: np.ndarray, by_passages: np.ndarray, n: int, config: Config,
                        workers: _Workers) -> np.ndarray:
    """The candidate pairs with those only the passage index found: the ones screening keeps,
    and of those, an article's :data:`PASSAGE_PAIRS` with the highest screening bound.

    Two unrelated texts often have a short passage alike (a stock phrase, a quotation), the
    more the larger the corpus: on the million-article scale corpus the passage index alone
    found 7.4 million pairs, twice as many as the other two indexes together, nearly all of
    them unrelated. A copy that only its passages reveal needs one or two of them to join its
    story; so an article keeps the few that share the most of its text, and the rest never
    enter clustering. A pair the other indexes found is screened when verified, as before.
    """
    extra = np.setdiff1d(by_passages, pairs, assume_unique=True)
    if not len(extra):
        return pairs
    chunks = [extra[k:k + 16 * PAIRS_PER_TASK] for k in range(0, len(extra), 16 * PAIRS_PER_TASK)]
    bounds = np.concatenate([np.zeros(0), *workers.map(_pass_bounds, ((c, n) for c in chunks))])
    return distinct(np.concatenate([pairs, best_pairs(extra, bounds, n, screen_floor(config), PASSAGE_PAIRS)]))


def best_pairs(encoded: np.ndarray, scores: np.ndarray, n: int, floor: float, keep: int) -> np.ndarray:
    """Of encoded pairs (``i * n + j``) with their scores, those scoring at least ``floor`` that are
    among the ``keep`` best of either of their two articles (ties: the earlier pair first).

    >>> pairs = np.array([0 * 4 + 1, 1 * 4 + 2, 0 * 4 + 2, 2 * 4 + 3])  # (0, 1), (1, 2), (0, 2), (2, 3)
    >>> best_pairs(pairs, np.array([0.9, 0.5, 0.4, 0.1]), 4, 0.2, 1).tolist()  # (0, 2) is no one's best
    [1, 6]
    """
    passed = scores >= floor
    encoded, scores = encoded[passed], scores[passed]
    ends = np.concatenate(np.divmod(encoded, n))
    which = np.tile(np.arange(len(encoded)), 2)
    order = np.lexsort((which, -np.tile(scores, 2), ends))  # each article's pairs, best first
    ends, which = ends[order], which[order]
    rank = np.arange(len(ends)) - np.searchsorted(ends, ends, side="left")
    best: np.ndarray = encoded[np.unique(which[rank < keep])]
    return best


def _screened(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Which pairs ``(i[k], j[k])`` screening drops (:func:`~dedup.candidates.screening_bounds`,
    from the sketches spooled by the fingerprint pass)."""
    floor = screen_floor(_STATE["config"])
    if floor <= 0 or not len(i):
        return np.zeros(len(i), dtype=bool)
    dropped: np.ndarray = _bounds(i, j) < floor
    return dropped


def _bounds(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Screening's bound of pairs ``(i[k], j[k])`` (:func:`~dedup.candidates.screening_bounds`),
    from the sketches spooled by the fingerprint pass."""
    reader: RowReader = _STATE["sketches"]
    words: np.ndarray = _STATE["words"]
    bounds: np.ndarray = screening_bounds(reader.rows(i), reader.rows(j), words[i], words[j], _STATE["config"])
    return bounds


def _doc_words(text: str) -> tuple[list[str], list[str]]:
    """A spooled doc (its words joined by spaces; the headline's length is kept apart,
    :func:`_text_headlines`): its words, and the same lower-cased.

    >>> _doc_words("Oil Rises Prices rose"), _doc_words("")
    ((['Oil', 'Rises', 'Prices', 'rose'], ['oil', 'rises', 'prices', 'rose']), ([], []))
    """
    if not text:
        return [], []
    return text.split(" "), text.lower().split(" ")


def _time_at(times: np.ndarray, i: int) -> dt.datetime | None:
    t = float(times[i])
    return None if np.isnan(t) else dt.datetime.fromtimestamp(t, dt.UTC)


# ---------------------------------------------------------------- orchestration

class _Workers:
    """A pool of worker processes, or the calling process when ``jobs`` is 1.

    ``concurrent.futures`` rather than ``multiprocessing.Pool``: the latter's
    worker-handler thread spins while a result waits to be read, which cost the
    main process a second of CPU per 50,000 articles.
    """

    def __init__(self, jobs: int, state: dict[str, Any]) -> None:
        self.executor: ProcessPoolExecutor | None = None
        self.jobs = jobs
        if jobs > 1:
            ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
            # Forked workers inherit the parent's objects; frozen, the workers' garbage
            # collections leave them untouched, so their pages stay shared, not copied.
            gc.freeze()
            # The workers are forked with Ctrl-C held back (they inherit the handler), so that
            # none is interrupted before its initializer ignores it. The main process holds a
            # Ctrl-C that comes meanwhile and delivers it once the pool is up (it was ignored,
            # and the run went on). The main thread only: elsewhere Python cannot set signal
            # handlers, and the initializer does it alone.
            in_main = threading.current_thread() is threading.main_thread()
            held: list[int] = []
            interrupt = signal.signal(signal.SIGINT, lambda signum, _: held.append(signum)) if in_main else None
            try:
                self.executor = ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_pool_worker,
                                                    initargs=(state,))
                self.executor.submit(int).result()  # start the workers now, while frozen
            finally:
                gc.unfreeze()
                if interrupt is not None:
                    signal.signal(signal.SIGINT, interrupt)
            if held:
                try:
                    signal.raise_signal(signal.SIGINT)
                except BaseException:
                    self.close()
                    raise
        else:
            _init_worker(state)

    def map(self, func: Callable[[Any], T], tasks: Iterable[Any]) -> Iterator[T]:
        """Results in task order. At most a few tasks per worker are in flight, so the
        input (say, all of stdin) is never read far ahead of the results."""
        if self.executor is None:
            return map(func, tasks)
        executor = self.executor

        def results() -> Iterator[T]:
            pending: deque[Future[T]] = deque()
            try:
                for task in tasks:
                    pending.append(executor.submit(func, task))
                    if len(pending) >= 4 * self.jobs:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:
                for future in pending:
                    future.cancel()

        return results()

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)


def usable_cores() -> int:
    """The cores this process may use (``jobs=0``): its CPU affinity, as a container's
    ``--cpuset-cpus`` or ``taskset`` sets it, not every core of the machine; and no more
    than its cgroup's CPU quota (``docker --cpus``, a Kubernetes CPU limit), rounded up."""
    try:
        cores = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no sched_getaffinity (macOS, Windows)
        cores = os.cpu_count() or 1
    quota = cpu_quota()
    return cores if quota is None else max(1, min(cores, math.ceil(quota)))


def cpu_quota(root: str = "/sys/fs/cgroup", membership: str = "/proc/self/cgroup") -> float | None:
    """The cores' worth of CPU time the process's cgroups allow (the tightest limit of its
    cgroup and their parents, cgroup v2 ``cpu.max`` or v1 ``cpu.cfs_quota_us``), or ``None``
    if none is set or none can be read.

    Each line of ``membership`` is ``id:controllers:path``; the path is looked up under
    ``root`` (v2), or under ``root/controllers`` or ``root/cpu`` (v1).
    """
    try:
        lines = Path(membership).read_text("utf-8").splitlines()
    except OSError:
        return None
    limits: list[float] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            bases, read = [Path(root)], _cpu_max
        elif "cpu" in controllers.split(","):
            bases, read = [Path(root) / controllers, Path(root) / "cpu"], _cfs_quota
        else:
            continue
        for base in bases:
            folder = base / path.lstrip("/")
            while True:  # the cgroup and its parents, up to the mount
                found = read(folder)
                if found is not None:
                    limits.append(found)
                if folder == base or base not in folder.parents:
                    break
                folder = folder.parent
    return min(limits) if limits else None


def _cpu_max(folder: Path) -> float | None:
    try:
        quota, period = (folder / "cpu.max").read_text("utf-8").split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError, ZeroDivisionError):
        return None


def _cfs_quota(folder: Path) -> float | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text("utf-8"))
        period = int((folder / "cpu.cfs_period_us").read_text("utf-8"))
        return quota / period if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


def _warm(config: Config) -> None:
    """Fill the caches the workers' passes use (LSH bands, MinHash permutations, screening bounds),
    importing scipy once, here, rather than in every forked worker."""
    bands(config.lsh_threshold, config.num_perm)
    bands(config.lead_lsh_threshold, config.num_perm)
    if config.passages:
        bands(config.passage_lsh_threshold, config.num_perm // 2)
    permutations(config.num_perm, config.seed)
    jaccard_upper_bounds(config.num_perm)


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _article_tasks(articles: Iterable[Article | dict[str, Any]], problems: list[Problem]) -> Iterator[list[Article]]:
    def converted() -> Iterator[Article]:
        for n, item in enumerate(articles):
            if isinstance(item, dict):
                try:
                    yield Article.from_dict(item, order=n)
                except Exception as exc:
                    problems.append(Problem(str(item.get("id", f"#{n}")), str(exc)))
            elif isinstance(item, Article):
                yield replace(item, order=n) if item.order != n else item
            else:
                problems.append(Problem(f"#{n}", f"not an article: an Article or a dict was expected, "
                                                 f"got {type(item).__name__}"))

    return _chunks(converted(), ARTICLES_PER_TASK)


def find_duplicates(articles: Iterable[Article | dict[str, Any]], config: Config | None = None, *,
                    jobs: int = 1, progress: Progress[Any] = no_progress) -> Result:
    """Cluster copies of the same story among ``articles`` (``Article`` objects or dicts).

    Returns a :class:`Result` with one cluster per story (singletons included),
    the canonical id of each, and every article's assignment. ``jobs`` worker
    processes share the work (the result does not depend on it).
    """
    problems: list[Problem] = []
    return run(_article_tasks(articles, problems), config or Config(), jobs=jobs, progress=progress,
               problems=problems)


def scan_units(units: Iterable[Unit], config: Config | None = None, *, jobs: int = 1,
               on_problem: Callable[[Problem], None] | None = None,
               progress: Progress[Any] = no_progress) -> Result:
    """Like :func:`find_duplicates`, reading the input itself (in the workers)."""
    return run(units, config or Config(), jobs=jobs, progress=progress, on_problem=on_problem)


def run(tasks: Iterable[Unit | list[Article]], config: Config, *, jobs: int = 1,
        progress: Progress[Any] = no_progress, problems: list[Problem] | None = None,
        on_problem: Callable[[Problem], None] | None = None) -> Result:
    """The batch engine behind :func:`find_duplicates` and ``dedup scan``."""
    jobs = max(1, jobs if jobs > 0 else usable_cores())
    problems = problems if problems is not None else []

    def report(p: Problem) -> None:
        problems.append(p)
        if on_problem is not None:
            on_problem(p)

    with contextlib.ExitStack() as spools:  # temp files, deleted however the run ends
        seg_spool, key_spool, doc_spool, meta_spool = (spools.enter_context(Spool()) for _ in range(4))
        sketch_spool = spools.enter_context(RowSpool(SKETCH_DTYPE, config.num_perm))
        clock = time.perf_counter()
        timings: dict[str, float] = {}

        def lap(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[stage] = round(now - clock, 3)
            clock = now

        # Pass 1: read, prepare, count segments per source. Only ids, sources, times and
        # word counts stay in memory; other metadata waits in a spool for the result.
        ids: list[str] = []
        sources: list[str | None] = []
        published: list[float] = []
        seen: set[str] = set()
        shared: dict[str, str] = {}  # one string object per distinct source
        counts = SegmentCounts()
        workers = _Workers(jobs, {})
        try:
            read = (Counted(r, len(r[0])) for r in workers.map(_pass_read, tasks))
            for item in progress(read, "reading", None):
                records, gids, metas, texts, seg_keys, owners, keys, got_problems = item.value
                for p in got_problems:
                    report(p)
                keep = []
                for k, record in enumerate(records):
                    if record[0] in seen:
                        where = record[3] or record[0]  # a file's id is where it was read from
                        report(Problem(where, "duplicate id, later copy skipped" if where == record[0]
                                       else f"duplicate id {record[0]!r}, later copy skipped"))
                        continue
                    seen.add(record[0])
                    keep.append(k)
                if len(keep) != len(records):
                    records = [records[k] for k in keep]
                    gids = [gids[k] for k in keep]
                    metas, texts, seg_keys = _select(metas, keep), _select(texts, keep), _select(seg_keys, keep)
                    keys = keys[np.isin(owners, keep)]
                for ident, source, when, _ in records:
                    ids.append(ident)
                    sources.append(None if source is None else shared.setdefault(source, source))
                    published.append(when)
                meta_spool.extend_encoded(*metas)
                seg_spool.extend_encoded(*texts)
                key_spool.extend_encoded(*seg_keys)
                counts.add(keys, gids)
        finally:
            workers.close()
        del seen
        n = len(ids)
        if n == 0:
            return Result([], {}, {}, config, problems, 0)

        lap("read")
        # Pass 2: strip boilerplate, fingerprint.
        rule = counts.rule(config)
        _warm(config)
        del counts
        state = {"config": config, "rule": rule, "segments": seg_spool.reader(), "keys": key_spool.reader()}
        fp_tasks = ((lo, min(n, lo + ARTICLES_PER_TASK)) for lo in range(0, n, ARTICLES_PER_TASK))
        key_chunks: list[np.ndarray] = []
        passage_chunks: list[np.ndarray] = []
        passage_owners: list[np.ndarray] = []
        lengths = array("q")  # compact: at a million articles, lists of ints and bytes took ~80 MB more
        heads = array("q")
        digests: list[np.ndarray] = []
        choices = array("b")  # which title each article has (0: its own, k: its k-th other title line)
        workers = _Workers(jobs, state)
        try:
            fingerprinted = (Counted(r, len(r.lengths)) for r in workers.map(_pass_fingerprint, fp_tasks))
            for item in progress(fingerprinted, "fingerprinting", n):
                fp = item.value
                key_chunks.append(fp.keys)
                passage_chunks.append(fp.passages[0])
                passage_owners.append(fp.passages[1])
                doc_spool.extend_encoded(*fp.texts)
                sketch_spool.append(fp.sketches)
                lengths.extend(fp.lengths)
                heads.extend(fp.heads)
                digests.append(fp.digests)
                choices.extend(fp.choices)
        finally:
            workers.close()
        lap("fingerprint")
        pairs = pairs_from_keys(key_chunks)
        del key_chunks
        by_passages = passage_pairs(passage_chunks, passage_owners, n) if config.passages else pairs[:0]
        del passage_chunks, passage_owners

        # Verification and clustering.
        times = np.array(published, dtype=np.float64)
        del published
        same = _same_texts(np.concatenate([np.zeros(0, dtype=np.uint64), *digests]))
        del digests
        state = {"config": config, "docs": doc_spool.reader(), "times": times,
                 "sketches": sketch_spool.reader(), "words": np.asarray(lengths, dtype=np.int64),
                 "heads": _text_headlines(same, heads)}
        del heads
        workers = _Workers(jobs, state)
        try:
            pairs = _with_passage_pairs(pairs, by_passages, n, config, workers)
            del by_passages
            lap("candidates")
            articles = _Articles(ids, sources, lengths, times, meta_spool.reader(), choices)
            result = _cluster_and_report(articles, pairs, config, problems, workers, progress,
                                         same if config.window_seconds is None else None)
            lap("verify_cluster")
            result.timings = timings
            return result
        finally:
            workers.close()


def _timestamp(value: str | None) -> float:
    when = parse_time(value)
    return when.timestamp() if when is not None else float("nan")


def _pieces(encoded: _Encoded) -> list[bytes]:
    """The UTF-8 bytes of each text of an encoded batch."""
    blob, sizes = encoded
    ends = np.cumsum(sizes).tolist()
    return [blob[start:end] for start, end in zip([0, *ends[:-1]], ends)]


def _select(encoded: _Encoded, keep: list[int]) -> _Encoded:
    """Some of the texts of an encoded batch, by position."""
    pieces = _pieces(encoded)
    return b"".join(pieces[k] for k in keep), encoded[1][keep]


def _same_texts(digests: np.ndarray) -> np.ndarray:
    """For each article, the first article with the same cleaned text (itself if none), from
    the digests of the texts.

    >>> _same_texts(np.array([7, 3, 7, 5, 3], dtype=np.uint64)).tolist()
    [0, 1, 0, 3, 1]
    """
    _, first, inverse = np.unique(digests, return_index=True, return_inverse=True)
    same: np.ndarray = first[inverse]
    return same


def _text_headlines(same: Sequence[int] | np.ndarray, heads: Sequence[int]) -> np.ndarray:
    """The headline length of each article's text: the longest found in any article with
    those words (``same``, :func:`_same_texts`).

    A headline is found from a page's metadata or layout, so two copies with the same
    words may differ in it (a plain-text copy whose first line is not headline-like, an
    HTML copy with a ``<title>``); verdicts depend on it (see
    :func:`~dedup.verify.verify`), and equal words must get equal verdicts.

    >>> _text_headlines([0, 1, 0, 1], [0, 0, 8, 0]).tolist()
    [8, 0, 8, 0]
    """
    first = np.asarray(same, dtype=np.int64)
    best = np.zeros(len(first), dtype=np.int32)
    np.maximum.at(best, first, np.asarray(heads, dtype=np.int32))
    found: np.ndarray = best[first]
    return found


@dataclass
class _Articles:
    """What clustering needs of the articles, by position; the rest of their metadata is spooled."""

    ids: list[str]
    sources: list[str | None]
    words: Sequence[int]
    times: np.ndarray
    meta: SpoolReader  # JSON [title, url, published] of each article, and its other title lines if any
    titles: Sequence[int]  # which title each article has (0: its own, k: its k-th other title line)


class _SpooledItems(Mapping[str, Item]):
    """The result's items, read from the metadata spool when asked for: a million
    :class:`Item` objects held at once cost ~500 MB.

    The spool's file is already unlinked; the open descriptor keeps it readable
    for as long as this mapping lives.
    """

    def __init__(self, articles: _Articles, index: dict[str, int]) -> None:
        self._articles = articles
        self._index = index
        articles.meta.keep_open()

    def __getitem__(self, ident: str) -> Item:
        k = self._index[ident]
        a = self._articles
        title, url, published, *others = json.loads(a.meta.get(k))
        if a.titles[k]:
            title = others[0][a.titles[k] - 1]
        return Item(ident, title, a.sources[k], url, published, a.words[k], k)

    def __iter__(self) -> Iterator[str]:
        return iter(self._articles.ids)

    def __len__(self) -> int:
        return len(self._articles.ids)


def _cluster_and_report(articles: _Articles, encoded_pairs: np.ndarray, config: Config,
                        problems: list[Problem], workers: _Workers, progress: Progress[Any],
                        same: np.ndarray | None = None) -> Result:
    """Verify, cluster and pick canonical items. ``same[i]`` is the first article with
    the text of article ``i``: a pair's verdict is then that of the pair of those
    (verification reads only the texts), so each pair of texts is verified once.
    ``encoded_pairs`` are the candidate pairs as :func:`~dedup.candidates.pairs_from_keys`
    gives them (``i * n + j``); pairs stay encoded in numpy arrays, and verdicts in a
    compact :class:`~dedup.cluster.Verdicts`, so that millions of pairs fit in memory."""
    ids, words, times = articles.ids, articles.words, articles.times
    n = len(ids)
    verdicts = Verdicts(n)
    by_text: dict[int, float] = {}  # verdicts of pairs of texts (encoded as in Verdicts), when same is given
    first = np.asarray(same, dtype=np.int64) if same is not None else None
    lengths = np.asarray(words, dtype=np.int64)
    dropped = np.zeros(0, dtype=np.int64)  # pairs screened out so far (encoded as the pairs sent to workers)

    def verify_many(todo: np.ndarray | Iterable[tuple[int, int]], label: str | None = None) -> None:
        nonlocal dropped
        # Candidate and linking pairs are screened (a screened pair has no verdict: not a match);
        # the canonical round's pairs are all verified, since their scores are reported.
        screen = label in (CANDIDATES, LINKING, ALIASING)
        enc = _encode_pairs(todo, n)
        known = verdicts.values
        if known:  # later rounds repeat pairs
            enc = enc[np.fromiter((k not in known for k in enc.tolist()), dtype=bool, count=len(enc))]
        i, j = np.divmod(enc, n)
        if first is None:
            work, store = enc, known
        else:
            a, b = first[i], first[j]
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            one = lo == hi  # one text: the verdict verify() gives a text and itself
            known.update(zip(enc[one].tolist(), np.where(lengths[i[one]] >= config.min_block, 1.0, -1.0).tolist()))
            enc, lo, hi = enc[~one], lo[~one], hi[~one]
            texts, inverse = np.unique(lo * n + hi, return_inverse=True)
            work = texts[np.fromiter((k not in by_text for k in texts.tolist()), dtype=bool, count=len(texts))]
            store = by_text
        if screen and len(dropped):  # screened out in an earlier round: the same bound again
            work = work[~np.isin(work, dropped)]
        work = _local_order(work, n)
        chunks = [work[k:k + PAIRS_PER_TASK] for k in range(0, len(work), PAIRS_PER_TASK)]
        results = workers.map(_pass_verify, ((c, n, screen) for c in chunks))
        if label:
            results = (item.value for item in progress((Counted(r, len(r)) for r in results), label, len(work)))
        new_drops = [dropped]
        for outs, chunk in zip(results, chunks):  # results first: zip then runs the hook to its end
            store.update((k, Verdicts.encode(v)) for k, v in zip(chunk.tolist(), outs) if v is not None)
            if None in outs:
                new_drops.append(chunk[np.fromiter((v is None for v in outs), dtype=bool, count=len(outs))])
        dropped = distinct(np.concatenate(new_drops))
        if first is not None:
            found = np.array([by_text.get(k, np.nan) for k in texts.tolist()], dtype=np.float64)[inverse]
            verified = ~np.isnan(found)  # screened-out pairs have no verdict
            known.update(zip(enc[verified].tolist(), found[verified].tolist()))

    def alike(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Which pairs ``(a[k], b[k])`` verify as near-identical: a match sharing at least
        ``alias_overlap`` of the longer text (the score is the share of the shorter)."""
        enc = np.minimum(a, b) * n + np.maximum(a, b)
        verify_many(enc, ALIASING)
        known = verdicts.values
        scores = np.fromiter((known.get(k, -1.0) for k in enc.tolist()), dtype=np.float64, count=len(enc))
        ratio = np.minimum(lengths[a], lengths[b]) / np.maximum(np.maximum(lengths[a], lengths[b]), 1)
        near: np.ndarray = (scores >= 0) & (scores * ratio >= config.alias_overlap)
        return near

    def agreement(enc: np.ndarray) -> np.ndarray:
        chunks = [enc[k:k + 16 * PAIRS_PER_TASK] for k in range(0, len(enc), 16 * PAIRS_PER_TASK)]
        return np.concatenate([np.zeros(0), *workers.map(_pass_agree, ((c, n) for c in chunks))])

    # With a time window, a copy's verdicts depend on its own date, not only its text: no folding
    # (as equal texts share verdicts only without one, see _same_texts).
    near = (agreement, alike) if config.window_seconds is None else None
    groups = cluster(n, encoded_pairs, verify_many, verdicts, ids, config.link_fraction, near, lengths)
    by_text.clear()
    chosen = []
    for g in groups:
        cands = [Candidate(ids[m], articles.sources[m], _time_at(times, m), words[m], m) for m in g.members]
        chosen.append((g, choose(cands, config).id))
    index = {ident: k for k, ident in enumerate(ids)}
    verify_many((m, index[c]) for g, c in chosen for m in g.members if m != index[c])
    checked = len(verdicts)
    # Stable, order-independent numbering: biggest clusters first, then by canonical id.
    chosen.sort(key=lambda gc: (-len(gc[0].members), gc[1]))
    clusters: list[Cluster] = []
    similarity: list[float] = [1.0] * len(ids)
    number_of: list[int] = [0] * len(ids)
    canonical_of: list[int] = [0] * len(ids)
    for number, (g, canon_id) in enumerate(chosen, 1):
        members = tuple(sorted((ids[m] for m in g.members), key=lambda i: (i != canon_id, i)))
        clusters.append(Cluster(number, canon_id, members, g.weakest_link, g.mean_similarity))
        c = index[canon_id]
        for m in g.members:
            number_of[m], canonical_of[m] = number, c
            if m != c:
                similarity[m] = round(verdicts[(min(m, c), max(m, c))][1], 4)
    verdicts.values.clear()
    del chosen, groups
    assignments: dict[str, Assignment] = {}
    for k, ident in enumerate(ids):
        c = canonical_of[k]
        assignments[ident] = Assignment(ident, number_of[k], ids[c], k == c, similarity[k])
    return Result(clusters, assignments, _SpooledItems(articles, index), config, problems, checked, len(dropped))


def _encode_pairs(pairs: np.ndarray | Iterable[tuple[int, int]], n: int) -> np.ndarray:
    """Pairs as distinct sorted ``i * n + j`` (``i < j``): an encoded array is taken as it is."""
    if isinstance(pairs, np.ndarray):
        return pairs
    flat = np.fromiter(itertools.chain.from_iterable(pairs), dtype=np.int64)
    i, j = flat[0::2], flat[1::2]
    encoded: np.ndarray = distinct(np.minimum(i, j) * n + np.maximum(i, j))
    return encoded


def _local_order(encoded: np.ndarray, n: int) -> np.ndarray:
    """Encoded pairs grouped by connected component, so that a worker verifying a
    chunk reads each article from the spool about once, not once per pair."""
    if len(encoded) < 2:
        return encoded
    i, j = np.divmod(encoded, n)
    labels = component_labels(n, i, j)
    ordered: np.ndarray = encoded[np.lexsort((encoded, labels[i]))]
    return ordered


def verify_words(a: Sequence[str], b: Sequence[str], time_a: dt.datetime | None, time_b: dt.datetime | None,
                 config: Config, head_a: int = 0, head_b: int = 0, lower_a: Sequence[str] | None = None,
                 lower_b: Sequence[str] | None = None) -> Verdict:
    """Verify two cleaned word sequences, honouring the optional time window."""
    if config.window_seconds is not None and time_a is not None and time_b is not None:
        gap = abs((time_a - time_b).total_seconds())
        if gap > config.window_seconds:
            return Verdict(False, 0.0, 0.0, 0.0, 0, 0, 0, 0, "window",
                           f"published {gap / 3600:.1f} h apart, outside the time window")
    return verify(a, b, config, head_a, head_b, lower_a, lower_b)


def verify_pair(a: Doc, b: Doc, time_a: dt.datetime | None, time_b: dt.datetime | None, config: Config) -> Verdict:
    """Verify two docs, honouring the optional time window."""
    return verify_words(a.words, b.words, time_a, time_b, config, a.head, b.head)
