"""Invariants, checked with Hypothesis: an article matches itself, verification
is symmetric, clustering does not depend on input order, normalisation is
idempotent."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dedup import Config, find_duplicates
from dedup.boilerplate import kept_segments
from dedup.document import BODY_SENTENCE
from dedup.normalise import (
    _SENTENCE_END,
    MAX_HEADLINE,
    clean_for_matching,
    first_sentence_end,
    is_relative_time,
    normalise_text,
    segment_lines,
    split_segments,
    strip_dateline,
    unwrap,
    words,
)
from dedup.verify import Verdict, verify

DATA = Path(__file__).resolve().parent / "data"
STORIES = [json.loads(line) for line in (DATA / "reuters-stories.jsonl").read_text("utf-8").splitlines()]
CONFIG = Config()

# Real words of the stored stories, names and figures included ("Sumita", "45", "FECOM").
VOCABULARY = sorted({w for s in STORIES for w in words(normalise_text(s["title"] + " " + s["text"]))})
word_lists = st.lists(st.sampled_from(VOCABULARY), min_size=CONFIG.min_block, max_size=200)

# Hypothesis draws no timing-sensitive behaviour here; the deadline is off so slow machines do not fail.
PROPERTY = settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])


def paragraphs(text: str) -> list[str]:
    out: list[str] = []
    for line in text.splitlines():
        if line.startswith("   ") or not out:
            out.append(line.strip())
        else:
            out[-1] += " " + line.strip()
    return out


# ---------------------------------------------------------------- an article matches itself

@PROPERTY
@given(word_lists)
def test_words_match_themselves(ws: list[str]) -> None:
    v = verify(ws, list(ws), CONFIG)
    assert v.match
    assert v.containment == v.overlap == 1.0
    assert v.conflicts == 0


@st.composite
def article_texts(draw: st.DrawFn) -> str:
    """A headline and paragraphs of real words, or a stored story, lightly cut."""
    if draw(st.booleans()):
        story = draw(st.sampled_from(STORIES))
        paras = paragraphs(story["text"])
        keep = draw(st.integers(1, len(paras)))
        return story["title"] + "\n\n" + "\n".join(paras[:keep])
    lines = draw(st.lists(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=40), min_size=1, max_size=8))
    text = "\n".join(" ".join(line) for line in lines)
    return text if len(words(text)) >= CONFIG.min_block else text + " and so on"


@PROPERTY
@given(article_texts(), st.sampled_from(["", "Reuters", "Yahoo"]))
def test_an_article_and_its_exact_copy_form_one_cluster(text: str, source: str) -> None:
    result = find_duplicates([{"id": "original", "text": text, "source": source},
                              {"id": "copy", "text": text, "source": "Another Site"}])
    assert result.assignments["original"].cluster == result.assignments["copy"].cluster


# ---------------------------------------------------------------- verify is symmetric

@st.composite
def related_pairs(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """A word list and an edited version of it: cut, extended, rewritten in places."""
    a = draw(word_lists)
    b = list(a)
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "truncate", "prepend"]))
        if op == "delete" and b:
            i = draw(st.integers(0, len(b) - 1))
            del b[i:i + draw(st.integers(1, 10))]
        elif op == "insert":
            i = draw(st.integers(0, len(b)))
            b[i:i] = draw(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=10))
        elif op == "replace" and b:
            b[draw(st.integers(0, len(b) - 1))] = draw(st.sampled_from(VOCABULARY))
        elif op == "truncate" and b:
            b = b[:draw(st.integers(0, len(b)))]
        elif op == "prepend":
            b = draw(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=40)) + b
    return a, b


def _swapped(v: Verdict) -> tuple[object, ...]:
    return (v.match, v.score, v.containment, v.overlap, v.shared, v.conflicts, v.start_b, v.start_a, v.measure)


def _plain(v: Verdict) -> tuple[object, ...]:
    return (v.match, v.score, v.containment, v.overlap, v.shared, v.conflicts, v.start_a, v.start_b, v.measure)


@PROPERTY
@given(related_pairs())
def test_verify_is_symmetric_on_edited_copies(pair: tuple[list[str], list[str]]) -> None:
    a, b = pair
    assert _plain(verify(a, b, CONFIG)) == _swapped(verify(b, a, CONFIG))


@PROPERTY
@given(word_lists, word_lists)
def test_verify_is_symmetric_on_unrelated_texts(a: list[str], b: list[str]) -> None:
    assert _plain(verify(a, b, CONFIG)) == _swapped(verify(b, a, CONFIG))


# ---------------------------------------------------------------- clustering and input order

def _pool() -> list[dict[str, str]]:
    """Copies, excerpts, a related-block page, template items and unrelated stories."""
    by_id = {s["id"]: s for s in STORIES}
    out: list[dict[str, str]] = []
    for s in STORIES:
        text = s["title"] + "\n\n" + "\n".join(paragraphs(s["text"]))
        out.append({"id": s["id"], "text": text, "source": "Reuters", "published": s["published"]})
    farm = by_id["reuters-4441"]
    farm_paras = paragraphs(farm["text"])
    out += [
        {"id": "farm-copy", "text": "logo\n" + farm["title"] + "\n" + "\n".join(farm_paras) + "\nDOWNLOAD THE APP",
         "source": "Farm Daily"},
        {"id": "farm-excerpt", "text": farm["title"] + "\n" + "\n".join(farm_paras[:3]) + "\nRead more",
         "source": "Digest", "published": "1987-03-12T16:00:00Z"},
        {"id": "farm-curly", "text": (farm["title"] + "\n" + "\n".join(farm_paras)).replace('"', "\u201c"),
         "source": "Ag Weekly", "published": "1987-03-12T15:10:00Z"},
        {"id": "related-page", "source": "Tokyo Daily",
         "text": "\n".join([by_id["reuters-9134"]["title"], *paragraphs(by_id["reuters-9134"]["text"]),
                            "Related Articles", farm["title"], *farm_paras])},
        {"id": "div-kemper", "source": "Reuters", "text": "KEMPER CORP <KEMC> REGULAR PAYOUT SET\n\nLONG GROVE, "
         "ILL., March 5 - Qtly div 15 cts vs 15 cts previously\nPay May 29\nRecord May Eight"},
        {"id": "div-wallace", "source": "Reuters", "text": "WALLACE COMPUTER SERVICES INC <WCS> DIVIDEND\n\n"
         "HILLSIDE, ILL., March 11 - Qtly div 15 cts vs 15 cts previously\nPay June 19\nRecord June One"},
        {"id": "div-kemper-refile", "source": "Wire Two", "text": "REFILE-KEMPER CORP <KEMC> REGULAR PAYOUT SET"
         "\n\nLONG GROVE, ILL., March 5 -- Qtly div 15 cts vs 15 cts previously\nPay May 29\nRecord May Eight"},
    ]
    return out


POOL = _pool()


def _outcome(articles: list[dict[str, str]]) -> tuple[object, ...]:
    result = find_duplicates(articles)
    clusters = sorted((c.canonical_id, sorted(c.members), c.weakest_link, c.mean_similarity)
                      for c in result.clusters)
    assignments = sorted((a.id, a.canonical_id, a.similarity) for a in result.assignments.values())
    return tuple(clusters), tuple(assignments)


REFERENCE = _outcome(POOL)


def test_the_pool_clusters_as_expected() -> None:
    """The order tests below are only worth something if the pool has real clusters in it."""
    multi = sorted(members for _, members, _, _ in REFERENCE[0] if len(members) > 1)  # type: ignore[attr-defined]
    assert multi == [
        ["div-kemper", "div-kemper-refile"],
        ["farm-copy", "farm-curly", "farm-excerpt", "reuters-4441"],
        ["related-page", "reuters-9134"],  # the page goes with its own story, not the one it carries
    ]


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(POOL))
def test_clustering_does_not_depend_on_input_order(articles: list[dict[str, str]]) -> None:
    assert _outcome(list(articles)) == REFERENCE


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(POOL), min_size=2, unique_by=lambda a: a["id"]), st.randoms(use_true_random=False))
def test_any_subset_clusters_the_same_in_any_order(articles: list[dict[str, str]], rng: object) -> None:
    shuffled = list(articles)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    assert _outcome(shuffled) == _outcome(sorted(articles, key=lambda a: a["id"]))


# ---------------------------------------------------------------- normalise_text is idempotent

# Two known exceptions are left out of the general property and pinned below.
_KNOWN = "\x0b\x0c\u200b\u200c\u200d\ufeff\u00ad"


@settings(max_examples=500)
@given(st.text(alphabet=st.characters(blacklist_characters=_KNOWN)))
def test_normalise_text_is_idempotent(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from(" \t\n,.;:!?%)]-\u2014\u2013\u00a0\u201c\u201d\u2018\u2019\"'abc1")))
def test_normalise_text_is_idempotent_on_punctuation_and_spacing(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once


@pytest.mark.xfail(strict=True, reason="form feed / vertical tab before punctuation: spaces are collapsed after "
                                        "the space-before-punctuation rule has run")
def test_normalise_text_is_idempotent_with_a_form_feed_before_punctuation() -> None:
    once = normalise_text("5\x0c%")
    assert normalise_text(once) == once


@pytest.mark.xfail(strict=True, reason="a removed zero-width character between a letter and a combining mark: "
                                        "NFKC runs before the removal, so the pair is composed only on a second pass")
def test_normalise_text_is_idempotent_with_a_zero_width_space_before_a_combining_mark() -> None:
    once = normalise_text("cafe\u200b\u0301")
    assert normalise_text(once) == once


# ---------------------------------------------------------------- segmenting on bytes = segmenting per sentence

def _segments_one_sentence_at_a_time(text: str) -> list[tuple[str, bool]]:
    """What segment_lines computes, the slow way: a regex per line and a word list per sentence."""
    lines = clean_for_matching(unwrap(text)).splitlines()
    out: list[tuple[str, bool]] = []
    for n, line in enumerate(lines):
        if n < 12:
            line = strip_dateline(line)
        if is_relative_time(line):
            continue
        sentences = [" ".join(w) for w in map(words, split_segments(line)) if w]
        if (len(sentences) > 1 and line.isupper() and not line.rstrip().endswith((".", "!", "?"))
                and sum(len(s.split(" ")) for s in sentences) <= MAX_HEADLINE):
            sentences = [" ".join(sentences)]  # a headline in capitals with an abbreviation
        alone = (len(sentences) == 1 and (n == 0 or not lines[n - 1].strip())
                 and (n + 1 == len(lines) or not lines[n + 1].strip()))
        out.extend((s, alone) for s in sentences)
    return out


_PIECES = [*"abcXYZ19 .!?,;:'\"()[]-\n\t", "\n\n", "U.S.", " J. ", "\u201c", "\u201d", "\u2019", "\u2014",
           "\u00e9", "\u00df", "\u00a0", "\u2026", "DAKAR, Senegal (AP) \u2014 ", "Toronto, Feb 26 - ",
           "Washington (Reuters) - ", "5 minutes ago\n", "Caf\u00e9",
           "\u0130", "\ufb01", "\x00", "\x01", "\x02", "\x1f", " . ", "\n \n", "\u2018", "\u00ab", "\u00bb",
           "\u2022", "\u2032", "\u00b4"]
_PROSE = st.lists(st.sampled_from(_PIECES), max_size=120).map("".join)


@settings(max_examples=500, deadline=None)
@given(st.one_of(_PROSE, st.text(max_size=80)))
@example("a!\u201c\x1fa")  # an opening quote after "!" once ended a sentence on bytes (found by CI)
@example("a!\u2022 b")
def test_segmenting_on_bytes_gives_the_segments_of_the_per_sentence_rules(text: str) -> None:
    assert segment_lines(text) == _segments_one_sentence_at_a_time(text)


@settings(max_examples=500, deadline=None)
@given(st.one_of(_PROSE, st.text(max_size=80)))
@example("U.S. farm plans. J. Smith said so.")
@example("x_.. y \u00b2.\t z")
def test_a_lines_first_sentence_ends_where_split_segments_cuts_it(text: str) -> None:
    for line in text.splitlines():
        found = _SENTENCE_END.search(line)
        assert first_sentence_end(line) == (found.start() if found else len(line))


# ---------------------------------------------------------------- kept segments = the segment-by-segment rule

def _kept_one_segment_at_a_time(boiler: list[bool], sizes: list[int], headlines: set[int],
                                config: Config, title: int, text_first: bool = False) -> tuple[list[int], int]:
    """What kept_segments computes, walking the segments one by one."""
    kept: list[int] = []
    total = 0
    seen = body = False
    for n, chrome in enumerate(boiler):
        if chrome:
            continue
        if body and n in headlines:
            break
        kept.append(n)
        total += sizes[n]
        # after the headline, or no headline: a first segment too long for one, or read as text
        if seen or sizes[n] > MAX_HEADLINE or text_first:
            body = body or (sizes[n] >= BODY_SENTENCE and n not in headlines)
        seen = True
    if total < config.min_tokens:
        if text_first:  # too little text: the first segment was a headline after all
            return _kept_one_segment_at_a_time(boiler, sizes, headlines, config, title)
        kept = list(range(len(boiler)))
    # the headline: the first segment kept, if it is the title (or, with none, headline-like) and short enough
    if kept and (kept[0] == title or (title == -1 and kept[0] in headlines)) and sizes[kept[0]] <= MAX_HEADLINE:
        return kept, sizes[kept[0]]
    return kept, 0


@settings(max_examples=500)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 30), st.booleans()), max_size=30),
       st.integers(0, 40), st.integers(-1, 3), st.booleans())
# chrome, a headline in sentence case (not text after all: too little is left before the next
# headline), that headline's story, and another story below
@example([(True, 2, False), (False, 5, False), (False, 20, True), (False, 30, False), (False, 5, True),
          (False, 30, False)], 8, -1, True)
def test_kept_segments_follow_the_segment_by_segment_rule(segments: list[tuple[bool, int, bool]],
                                                          min_tokens: int, title: int, text_first: bool) -> None:
    boiler = [b for b, _, _ in segments]
    sizes = [s for _, s, _ in segments]
    headlines = {n for n, (_, _, h) in enumerate(segments) if h}
    title = title if title < len(segments) else -1
    config = Config(min_tokens=min_tokens)
    assert kept_segments(boiler, sizes, headlines, config, title, text_first) == _kept_one_segment_at_a_time(
        boiler, sizes, headlines, config, title, text_first)


@st.composite
def components_with_scores(draw: st.DrawFn) -> tuple[list[int], dict[tuple[int, int], float]]:
    """A component's members and the scores of its matching pairs: often every pair, else some."""
    comp = sorted(draw(st.sets(st.integers(0, 40), min_size=3, max_size=9)))
    pairs = [(a, b) for x, a in enumerate(comp) for b in comp[x + 1:]]
    chosen = pairs if draw(st.booleans()) else draw(st.lists(st.sampled_from(pairs), unique=True))
    return comp, {pair: draw(st.floats(0.6, 1.0)) for pair in chosen}


@PROPERTY
@given(components_with_scores(), st.sampled_from([0.3, 0.5, 1.0]))
def test_average_linkage_shortcut_gives_what_merging_gives(case: tuple[list[int], dict[tuple[int, int], float]],
                                                           link_fraction: float) -> None:
    """A component whose pairs are all copies is one group at once; the merge loop agrees."""
    from dedup.cluster import _average_linkage, _merge

    comp, scores = case
    keys = [f"id{k:02d}" for k in range(41)]
    assert _average_linkage(comp, scores, keys, link_fraction) == _merge(comp, scores, keys, link_fraction)


def _merge_by_scanning(comp: list[int], scores: dict[tuple[int, int], float], keys: list[str],
                      link_fraction: float) -> list[list[int]]:
    """Average linkage as first written: every round scans every link for the best one and
    rebuilds the links after the merge (members times links: minutes on thousands of members)."""
    clusters: dict[int, list[int]] = {i: [i] for i in comp}
    lowest = {i: keys[i] for i in comp}
    links: dict[tuple[int, int], int] = {}
    for (a, b) in scores:
        if a in clusters and b in clusters:
            links[(a, b)] = links.get((a, b), 0) + 1
    while True:
        best: tuple[float, str, str, int, int] | None = None
        for (a, b), count in links.items():
            strength = count / (len(clusters[a]) * len(clusters[b]))
            if strength < link_fraction:
                continue
            ka, kb = lowest[a], lowest[b]
            cand = (-strength, ka, kb, a, b) if ka <= kb else (-strength, kb, ka, a, b)
            if best is None or cand < best:
                best = cand
        if best is None:
            break
        _, _, _, a, b = best
        keep, gone = min(a, b), max(a, b)
        clusters[keep].extend(clusters.pop(gone))
        lowest[keep] = min(lowest[keep], lowest.pop(gone))
        merged: dict[tuple[int, int], int] = {}
        for (x, y), count in links.items():
            x2 = keep if x == gone else x
            y2 = keep if y == gone else y
            if x2 == y2:
                continue
            pair = (x2, y2) if x2 < y2 else (y2, x2)
            merged[pair] = merged.get(pair, 0) + count
        links = merged
    return [sorted(c) for c in clusters.values()]


@st.composite
def linked_components(draw: st.DrawFn) -> tuple[list[int], dict[tuple[int, int], float], list[str]]:
    """A component of up to 30 members with some of its pairs verified (dense or sparse), and ids
    in an order unrelated to the positions (ties go to the smallest ids)."""
    comp = sorted(draw(st.sets(st.integers(0, 60), min_size=2, max_size=30)))
    pairs = [(a, b) for x, a in enumerate(comp) for b in comp[x + 1:]]
    density = draw(st.sampled_from([0.1, 0.3, 0.6, 0.9]))
    chosen = [p for p in pairs if draw(st.floats(0, 1)) < density]
    keys = [f"id{k:03d}" for k in draw(st.permutations(range(61)))]
    return comp, {pair: 0.9 for pair in chosen}, keys


@PROPERTY
@given(linked_components(), st.sampled_from([0.1, 0.3, 0.5, 0.75, 1.0]))
def test_merging_through_a_heap_gives_what_scanning_gives(case: tuple[list[int], dict[tuple[int, int], float],
                                                                      list[str]], link_fraction: float) -> None:
    """The heap of links merges the same groups, in the same order of ties, as scanning every link."""
    from dedup.cluster import _merge

    comp, scores, keys = case
    assert _merge(comp, scores, keys, link_fraction) == _merge_by_scanning(comp, scores, keys, link_fraction)


@given(st.lists(st.integers(-(2**62), 2**62), max_size=200), st.sampled_from([np.int64, np.uint32]))
def test_distinct_is_np_unique(values: list[int], dtype: type) -> None:
    """candidates.distinct (sorting) gives what np.unique gives (hashing, in numpy 2.3+)."""
    from dedup.candidates import distinct

    array = np.array([v % (2**32) for v in values] if dtype is np.uint32 else values, dtype=dtype)
    found = distinct(array)
    assert found.dtype == array.dtype
    assert np.array_equal(found, np.unique(array))


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 40), st.integers(0, 2**32 - 1), st.floats(0.0, 1.0))
def test_collapse_folds_only_crowded_neighbours_into_representatives(size: int, seed: int,
                                                                      share: float) -> None:
    """Whatever the graph and the verdicts: only articles with CROWDED candidate pairs are
    folded, each into a neighbour that ``alike`` accepted, of a smaller key, that is itself
    never folded; and no pair is checked twice."""
    import dedup.cluster as clustering

    rng = random.Random(seed)
    n = 3 * size
    pairs = {(i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < share}
    encoded = np.array(sorted(i * n + j for i, j in pairs), dtype=np.int64)
    keys = [f"k{rng.random():.12f}" for _ in range(n)]
    agree = {p: rng.random() for p in pairs}
    accepted = {p for p in pairs if rng.random() < 0.7}
    asked: list[tuple[int, int]] = []

    def agreement(enc: np.ndarray) -> np.ndarray:
        return np.array([agree[divmod(int(e), n)] for e in enc], dtype=np.float64)

    def alike(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        found = []
        for x, y in zip(a.tolist(), b.tolist()):
            asked.append((min(x, y), max(x, y)))
            found.append((min(x, y), max(x, y)) in accepted)
        return np.array(found, dtype=bool)

    degree = np.bincount(np.array([x for p in pairs for x in p] or [0]), minlength=n)
    old = clustering.CROWDED
    clustering.CROWDED = size  # about a third of the articles crowded, whatever the size
    try:
        rep = clustering.collapse(n, encoded, keys, agreement, alike)
    finally:
        clustering.CROWDED = old
    assert len(asked) == len(set(asked))
    if rep is None:
        assert not any(p in accepted and agree[p] >= clustering.NEAR_AGREEMENT for p in asked)
        return
    for v in range(n):
        r = int(rep[v])
        if r != v:
            pair = (min(r, v), max(r, v))
            assert degree[v] >= size and degree[r] >= size
            assert pair in accepted and agree[pair] >= clustering.NEAR_AGREEMENT
            assert keys[r] < keys[v]
            assert rep[r] == r


@given(st.dictionaries(st.tuples(st.integers(0, 9), st.integers(0, 9)).filter(lambda p: p[0] < p[1]),
                       st.floats(0.0, 1.0), max_size=40),
       st.integers(1, 4), st.floats(0.0, 1.0))
def test_best_pairs_keeps_each_articles_best_passing_pairs_and_no_other(scored: dict[tuple[int, int], float],
                                                                        keep: int, floor: float) -> None:
    """pipeline.best_pairs: every pair it keeps passes the floor and is among the ``keep`` best of
    one of its articles; every article keeps its ``keep`` best passing pairs."""
    from dedup.pipeline import best_pairs

    n = 10
    pairs = sorted(scored)
    encoded = np.array([i * n + j for i, j in pairs], dtype=np.int64)
    got = {(int(e) // n, int(e) % n) for e in best_pairs(encoded, np.array([scored[p] for p in pairs]), n, floor, keep)}
    passing = [p for p in pairs if scored[p] >= floor]

    def best_of(article: int) -> list[tuple[int, int]]:
        mine = [p for p in passing if article in p]
        return sorted(mine, key=lambda p: (-scored[p], pairs.index(p)))[:keep]

    assert got == {p for article in range(n) for p in best_of(article)}
