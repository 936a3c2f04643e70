"""Unit tests, one stage at a time: normalise, prepare, boilerplate, fingerprint,
candidates, verify, cluster, canonical."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH

from dedup import Article, Config
from dedup.boilerplate import BoilerplateStats, strip
from dedup.candidates import bands, candidate_pairs, containment_bounds, screen_floor, sketches
from dedup.canonical import Candidate, choose
from dedup.cluster import Verdicts, cluster, components
from dedup.document import Doc, Prepared, prepare, strip_site_name
from dedup.fingerprint import (
    estimate_jaccard,
    minhash,
    permutations,
    present,
    segment_keys,
    shingle_hashes,
    signature_batch,
    signatures,
    to_minhash,
)
from dedup.normalise import normalise_text, segment_lines, split_segments, unwrap, words
from dedup.pipeline import find_duplicates, verify_pair
from dedup.reading import read_articles
from dedup.verify import MAX_ALIGNED_WORDS, Verdict, _verify, verify

DATA = Path(__file__).resolve().parent / "data"
SAMPLES = Path(__file__).resolve().parent.parent / "samples"
STORIES = {r["id"]: r for r in map(json.loads, (DATA / "reuters-stories.jsonl").read_text("utf-8").splitlines())}
CONFIG = Config()


def story(key: str) -> str:
    """A stored Reuters story as a web page shows it: headline, then one line per paragraph."""
    return STORIES[key]["title"] + "\n\n" + "\n".join(paragraphs(STORIES[key]["text"]))


def paragraphs(text: str) -> list[str]:
    """Reuters text is hard-wrapped; a paragraph starts with an indented line."""
    out: list[str] = []
    for line in text.splitlines():
        if line.startswith("   ") or not out:
            out.append(line.strip())
        else:
            out[-1] += " " + line.strip()
    return out


def doc(text: str, ident: str = "x", title: str | None = None, group: str = "") -> Doc:
    return strip(prepare(Article(id=ident, text=text, title=title, group=group)), None, CONFIG)


def w(text: str) -> list[str]:
    return words(normalise_text(text))


def check(a: str, b: str, config: Config = CONFIG) -> Verdict:
    """The verification stage alone, on the normalised words of two texts."""
    return verify(w(a), w(b), config)


def together(*articles: dict[str, str]) -> bool:
    """Whether the whole pipeline puts all the articles in one cluster."""
    result = find_duplicates(list(articles))
    return len({result.assignments[a["id"]].cluster for a in articles}) == 1


# ---------------------------------------------------------------- normalise

@pytest.mark.parametrize(("raw", "expected"), [
    # the Hamilton Spectator copy on the seed page
    ("Yevgeny Prigozhin , was killed", "Yevgeny Prigozhin, was killed"),
    ("by Wagner mercenaries and the army .", "by Wagner mercenaries and the army."),
    ("at our newsletter page .", "at our newsletter page."),
    ("\u2018Mission accomplished.\u2019", "'Mission accomplished.'"),
    ("\u201cMission accomplished,\u201d", '"Mission accomplished,"'),
    ("DAKAR, Senegal (AP) \u2014 The Russia-backed", "DAKAR, Senegal (AP) - The Russia-backed"),
    ("1987 -- the year", "1987 - the year"),
    ("5\u00a0pct", "5 pct"),
    ("state-\u00adcontrolled", "state-controlled"),
    ("zero\u200bwidth", "zerowidth"),
    ("\ufb01nance", "finance"),  # NFKC: the "fi" ligature
    ("two  spaces\tand a tab", "two spaces and a tab"),
])
def test_normalise_text(raw: str, expected: str) -> None:
    assert normalise_text(raw) == expected


def test_normalise_keeps_line_breaks_and_case() -> None:
    assert normalise_text("Title\n\nBody TEXT here .") == "Title\n\nBody TEXT here."


def test_the_seed_copies_normalise_to_the_same_words() -> None:
    hamilton = "But since the group's leader, Yevgeny Prigozhin , was killed in a plane crash"
    hill = "But since the group\u2019s leader, Yevgeny Prigozhin, was killed in a plane crash"
    assert words(normalise_text(hamilton)) == words(normalise_text(hill))


@pytest.mark.parametrize("key", sorted(STORIES))
def test_unwrap_joins_hard_wrapped_wire_copy_into_paragraphs(key: str) -> None:
    text = STORIES[key]["text"]
    body, _, last = text.rpartition("\n")
    signed = last.strip() == "REUTER"  # a sign-off line of its own, in some stories
    expected = [*paragraphs(body), "REUTER"] if signed else paragraphs(text)
    assert len(expected) >= 3
    assert [line.strip() for line in unwrap(text).splitlines() if line.strip()] == expected


# Invented pages of the kind synthetic corpora and scraped sites have: one paragraph per line,
# chrome lines stacked above the headline and below the story, all near one width.
STACKED_CHROME = (
    "THE VALLEY OBSERVER\n"
    "Home | Local | Business | Sports | Opinion | Obituaries\n"
    "Posted 12 minutes ago\n"
    "Harbor Savings Bank <hsb> 1st qtr net\n\n"
    "Shr 51 cts vs 40 cts\n\n"
    "Net 6,089,000 vs 5,310,000\n\n"
    "Have a news tip? Write to the newsroom at valleyobserver.test\n"
    "Sign up for our morning headlines, sent every weekday\n"
    "\u00a9 The Valley Observer. All rights reserved.\n"
)
LONG_PARAGRAPH = (
    "Port traffic rises for a third month as shippers avoid the southern canal route\n"
    "City Wire: the latest news from the city and the region, every hour\n"
    "Port traffic rises for a third month as shippers avoid the southern canal route\n"
    + "Traffic at the port rose for a third month in a row, the port authority said on Monday. " * 3
    + "\n"
)


@pytest.mark.parametrize("text", [STACKED_CHROME, LONG_PARAGRAPH], ids=["stacked-chrome", "long-paragraph"])
def test_unwrap_leaves_pages_with_a_paragraph_a_line_alone(text: str) -> None:
    assert unwrap(text) == text


def test_split_segments_cuts_lines_and_sentences() -> None:
    text = ("logo\n\nThe story ends here. Error! Sorry, there was an error processing your request. "
            "Want more of the latest from us? Sign up for more at our newsletter page.\n")
    assert split_segments(text) == [
        "logo", "The story ends here.", "Error!", "Sorry, there was an error processing your request.",
        "Want more of the latest from us?", "Sign up for more at our newsletter page.",
    ]


def test_a_headline_in_capitals_with_an_abbreviation_is_one_segment() -> None:
    """"ASSOC." ends no sentence in a headline in capitals; a text in capitals, or a line that
    ends a sentence, is still cut into sentences."""
    text = ("COMPUTER ASSOC. <CA> BOLSTERS HAND AGAINST IBM\n\nThe group said. It went.\n\n"
            "NET UP 3 PCT. SHR 3 CTS.")
    assert segment_lines(text) == [("COMPUTER ASSOC CA BOLSTERS HAND AGAINST IBM", True), ("The group said", False),
                                   ("It went", False), ("NET UP 3 PCT", False), ("SHR 3 CTS", False)]


def test_a_related_story_under_a_headline_with_an_abbreviation_is_cut_off() -> None:
    taft_title, taft = STORIES["reuters-2924"]["title"], paragraphs(STORIES["reuters-2924"]["text"])
    bonds = paragraphs(STORIES["reuters-3498"]["text"])
    page = "\n\n".join([taft_title, *taft[:2], "SOUTH KOREA GOVT. TO ISSUE BONDS", *bonds])
    stripped = doc(page, title=taft_title)
    assert "Korean" not in stripped.words and any("SOUTH KOREA GOVT" in r for r in stripped.removed)


def test_words_and_segment_keys() -> None:
    assert words("U.S. oil-output rose 5.2%") == ["U", "S", "oil", "output", "rose", "5", "2"]
    upper, lower, other = segment_keys(["DOWNLOAD THE APP", "download the app", "download our app"])
    assert upper == lower
    assert lower != other


# ---------------------------------------------------------------- prepare

def _flat(p: Prepared) -> list[str]:
    return [w for s in p.segments for w in s.words]


def test_prepare_puts_the_title_first_when_the_text_lacks_it() -> None:
    p = prepare(Article(id="r", text="Copper firmed on Tuesday.", title="Copper firms"))
    assert [list(s.words) for s in p.segments] == [["Copper", "firms"], ["Copper", "firmed", "on", "Tuesday"]]


def test_prepare_does_not_repeat_a_title_the_text_starts_with() -> None:
    p = prepare(Article(id="r", text="Copper firms\n\nCopper firmed on Tuesday.", title="Copper firms"))
    assert _flat(p) == ["Copper", "firms", "Copper", "firmed", "on", "Tuesday"]


def test_prepare_finds_the_title_under_an_update_prefix() -> None:
    text = "Peru to maintain silver sales freeze\n\nLIMA, April 24 - Energy and mines minister said..."
    p = prepare(Article(id="r", text=text, title="UPDATE 2-Peru to maintain silver sales freeze"))
    assert _flat(p)[:6] == ["Peru", "to", "maintain", "silver", "sales", "freeze"]
    assert "UPDATE" not in _flat(p)


def test_prepare_finds_the_title_after_chrome() -> None:
    """The Yahoo record on the seed page: source and time lines come before the headline."""
    record = json.loads((SAMPLES / "yahoo" / "wagner-group-leaving-mali.json").read_text("utf-8"))
    p = prepare(Article(id="y", text=record["text"], title=record["title"]))
    assert _flat(p)[:1] == ["Yahoo"]
    assert _flat(p).count("Wagner") == _flat(prepare(Article(id="y", text=record["text"]))).count("Wagner")


def _masthead_pages(folder: Path, keys: Sequence[str]) -> dict[str, str]:
    """Plain-text pages of one site, each opening with its name and tagline above the
    story's headline; their ids and true headlines."""
    (folder / "harbortimes").mkdir(parents=True, exist_ok=True)
    for key in keys:
        page = "HARBOR TIMES\nLocal news since 1891\n" + story(key)
        (folder / "harbortimes" / f"{key}.txt").write_text(page, "utf-8")
    return {f"harbortimes/{key}.txt": STORIES[key]["title"] for key in keys}


def test_a_sites_recurring_tagline_is_not_the_headline_of_its_pages(tmp_path: Path) -> None:
    """The first headline-like line of a plain-text page is its title, unless the site's other
    pages repeat it (a tagline, a masthead): the next such line is then the headline, in the
    report and for verification."""
    headlines = _masthead_pages(tmp_path, sorted(STORIES)[:4])
    articles = list(read_articles([str(tmp_path)], lambda problem: None))
    assert {a.title for a in articles} == {"Local news since 1891"}  # page by page, nothing tells
    result = find_duplicates(articles)
    assert {ident: item.title for ident, item in result.items.items()} == headlines
    stats = BoilerplateStats.build(prepare(a) for a in articles)
    for a in articles:
        stripped = strip(prepare(a), stats, CONFIG)
        assert stripped.title == headlines[a.id]
        assert stripped.head == len(w(headlines[a.id]))
        assert " ".join(stripped.words[:stripped.head]) == " ".join(w(headlines[a.id]))


def test_a_tagline_on_too_few_pages_stays_their_title(tmp_path: Path) -> None:
    """Two pages are too few to tell a tagline (boilerplate_min_docs is 3): the first
    headline-like line stays the title."""
    headlines = _masthead_pages(tmp_path, sorted(STORIES)[:2])
    result = find_duplicates(read_articles([str(tmp_path)], lambda problem: None))
    assert {item.title for item in result.items.values()} == {"Local news since 1891"}
    assert set(result.items) == set(headlines)


def test_prepare_drops_the_site_name_from_the_page_headline_line() -> None:
    """A page whose headline line repeats its branded <title> (as an <h1> often does)."""
    text = "Desptp Omc <DSO> 1st Qtr Net - WQXZ 101.5\n\nShr 54 cts vs 51 cts\nNet 2,151,000 vs 2,439,000"
    p = prepare(Article(id="w", text=text, title="Desptp Omc <DSO> 1st Qtr Net - WQXZ 101.5",
                        source="WQXZ NewsRadio", url="https://wqxz.example/1987/04/13/desptp"))
    assert _flat(p)[:7] == ["Desptp", "Omc", "DSO", "1st", "Qtr", "Net", "Shr"]


@pytest.mark.parametrize(("title", "source", "url", "expected"), [
    ("Copper firms in London \u2014 CRC", "Capital Region Courier", None, "Copper firms in London"),
    ("Copper firms in London - TBD News", "The Brief Daily", None, "Copper firms in London"),
    ("Copper firms in London - Hill Daily", None, "https://www.thehill.example/x",
     "Copper firms in London - Hill Daily"),
    ("Copper firms in London - thehill", None, "https://www.thehill.example/x", "Copper firms in London"),
    ("Copper firms - Capital", "Capital Region Courier", None, "Copper firms - Capital"),  # a 2-word headline stays
    ("Copper firms in London - analysts see more gains ahead", "Analysts Weekly", None,
     "Copper firms in London - analysts see more gains ahead"),  # a tail of 6 words is not a site name
    ("Copper firms in London - metals", "The Daily Ledger", "https://ledger.example/x",
     "Copper firms in London - metals"),
])
def test_strip_site_name(title: str, source: str | None, url: str | None, expected: str) -> None:
    assert strip_site_name(title, source, url) == expected


def test_pages_branding_their_headlines_differently_are_one_story() -> None:
    """A short template item (a results table) on two sites whose headline lines end in each
    site's short name: the names are not conflicting names of the story."""
    body = ("Shr 54 cts vs 51 cts\nNet 2,151,000 vs 2,439,000\nSales 90.3 mln vs 96.8 mln\n"
            "Avg shrs 3,960,000 vs 4,782,000")
    pages = [("wqxz", "Desptp Omc <DSO> 1st Qtr Net - WQXZ 101.5", "WQXZ NewsRadio"),
             ("crc", "Desptp omc <dso> 1st qtr net \u2014 CRC", "Capital Region Courier")]
    assert together(*({"id": ident, "title": title, "text": f"{title}\n\n{body}", "source": source}
                      for ident, title, source in pages))
    other = body.replace("54 cts", "45 cts").replace("2,151,000", "1,815,000")
    assert not together({"id": "a", "title": pages[0][1], "text": f"{pages[0][1]}\n\n{body}", "source": pages[0][2]},
                        {"id": "b", "title": pages[1][1], "text": f"{pages[1][1]}\n\n{other}", "source": pages[1][2]})


def test_prepare_is_the_same_for_typographic_variants() -> None:
    a = prepare(Article(id="a", text="\u201cNo,\u201d Miller said \u2014 firmly ."))
    b = prepare(Article(id="b", text='"No," Miller said - firmly.'))
    assert a.segments == b.segments


# ---------------------------------------------------------------- boilerplate

CHROME = ["DOWNLOAD THE APP", "Get Started Now: Download the App", "app-storeplay-store"]


def _site_articles(group: str, n: int, chrome: Sequence[str] = CHROME) -> list[Prepared]:
    keys = sorted(STORIES)
    return [prepare(Article(id=f"{group}/{k}", text="\n".join([story(k), *chrome]), group=group)) for k in keys[:n]]


def test_repeated_site_chrome_is_boilerplate() -> None:
    prepared = _site_articles("yahoo", 3)
    stats = BoilerplateStats.build(prepared)
    docs = [strip(p, stats, CONFIG) for p in prepared]
    for d, k in zip(docs, sorted(STORIES)):
        assert d.removed == ("DOWNLOAD THE APP", "Get Started Now Download the App", "app storeplay store")
        assert d.words == doc(story(k)).words  # exactly the story, as if it had no chrome


def test_chrome_seen_in_too_few_articles_is_not_boilerplate() -> None:
    prepared = _site_articles("yahoo", 2)  # boilerplate_min_docs is 3
    stats = BoilerplateStats.build(prepared)
    assert not any(stats.is_boilerplate("yahoo", s.key, CONFIG) for p in prepared for s in p.segments)


def test_a_story_carried_by_many_sources_is_not_boilerplate() -> None:
    """Counts are per source: the same text once each at three sites is a story, not chrome."""
    text = story("reuters-2110")
    prepared = [prepare(Article(id=f"{site}/x", text=text, group=site)) for site in ("a", "b", "c", "d")]
    stats = BoilerplateStats.build(prepared)
    assert not any(stats.is_boilerplate(p.group, s.key, CONFIG) for p in prepared for s in p.segments)
    assert all(strip(p, stats, CONFIG) == strip(p, None, CONFIG) for p in prepared)


def test_a_segment_is_counted_once_per_article() -> None:
    repeated = "Advertisement\n" * 5
    prepared = [prepare(Article(id=f"s/{n}", text=f"{repeated}Story number {n} of the day.", group="s"))
                for n in range(2)]
    stats = BoilerplateStats.build(prepared)
    assert stats.segments[("s", int(segment_keys(["Advertisement"])[0]))] == 2
    assert not stats.is_boilerplate("s", int(segment_keys(["Advertisement"])[0]), CONFIG)


def test_source_fraction_raises_the_bar_for_big_sources() -> None:
    config = Config(boilerplate_source_fraction=0.5)
    prepared = _site_articles("big", 6, chrome=[])
    extra = [prepare(Article(id=f"big/{n}", text=f"Brief number {n}.\nDOWNLOAD THE APP", group="big"))
             for n in range(3)]
    stats = BoilerplateStats.build(prepared + extra)
    key = int(segment_keys(["DOWNLOAD THE APP"])[0])
    assert not stats.is_boilerplate("big", key, config)  # 3 of 9 articles, under half
    assert stats.is_boilerplate("big", key, CONFIG)  # 3 of 9, over 1 %


def test_stripping_keeps_the_whole_text_when_too_little_would_remain() -> None:
    prepared = [prepare(Article(id=f"s/{n}", text="Sign up now\nDOWNLOAD THE APP\nShort brief.", group="s"))
                for n in range(3)]
    stats = BoilerplateStats.build(prepared)
    d = strip(prepared[0], stats, CONFIG)
    assert list(d.words) == ["Sign", "up", "now", "DOWNLOAD", "THE", "APP", "Short", "brief"]
    assert d.removed == ()


def test_stats_merge_like_one_batch() -> None:
    prepared = _site_articles("yahoo", 4) + _site_articles("hill", 3)
    whole = BoilerplateStats.build(prepared)
    merged = BoilerplateStats.build(prepared[:3])
    merged.update(BoilerplateStats.build(prepared[3:]))
    assert merged == whole
    compact = whole.compact(CONFIG)
    for p in prepared:
        assert strip(p, compact, CONFIG) == strip(p, whole, CONFIG)


# ---------------------------------------------------------------- fingerprint

TOKENS = [w.lower() for w in words(normalise_text(story("reuters-4441")))]


@pytest.mark.parametrize(("num_perm", "seed"), [(128, 1), (64, 7), (256, 42)])
def test_signatures_are_datasketch_minhashes(num_perm: int, seed: int) -> None:
    shingles = shingle_hashes(" ".join(TOKENS), 3)
    reference = MinHash(num_perm=num_perm, seed=seed, hashfunc=int)
    reference.update_batch(shingles.tolist())
    full, lead, _ = signatures(TOKENS, 3, 40, num_perm, seed)
    assert np.array_equal(full, reference.hashvalues)
    lead_reference = MinHash(num_perm=num_perm, seed=seed, hashfunc=int)
    lead_reference.update_batch(shingle_hashes(" ".join(TOKENS[:40]), 3).tolist())
    assert np.array_equal(lead, lead_reference.hashvalues)
    assert to_minhash(full, seed).jaccard(reference) == 1.0


def test_jaccard_estimate_agrees_with_datasketch() -> None:
    other = TOKENS[:200] + [w.lower() for w in words(normalise_text(story("reuters-2110")))]
    a = minhash(shingle_hashes(" ".join(TOKENS), 3), 128, 1)
    b = minhash(shingle_hashes(" ".join(other), 3), 128, 1)
    ma, mb = MinHash(num_perm=128, hashfunc=int), MinHash(num_perm=128, hashfunc=int)
    ma.update_batch(shingle_hashes(" ".join(TOKENS), 3).tolist())
    mb.update_batch(shingle_hashes(" ".join(other), 3).tolist())
    assert estimate_jaccard(a, b) == pytest.approx(ma.jaccard(mb))
    assert 0.2 < estimate_jaccard(a, b) < 0.6


def test_shingles() -> None:
    assert len(shingle_hashes("a b c d e", 3)) == 3
    assert len(shingle_hashes("a b", 3)) == 1  # a text shorter than a shingle is one shingle
    assert len(shingle_hashes("", 3)) == 0
    # a run of words hashes the same wherever it occurs
    assert shingle_hashes("a b c d e", 3)[1] == shingle_hashes("x b c d", 3)[1]
    assert shingle_hashes("a b c d e", 3)[0] != shingle_hashes("x b c d", 3)[0]
    assert shingle_hashes("ab c d", 3)[0] != shingle_hashes("a bc d", 3)[0]


def test_words_misread_by_ocr_shingle_as_the_words() -> None:
    """Letters OCR takes for one another (normalise.OCR_LETTERS) hash alike, so a scanned copy's
    misread words do not break its shingles; other words still differ."""
    clean = shingle_hashes("read the full modern article", 3)
    assert (shingle_hashes("rcad thc fu1l modcrn articlc", 3) == clean).all()
    assert not (shingle_hashes("read the fall modern article", 3) == clean).all()


def test_a_batch_fingerprints_each_text_as_if_alone() -> None:
    long = " ".join(TOKENS * 30)  # more shingles than one block of the signature array holds
    texts = [" ".join(TOKENS), "", "too short", " ".join(TOKENS[:30]), long, " ".join(TOKENS[100:]), "x"]
    texts += [" ".join(TOKENS[k:]) for k in range(0, 200, 10)]  # several blocks
    full, lead, passages = signature_batch(texts, 3, 40, 128, 1, 5, 22)
    for k, text in enumerate(texts):
        alone_full, alone_lead, alone_passages = signatures(text.split(), 3, 40, 128, 1, 5, 22)
        assert np.array_equal(full[k], alone_full)
        assert np.array_equal(lead[k], alone_lead)
        assert np.array_equal(passages[k], alone_passages)
        reference = MinHash(num_perm=128, hashfunc=int)
        reference.update_batch(shingle_hashes(text, 3).tolist())
        assert np.array_equal(full[k], reference.hashvalues)
        lead_reference = MinHash(num_perm=128, hashfunc=int)
        lead_reference.update_batch(shingle_hashes(" ".join(text.split()[:40]), 3).tolist())
        assert np.array_equal(lead[k], lead_reference.hashvalues)
    assert np.array_equal(full[1], MinHash(num_perm=128).hashvalues)  # empty


@pytest.mark.parametrize(("passage_tokens", "shingle_size"), [(22, 3), (10, 3), (7, 2), (5, 5)])
def test_passages_are_minhashes_of_overlapping_runs_of_the_opening(passage_tokens: int, shingle_size: int) -> None:
    """Passage k is the first half of the MinHash of the shingles starting at words
    [k * step, k * step + width); one that a text has less than half of is absent."""
    width = passage_tokens - shingle_size + 1
    step = max(1, width * 3 // 4)
    for n in (0, 2, 21, 40, 60, 61, 70, 400):  # words
        text = " ".join(TOKENS[:n])
        _, _, passages = signatures(text.split(), shingle_size, 40, 128, 1, 6, passage_tokens)
        assert passages.shape == (6, 64)
        shingles = shingle_hashes(text, shingle_size).tolist()
        for k in range(6):
            start = k * step
            if (k and len(shingles) <= start + width // 2) or not shingles:
                assert not present(passages[k]), (n, k)
                continue
            reference = MinHash(num_perm=128, hashfunc=int)
            reference.update_batch(shingles[start:start + width])
            assert present(passages[k])
            assert np.array_equal(passages[k], reference.hashvalues[:64]), (n, k)


def test_empty_text_signature_is_datasketch_empty() -> None:
    assert np.array_equal(minhash(shingle_hashes("", 3), 128, 1), MinHash(num_perm=128).hashvalues)


# ---------------------------------------------------------------- candidates

def _sigs(texts: Sequence[str], config: Config = CONFIG) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    full, lead, passages = [], [], []
    for t in texts:
        f, ld, ps = signatures(doc(t).tokens, config.shingle_size, config.lead_tokens, config.num_perm, config.seed,
                               config.passages, config.passage_tokens)
        full.append(f)
        lead.append(ld)
        passages.append(ps)
    return full, lead, np.array(passages)


def test_candidates_find_copies_and_truncated_copies_only() -> None:
    full_text = story("reuters-4441")
    paras = paragraphs(STORIES["reuters-4441"]["text"])
    texts = [
        full_text,
        "Farm Credit News\n" + full_text.replace("900 mln", "900 million") + "\nSubscribe to our newsletter",
        STORIES["reuters-4441"]["title"] + "\n" + "\n".join(paras[:2]) + "\nRead more",
        story("reuters-2110"),
        story("reuters-9134"),
    ]
    full, lead, passages = _sigs(texts)
    pairs = candidate_pairs(full, lead, CONFIG, passages)
    assert {(0, 1), (0, 2), (1, 2)} <= pairs
    assert not any(3 in p or 4 in p for p in pairs)


def test_passages_find_a_short_write_thru_the_lead_and_whole_text_miss() -> None:
    """A copy cut to two sentences under a new lead: its lead is the new lead, its whole text a
    fraction of the story's; a passage past the new lead is the story's first."""
    key = "reuters-4441"
    body = " ".join(paragraphs(STORIES[key]["text"])).split()
    new_lead = " ".join(words(normalise_text(story("reuters-2110")))[:40])  # 40 words of something else
    texts = [story(key), STORIES[key]["title"] + "\n\n" + new_lead + "\n" + " ".join(body[:32]),
             story("reuters-9134")]
    full, lead, passages = _sigs(texts)
    assert (0, 1) not in candidate_pairs(full, lead, CONFIG)
    assert (0, 1) in candidate_pairs(full, lead, CONFIG, passages)
    assert candidate_pairs(full, lead, CONFIG, passages) == {(0, 1)}
    assert (0, 1) not in candidate_pairs(full, lead, CONFIG.replace(passages=0), passages)


def _variants(seed: int) -> list[list[str]]:
    """Word lists at many levels of similarity to each other."""
    rng = random.Random(seed)
    base = [w.lower() for k in sorted(STORIES) for w in words(STORIES[k]["text"])]
    out = []
    for n in range(30):
        start = rng.randrange(0, len(base) - 300)
        text = base[start:start + 200]
        for _ in range(rng.randrange(0, 60)):
            text[rng.randrange(len(text))] = rng.choice(base)
        out.append(text)
        if n % 3 == 0:
            out.append(text[rng.randrange(0, 40):])
    return out


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.8])
def test_candidates_are_datasketch_lsh_candidates(threshold: float) -> None:
    config = Config(lsh_threshold=threshold, lead_lsh_threshold=threshold)
    sigs = [minhash(shingle_hashes(" ".join(t), 3), config.num_perm, config.seed) for t in _variants(5)]
    lsh = MinHashLSH(threshold=threshold, num_perm=config.num_perm)
    for i, s in enumerate(sigs):
        lsh.insert(i, to_minhash(s, config.seed))
    expected = {(min(i, j), max(i, j)) for i, s in enumerate(sigs) for j in lsh.query(to_minhash(s, config.seed))
                if i != j}
    assert candidate_pairs(sigs, sigs, config) == expected
    assert expected  # the variants do collide


@pytest.mark.parametrize("num_perm", [16, 64, 100, 128, 256])
def test_bands_are_the_ones_datasketch_picks(num_perm: int) -> None:
    """candidates.bands works out MinHashLSH's (b, r) without importing datasketch: the same choice."""
    for threshold in [0.05, 0.1, 0.2, 0.25, 0.3, 0.33, 0.4, 0.45, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 0.95]:
        try:
            lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        except ValueError:  # a single band
            with pytest.raises(ValueError):
                bands(threshold, num_perm)
            continue
        assert bands(threshold, num_perm) == (lsh.b, lsh.r), (threshold, num_perm)


def test_bands_reject_impossible_settings() -> None:
    for threshold, num_perm in [(1.5, 128), (-0.1, 128), (0.5, 1), (0.95, 8)]:
        with pytest.raises(ValueError):
            bands(threshold, num_perm)


@pytest.mark.parametrize(("num_perm", "seed"), [(128, 1), (64, 7), (256, 42), (1, 0)])
def test_permutations_are_datasketchs(num_perm: int, seed: int) -> None:
    a, b = permutations(num_perm, seed)
    expected = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    assert a.dtype == b.dtype == np.uint32
    assert np.array_equal(a, expected[0]) and np.array_equal(b, expected[1])


def test_containment_bound_holds_for_at_least_999_pairs_in_1000() -> None:
    """The screening bound is an upper confidence bound: over many pairs of sets with known
    containment, it falls below the true value about once in 1,000 (never more than 5 in 2,000)."""
    rng = np.random.default_rng(7)
    below = 0
    trials = 2000
    for k in range(trials):
        small, large = int(rng.integers(20, 400)), int(rng.integers(400, 1200))
        contained = float(rng.uniform(0.2, 0.9))
        shared = int(small * contained)
        pool = rng.choice(1 << 31, size=small + large, replace=False).astype(np.uint32)
        a = pool[:small]
        b = np.concatenate((a[:shared], pool[small:small + large - shared]))
        sig_a, sig_b = minhash(a, CONFIG.num_perm, k), minhash(b, CONFIG.num_perm, k)
        agree = sketches(sig_a) == sketches(sig_b)
        bound = containment_bounds(np.array([agree.sum()]), np.array([small]), np.array([large]), CONFIG.num_perm)
        below += int(bound[0] < shared / small)
    assert below <= 5


def test_containment_bound_of_copies_and_strangers() -> None:
    agree = np.array([128, 64, 0])
    bound = containment_bounds(agree, np.array([300, 300, 300]), np.array([300, 300, 300]), 128)
    assert bound[0] == 1.0
    assert 0.6 < bound[1] < 1.0
    assert bound[2] < 0.15 < screen_floor(CONFIG)
    # An excerpt: few values agree with a long story, yet its whole text may be in it.
    assert containment_bounds(np.array([6]), np.array([40]), np.array([600]), 128)[0] > 0.9


def test_screen_floor_follows_the_verification_thresholds() -> None:
    assert screen_floor(CONFIG) == pytest.approx(0.36)
    assert screen_floor(CONFIG.replace(containment_threshold=0.4)) == pytest.approx(0.24)
    assert screen_floor(CONFIG.replace(shingle_size=5)) == pytest.approx(0.36 * 3 / 5)
    assert screen_floor(CONFIG.replace(screen_fraction=0.0)) == 0.0


def _shared_lead_corpus() -> list[dict[str, str]]:
    """Each stored story with its copies (chrome, a truncated excerpt) and, as hard
    negatives, pages that open with its lead and go on with something else (sentences
    of all the stories, shuffled)."""
    rng = random.Random(3)
    sentences = [s for key in sorted(STORIES) for p in paragraphs(STORIES[key]["text"])[1:] for s in p.split(". ")]
    out = []
    for key in sorted(STORIES):
        paras = paragraphs(STORIES[key]["text"])
        other = [". ".join(rng.sample(sentences, 3)) for _ in range(6)]
        title = STORIES[key]["title"]
        out += [
            {"id": f"wire/{key}", "text": story(key)},
            {"id": f"ledger/{key}", "text": "Daily Ledger\n" + story(key) + "\nShare this story"},
            {"id": f"digest/{key}", "text": title + "\n" + "\n".join(paras[:2]) + "\nRead more"},
            {"id": f"gazette/{key}", "text": title + "\n" + paras[0] + "\n" + "\n".join(other)},
        ]
    return out


def test_a_dropped_duplicate_id_leaves_the_other_articles_stripped_as_without_it() -> None:
    """The read pass spools segment texts and segment keys side by side; a later copy of an id is
    dropped from both, so every other article is stripped and matched as if it had not been there."""
    chrome = ["Harbor Times", "Subscribe to the Harbor Times newsletter for the morning briefing",
              "Share this story with your friends and family"]
    keys = sorted(STORIES)[:8]
    articles = [{"id": f"harbor/{key}", "source": "Harbor Times",
                 "text": "\n\n".join([chrome[0], STORIES[key]["title"], *paragraphs(STORIES[key]["text"]),
                                       *chrome[1:]])} for key in keys]
    articles += [{"id": f"wire/{key}", "source": "Wire", "title": STORIES[key]["title"],
                  "text": STORIES[key]["text"]} for key in keys]
    copy = {"id": "harbor/" + keys[0], "source": "Harbor Times",
            "text": "\n\n".join(f"Another line number {k} of a page that reuses an id." for k in range(40))}
    with_copy = [*articles[:3], copy, *articles[3:]]
    for jobs in (1, 2):
        plain, dropped = find_duplicates(articles, jobs=jobs), find_duplicates(with_copy, jobs=jobs)
        assert [p.reason for p in dropped.problems] == ["duplicate id, later copy skipped"]
        assert dropped.assignments == plain.assignments and dropped.clusters == plain.clusters
        assert plain.duplicates == len(keys)  # each Harbor Times page, chrome stripped, joins its wire story


def test_screen_option_of_the_cli(tmp_path: Path) -> None:
    """``dedup scan --screen 0`` verifies every candidate; the default screens, with the same clusters."""
    from click.testing import CliRunner

    from dedup.cli import cli

    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(a) + "\n" for a in _shared_lead_corpus()), encoding="utf-8")
    reports = {}
    for screen in ("0.6", "0"):
        result = CliRunner().invoke(cli, ["scan", str(feed), "--format", "json", "--screen", screen, "-q"],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        reports[screen] = json.loads(result.stdout)
    assert reports["0"]["settings"]["screen_fraction"] == 0.0 and reports["0"]["counts"]["pairs_screened"] == 0
    assert reports["0.6"]["settings"]["screen_fraction"] == 0.6 and reports["0.6"]["counts"]["pairs_screened"] > 0
    assert reports["0.6"]["clusters"] == reports["0"]["clusters"]
    bad = CliRunner().invoke(cli, ["scan", str(feed), "--screen", "1.5"])
    assert bad.exit_code == 2 and "--screen" in bad.output and "Traceback" not in bad.output


def test_screening_drops_candidates_but_no_copy() -> None:
    articles = _shared_lead_corpus()
    screened = find_duplicates(articles)
    unscreened = find_duplicates(articles, CONFIG.replace(screen_fraction=0.0))
    assert screened.assignments == unscreened.assignments
    assert screened.pairs_screened > 0 and unscreened.pairs_screened == 0
    assert screened.pairs_checked < unscreened.pairs_checked
    for key in STORIES:  # one cluster per story: its copies, not the page that only shares its lead
        canonical = screened.canonical_of(f"wire/{key}")
        assert screened.canonical_of(f"ledger/{key}") == screened.canonical_of(f"digest/{key}") == canonical
        assert screened.canonical_of(f"gazette/{key}") != canonical



@pytest.mark.parametrize("config", [CONFIG, CONFIG.replace(num_perm=256, shingle_size=4), CONFIG.replace(num_perm=96)])
def test_screening_is_the_same_in_worker_processes(config: Config) -> None:
    articles = _shared_lead_corpus()
    one, two = find_duplicates(articles, config), find_duplicates(articles, config, jobs=2)
    assert one.assignments == two.assignments
    assert one.pairs_screened == two.pairs_screened > 0
    assert one.pairs_checked == two.pairs_checked



def test_a_pair_is_screened_once_and_counted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A candidate screened out is not screened again when clustering checks its component."""
    from dedup import pipeline

    screened: list[int] = []
    verify_pass = pipeline._pass_verify

    def recording(task: tuple[np.ndarray, int, bool]) -> list[tuple[bool, float] | None]:
        verdicts = verify_pass(task)
        screened.extend(int(k) for k, v in zip(task[0].tolist(), verdicts) if v is None)
        return verdicts

    monkeypatch.setattr(pipeline, "_pass_verify", recording)
    articles = _shared_lead_corpus()
    # A teaser (headline and lead) is contained in both the story and the page that goes on with
    # something else: the three are one component, whose pairs clustering checks again.
    for key in sorted(STORIES):
        lead = paragraphs(STORIES[key]["text"])[0]
        articles.append({"id": f"teaser/{key}", "text": STORIES[key]["title"] + "\n" + lead})
    result = find_duplicates(articles)
    assert screened and len(screened) == len(set(screened)) == result.pairs_screened


# ---------------------------------------------------------------- verify

def test_truncated_copy_is_contained() -> None:
    text = STORIES["reuters-4441"]["text"]
    excerpt = (STORIES["reuters-4441"]["title"] + "\n" + "\n".join(paragraphs(text)[:3])
               + "\nRead more: U.S. farm credit loss put at 900 mln in 1st half")
    v = check(excerpt, story("reuters-4441"))
    assert v.match and v.measure == "containment"
    assert v.containment >= CONFIG.containment_threshold
    assert v.overlap < CONFIG.overlap_threshold  # judged on overlap alone it would fail
    assert (v.start_a, v.start_b) == (0, 0)


def test_page_carrying_a_story_in_a_related_block_is_not_a_copy() -> None:
    """As on the seed page: the page's own story first, then other stories in full."""
    page = "\n".join([story("reuters-9134"), "Related Articles", story("reuters-2924"), story("reuters-4441")])
    v = check(story("reuters-4441"), page)
    assert not v.match
    assert v.containment > 0.95  # wholly there...
    assert v.start_b > CONFIG.lead_slack  # ...but only further down
    assert v.overlap < CONFIG.overlap_threshold


def test_related_block_page_stays_apart_through_the_pipeline() -> None:
    page = "\n".join([story("reuters-9134"), "Related Articles", story("reuters-2924"), story("reuters-4441")])
    assert not together({"id": "page", "text": page, "source": "Tokyo Daily"},
                        {"id": "story", "text": story("reuters-4441"), "source": "Reuters"})
    assert together({"id": "page", "text": page, "source": "Tokyo Daily"},
                    {"id": "own", "text": story("reuters-9134"), "source": "Reuters"})


def test_short_page_carrying_a_longer_related_story_stays_apart() -> None:
    """The carried story is most of this page (~80 %, over the overlap threshold)."""
    page = "\n".join([story("reuters-3498"), "Related Articles", story("reuters-4441")])
    assert check(story("reuters-4441"), page).overlap > CONFIG.overlap_threshold
    assert not together({"id": "page", "text": page, "source": "Seoul Wire"},
                        {"id": "story", "text": story("reuters-4441"), "source": "Reuters"})


def test_write_thru_with_a_new_lead_matches_on_overlap() -> None:
    paras = paragraphs(STORIES["reuters-4441"]["text"])
    new_lead = ("Lawmakers were told on Thursday that the cooperative lending network "
                "serving American growers faces steep losses in coming months, and that Congress should move "
                "quickly on legislation to shore it up before spring planting begins.")
    rewrite = "\n".join([new_lead, *paras[1:]])
    v = check("\n".join(paras), rewrite)
    assert v.match and v.measure == "overlap"
    assert max(v.start_a, v.start_b) > CONFIG.lead_slack


FARM_LEAD = ("Lawmakers were told on Thursday that the cooperative lending network serving American growers "
             "faces steep losses in coming months, and that Congress should move quickly on legislation.")


def test_a_truncated_write_thru_is_contained_but_for_its_new_lead() -> None:
    """The write-thru's teaser: headline, new lead, the story's first paragraph; the new lead
    (more than a quarter of it) is not counted against its containment in the full story."""
    title, paras = STORIES["reuters-4441"]["title"], paragraphs(STORIES["reuters-4441"]["text"])
    full = "\n\n".join([title, *paras])
    teaser = "\n\n".join([title, FARM_LEAD, paras[0]])
    v = check(teaser, full)
    assert v.match and v.measure == "containment" and "new lead" in v.reason
    assert len(w(FARM_LEAD)) > 0.25 * len(w(teaser))


def test_a_truncated_write_thru_whose_story_starts_with_words_run_together() -> None:
    """As above, with the story's first words run together in the teaser ("The portof
    Philadelphiawas", a scrape or OCR that lost spaces): the alignment resumes a few words
    later in both texts, and those words are the story's, not the new lead's."""
    title, paras = STORIES["reuters-4441"]["title"], paragraphs(STORIES["reuters-4441"]["text"])
    paras[0] = paras[0].split(" - ", 1)[1]  # no dateline: "A member of the board which regulates ..."
    full = "\n\n".join([title, *paras])
    first = paras[0].split()
    run_together = " ".join([first[0] + first[1], first[2] + first[3] + first[4], *first[5:]])
    teaser = "\n\n".join([title, FARM_LEAD, run_together])
    v = check(teaser, full)
    assert v.match and v.measure == "containment" and "new lead" in v.reason
    other = "\n\n".join([title, FARM_LEAD, " ".join(["Grain", "traders", "said", *first[5:]])])
    assert "new lead" not in check(other, full).reason  # other words before the shared run: no new lead


def test_a_write_thru_cut_in_its_first_paragraph_is_contained_but_for_its_new_lead() -> None:
    """Cut after a few words of the story: the new lead is more than half of the copy, but no
    longer than a lead paragraph, and still not counted against its containment."""
    title, paras = STORIES["reuters-4441"]["title"], paragraphs(STORIES["reuters-4441"]["text"])
    lead = ("Senators heard on Thursday that growers across the Midwest could see their cooperative credit "
            "network buckle within months unless Congress acts, a warning that lobbyists said would shape "
            "spring talks over rescue legislation.")
    cut = "\n\n".join([title, lead, " ".join(paras[0].split()[:18])])
    assert 0.5 * len(w(cut)) < len(w(lead)) <= 50
    v = check(cut, "\n\n".join([title, *paras]))
    assert v.match and v.measure == "containment" and "new lead" in v.reason


def test_a_copy_without_headline_of_a_write_thru_starts_within_the_slack_under_its_headline() -> None:
    """The write-thru's headline (12 words) and new lead (20) come before the shared text: 32
    words from the top, but 20 under the headline, within ``lead_slack``; a copy without
    headline of the story's first paragraphs is contained in it, not carried further down."""
    title, paras = STORIES["reuters-4441"]["title"], paragraphs(STORIES["reuters-4441"]["text"])
    lead = ("Lawmakers heard on Thursday that the cooperative lending network serving American growers "
            "faces very steep losses in the coming months.")
    write_thru = doc("\n\n".join([title, lead, *paras]), title=title)
    copy = doc("\n\n".join(paras[:2]))
    assert (len(w(title)), len(w(lead)), copy.head) == (12, 20, 0)
    v = verify_pair(copy, write_thru, None, None, CONFIG)
    assert v.match and v.measure == "containment"
    assert v.start_b > CONFIG.lead_slack  # from the top of the page


def test_a_write_thru_without_headline_holds_the_teaser_under_its_new_lead() -> None:
    """A feed that lost the write-thru's headline: its page opens with the new lead (over
    ``lead_slack`` words, no longer than a lead paragraph), then the story. The story's teaser,
    under its headline, is a copy of it. The same story under a whole other story (more than a
    lead paragraph) is carried further down that page, not a copy; and so is it under a
    headline of its own (the block may then be another story's lead, the story a third one)."""
    title, paras = STORIES["reuters-4441"]["title"], paragraphs(STORIES["reuters-4441"]["text"])
    lead = FARM_LEAD + " Lenders said the warning would weigh on talks over a rescue bill this spring."
    teaser = doc("\n\n".join([title, paras[0]]), title=title)
    write_thru = doc("\n\n".join([lead, *paras]))
    assert write_thru.head == 0 and CONFIG.lead_slack < len(w(lead)) <= 50
    v = verify_pair(teaser, write_thru, None, None, CONFIG)
    assert v.match and "under a new lead" in v.reason
    other = " ".join(paragraphs(STORIES["reuters-2110"]["text"])[:3])
    assert len(w(other)) > 50
    carried = verify_pair(teaser, doc("\n\n".join([other, *paras])), None, None, CONFIG)
    assert not carried.match
    headed = "SOUTH KOREA TO ISSUE EXCHANGE EQUALISATION BONDS"
    under_headline = verify_pair(teaser, doc("\n\n".join([headed, lead, *paras]), title=headed), None, None, CONFIG)
    assert "under a new lead" not in under_headline.reason


def test_a_copy_whose_headline_starts_like_the_story_is_not_carried_by_a_write_thru() -> None:
    """The copy's headline opens with the story's first words ("Brazilian Finance Minister
    meets ..." over "Brazilian Finance Minister Dilson Funaro met ..."), and the alignment
    starts there: the shared text starts in that headline, but the headline is not shared
    whole, so the write-thru (a new lead of 30 words, no headline) does not carry the copy."""
    story = w(" ".join(paragraphs(STORIES["reuters-3498"]["text"])[:3]))
    lead = w("Knight-Ridder Inc said its cable joint venture with Tele-communications Inc has signed a letter "
             "of intent to acquire cable television systems with 55,000 basic subscribers in Wildwood")
    headline = [*story[:3], "Floats", "Bonds"]
    write_thru, copy = lead + story, headline + story[3:]
    v = verify(write_thru, copy, CONFIG, 0, len(headline))
    assert (v.start_a, v.start_b) == (len(lead), 0)  # the shared text starts in the copy's headline
    assert v.match and v.measure == "overlap", v.reason


def test_a_teaser_without_headline_over_a_related_story_is_cut_before_it() -> None:
    """A one-sentence teaser with no headline (its first line reads as text, and is no longer
    than a headline can be) and a related story below it, under that story's headline: the
    teaser's text starts at its first line, so the related story is cut off as on any page."""
    bonds_title, bonds = STORIES["reuters-3498"]["title"], paragraphs(STORIES["reuters-3498"]["text"])
    first = "Taft Broadcasting Co may sell its entertainment group, one of its investors said."
    teaser = "\n\n".join([first, bonds_title, *bonds])  # (a read-more line between: boilerplate, stripped)
    stripped = doc(teaser)
    assert stripped.words[:3] == ("Taft", "Broadcasting", "Co")
    assert "Korea" not in stripped.words and "Korea" in " ".join(stripped.removed)
    with_title = doc(teaser, title="Taft May Sell Entertainment Arm")  # a title: the first line may be a subhead
    assert with_title.words[:4] == ("Taft", "May", "Sell", "Entertainment")


@pytest.mark.parametrize("bonds_title", ["SOUTH KOREA TO ISSUE EXCHANGE EQUALISATION BONDS",
                                         "SOUTH KOREA BIDDERS WOULD ISSUE EQUALISATION BONDS",
                                         "SOUTH KOREA TO ISSUE BONDS IN 1987/88"])
def test_a_teaser_is_no_copy_of_a_write_thru_that_took_its_lead(bonds_title: str) -> None:
    """Another story (South Korea's bonds) took the Taft story's first paragraph as its new lead:
    the Taft story's teaser shares that paragraph only, under a headline with no word in common,
    or with a word in common ("bidders") that, unlike the teaser's "Taft", is not in that lead.
    A fiscal year ("1987/88", two numbers once tokenised) is one figure: the headline is no table row."""
    taft_title, taft = STORIES["reuters-2924"]["title"], paragraphs(STORIES["reuters-2924"]["text"])
    bonds = paragraphs(STORIES["reuters-3498"]["text"])
    teaser = "\n\n".join([taft_title.title(), taft[0]])
    write_thru = "\n\n".join([bonds_title, taft[0], *bonds])
    v = verify_pair(doc(teaser, title=taft_title.title()), doc(write_thru, title=bonds_title), None, None, CONFIG)
    assert not v.match and v.measure == "headlines"
    assert v.containment >= CONFIG.containment_threshold  # containment alone would take it


@pytest.mark.parametrize("headline", ["TAFT<TFB> BIDDERS WOULD SELL ENTERTAINMENT UNIT",
                                      "Investors in Taft buyout plan to sell its entertainment arm"])
def test_a_teaser_under_its_own_or_a_rewritten_headline_is_a_copy(headline: str) -> None:
    taft_title, taft = STORIES["reuters-2924"]["title"], paragraphs(STORIES["reuters-2924"]["text"])
    teaser = "\n\n".join([headline, taft[0]])
    full = "\n\n".join([taft_title, *taft])
    v = verify_pair(doc(teaser, title=headline), doc(full, title=taft_title), None, None, CONFIG)
    assert v.match and v.measure == "containment"


def test_a_copy_without_title_opening_with_a_write_thru_lead_has_no_headline() -> None:
    """Its first line, a sentence of the new lead, is no headline: the rule on two headlines
    does not apply, and the copy matches the story's page by overlap."""
    taft_title, taft = STORIES["reuters-2924"]["title"], paragraphs(STORIES["reuters-2924"]["text"])
    lead = "Wickes Cos Inc said it has completed the purchase of Dura Corp for an undisclosed amount."
    untitled = doc("\n\n".join([lead, *taft]))
    assert untitled.head == 0
    v = verify_pair(untitled, doc("\n\n".join([taft_title, *taft]), title=taft_title), None, None, CONFIG)
    assert v.match


@pytest.mark.parametrize("layout", ["block-after-the-shared-paragraph", "block-over-half-the-text"])
def test_an_unshared_block_elsewhere_or_too_long_is_not_a_new_lead(layout: str) -> None:
    title, paras = STORIES["reuters-4441"]["title"], paragraphs(STORIES["reuters-4441"]["text"])
    own = paragraphs(STORIES["reuters-2110"]["text"])  # another story's paragraphs
    if layout == "block-after-the-shared-paragraph":
        page = "\n\n".join([title, paras[0], own[0]])
    else:
        page = "\n\n".join([title, *own[:3], paras[0]])
    v = check(page, "\n\n".join([title, *paras]))
    assert not v.match and "new lead" not in v.reason


def test_a_copy_without_headline_is_not_taken_for_a_story_carried_below_a_write_thru() -> None:
    """The scan's first sentence is longer than any headline: it is no headline, so the
    write-thru's new lead above the shared text does not make the scan a carried story."""
    paras = paragraphs(STORIES["reuters-4441"]["text"])
    new_lead = ("Lawmakers were told on Thursday that the cooperative lending network "
                "serving American growers faces steep losses in coming months, and that Congress should move "
                "quickly on legislation to shore it up before spring planting begins.")
    scan = "\n\n".join(paras).replace("A member of the board which", "A membcr of thc board whlch", 1)
    assert scan != "\n\n".join(paras)
    write_thru = {"id": "web", "title": "Farm lenders face steep losses, Congress is told",
                  "text": "\n\n".join([new_lead, *paras])}
    v = verify_pair(doc(scan), doc(write_thru["text"], title=write_thru["title"]), None, None, CONFIG)
    assert v.match and v.measure == "overlap"
    assert together({"id": "scan", "text": scan}, write_thru)


KEMPER = ("KEMPER CORP <KEMC> REGULAR PAYOUT SET\n\nLONG GROVE, ILL., March 5 - Qtly div 15 cts vs 15 cts "
          "previously\n    Pay May 29\n    Record May Eight")
WALLACE = ("WALLACE COMPUTER SERVICES INC <WCS> DIVIDEND\n\nHILLSIDE, ILL., March 11 - Qtly div 15 cts vs 15 cts "
           "previously\n    Pay June 19\n    Record June One")
TELECREDIT = ("TELECREDIT INC <TCRD> 3RD QTR JAN 31 NET\n\nLOS ANGELES, March 2 - Shr 32 cts vs 22 cts\n"
              "Net 3,454,000 vs 2,224,000\nRevs 33.2 mln vs 28.1 mln\nNine mths\nShr 64 cts vs 38 cts\n"
              "Net 6,935,000 vs 3,877,000\nRevs 86.8 mln vs 70.9 mln")
SYSTEMATICS = ("SYSTEMATICS INC <SYST> 3RD QTR FEB 28 NET\n\nLITTLE ROCK, Ark., March 17 - Shr 33 cts vs 27 cts\n"
               "Net 3,588,000 vs 2,981,000\nRevs 37.8 mln vs 31.6 mln\nNine mths\nShr 72 cts vs 76 cts\n"
               "Net 7,843,000 vs 8,344,000\nRevs 103.3 mln vs 90.8 mln")


@pytest.mark.parametrize(("a", "b"), [(KEMPER, WALLACE), (TELECREDIT, SYSTEMATICS)], ids=["dividends", "earnings"])
def test_template_items_of_different_companies_conflict(a: str, b: str) -> None:
    v = check(a, b)
    assert not v.match
    assert v.conflicts >= 1


def test_same_payout_with_another_date_conflicts() -> None:
    """Same company, same words, another pay date: not the same notice."""
    v = check(KEMPER, KEMPER.replace("Pay May 29", "Pay June 19"))
    assert not v.match and v.measure == "conflict"


# Reuters-21578's FNMA notice of March 4, 1987: a web copy with its headline, and a scanned
# copy without one whose first words the scan misspelt ("Fedcra1", as OCR reads "e" and "l").
FNMA_WEB = ("FNMA CLARIFIES CURRENT DEBT OFFERING STATUS\n\nThe Federal National Mortgage Association said "
            "it wanted to clarify the status of yesterday's offering of one billion dlrs of debentures, due "
            "March 10, 1992.\n\nIt said the offering was a new issue and not a reopening as stated yesterday.")
FNMA_SCAN = ("The Fedcra1 National Mortgage Association said it wanted to clarify thc status of yesterday's "
             "offering of one billion dlrs of debentures, due March 10, 1992.\n\nIt said the offering wasa "
             "new issue and not a reopening as stated yesterday.")


def test_misspelt_first_words_of_a_copy_without_headline_are_no_conflict() -> None:
    v = check(FNMA_SCAN, FNMA_WEB)
    assert v.match and v.conflicts == 0
    assert v.shared < CONFIG.conflict_every  # no conflict would be tolerated


def test_another_name_opening_a_copy_without_headline_conflicts() -> None:
    other = FNMA_SCAN.replace("The Fedcra1 National Mortgage Association", "Kemper Financial Services Inc")
    v = check(other, FNMA_WEB)
    assert not v.match and v.measure == "conflict"


# An invented results table, and a scan of it: a letter read as a digit ("pr0ceeds") and a figure
# run into its unit ("6.57billion"); both sides still hold 6.57 billion.
RESULTS = ("NORTHERN OIL LTD YEAR 1986\n\nSales proceeds 6.57 billion stg vs 8.97 billion\n"
           "Net profit 757 mln stg vs 1.01 billion\nCapital spending 1.21 billion vs 1.57 billion")
RESULTS_SCAN = RESULTS.replace("proceeds 6.57 billion", "pr0ceeds 6.57billion")


def test_a_figure_misread_by_a_scan_is_no_conflict() -> None:
    v = check(RESULTS_SCAN, RESULTS)
    assert v.match and v.conflicts == 0


# An invented acquisition notice, and a scan that read "Chubb" as "Cbnbb" (h as b, u as n).
BUYOUT = ("CHUBB COMPLETES SOVEREIGN BUYOUT\n\nChubb Corp said it completed its acquisition of Sovereign "
          "Corp for about 120 mln dlrs in cash.\nChubb said Sovereign will be run as a unit of its "
          "insurance group.")
BUYOUT_SCAN = BUYOUT.replace("Chubb Corp said", "Cbnbb Corp said")


def test_a_name_misread_by_a_scan_is_no_conflict() -> None:
    v = check(BUYOUT_SCAN, BUYOUT)
    assert v.match and v.conflicts == 0


def test_another_company_in_a_scan_still_conflicts() -> None:
    v = check(BUYOUT.replace("Chubb Corp said", "Kemper Corp said"), BUYOUT)
    assert v.conflicts == 1


def test_a_changed_figure_in_a_scan_still_conflicts() -> None:
    v = check(RESULTS_SCAN.replace("6.57billion", "6.75billion"), RESULTS)
    assert not v.match and v.measure == "conflict"


@pytest.mark.parametrize("item", [KEMPER, TELECREDIT], ids=["dividend", "earnings"])
def test_a_refiled_template_item_matches(item: str) -> None:
    v = check(item, "REFILE-" + item.replace(" - ", " -- "))
    assert v.match


def test_one_corrected_figure_in_a_long_story_is_tolerated() -> None:
    text = story("reuters-4441")
    corrected = text.replace("about 900 mln dlrs", "about 950 mln dlrs")
    assert corrected != text
    v = check(text, corrected)
    assert v.match
    assert v.conflicts == 1


def test_different_stories_do_not_match() -> None:
    v = check(story("reuters-4441"), story("reuters-2110"))
    assert not v.match


def test_empty_text_never_matches() -> None:
    assert not verify([], w(story("reuters-2110")), CONFIG).match
    assert not verify([], [], CONFIG).match


PAIRS = [
    (story("reuters-4441"), "Farm news\n" + story("reuters-4441")),
    (story("reuters-4441"), "\n".join(paragraphs(STORIES["reuters-4441"]["text"])[:3])),
    (KEMPER, WALLACE),
    (TELECREDIT, SYSTEMATICS),
    (story("reuters-9134"), story("reuters-9134") + "\nRelated Articles\n" + story("reuters-2924")),
    (story("reuters-2110"), story("reuters-16005")),
]


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_verify_is_symmetric(a: str, b: str) -> None:
    ab = verify(w(a), w(b), CONFIG)
    ba = verify(w(b), w(a), CONFIG)
    assert (ab.match, ab.score, ab.containment, ab.overlap, ab.shared, ab.conflicts, ab.measure) == (
        ba.match, ba.score, ba.containment, ba.overlap, ba.shared, ba.conflicts, ba.measure)
    assert (ab.start_a, ab.start_b) == (ba.start_b, ba.start_a)


class _NeverEqual(list[str]):
    """Word lists that never compare equal, so verification aligns them as it does different texts."""

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = None  # type: ignore[assignment]


@pytest.mark.parametrize("name", ["reuters-4441", "reuters-2110", "reuters-9134"])
def test_identical_texts_get_the_verdict_the_alignment_gives(name: str) -> None:
    words = w(story(name))
    lower = [x.lower() for x in words]
    upper = [x.upper() for x in words]  # case differs, lower-cased words do not
    aligned = _verify(words, upper, _NeverEqual(lower), _NeverEqual(lower), 5, 5, CONFIG)
    assert aligned.match and aligned.measure == "containment"
    assert verify(words, upper, CONFIG, 5, 5) == aligned
    assert not verify(words[:2], words[:2], CONFIG).match  # shorter than a shared run: no alignment either


def test_time_window() -> None:
    text = story("reuters-4441")
    t0 = dt.datetime(1987, 3, 12, tzinfo=dt.UTC)
    config = Config(window_seconds=3 * 86400)
    assert verify_pair(doc(text), doc(text), t0, t0 + dt.timedelta(days=2), config).match
    far = verify_pair(doc(text), doc(text), t0, t0 + dt.timedelta(days=4), config)
    assert not far.match and far.measure == "window"
    assert verify_pair(doc(text), doc(text), t0, None, config).match  # no date: no window


# ---------------------------------------------------------------- cluster

def run_cluster(n: int, matches: set[tuple[int, int]], candidates: Sequence[tuple[int, int]],
                keys: Sequence[str] | None = None, link_fraction: float = 0.5) -> list[tuple[int, ...]]:
    """Cluster with a verifier that says "match" exactly for ``matches``."""
    verdicts = Verdicts(n)
    asked: list[tuple[int, int]] = []

    def verify_many(pairs: Sequence[tuple[int, int]], label: str | None) -> None:
        for i, j in pairs:
            pair = (min(i, j), max(i, j))
            asked.append(pair)
            if pair not in verdicts:
                verdicts[pair] = (pair in matches, 0.9 if pair in matches else 0.1)

    keys = keys or [f"id{i:02d}" for i in range(n)]
    groups = cluster(n, sorted(candidates), verify_many, verdicts, keys, link_fraction)
    assert sorted(m for g in groups for m in g.members) == list(range(n))  # a partition
    return sorted(g.members for g in groups)


def _all_pairs(members: Sequence[int]) -> set[tuple[int, int]]:
    return {(a, b) for a in members for b in members if a < b}


def test_two_tight_groups_joined_by_one_link_stay_two_clusters() -> None:
    matches = _all_pairs([0, 1, 2]) | _all_pairs([3, 4, 5]) | {(2, 3)}
    assert run_cluster(6, matches, sorted(matches)) == [(0, 1, 2), (3, 4, 5)]


@pytest.mark.parametrize(("partial", "lengths", "joined"), [
    (True, [100, 40, 40, 90], True),  # two teasers and a copy without the lead, all in the full story 0
    (False, [100, 40, 40, 90], False),  # the teasers and 3 differ in a name or number: a conflict counts
    (True, [80, 40, 40, 90], False),  # 3 is longer than the story 0: 0 cannot hold the teasers and 3
])
def test_partial_copies_of_one_story_count_for_neither_side(partial: bool, lengths: list[int], joined: bool) -> None:
    """Teasers 1 and 2 and a copy 3 that dropped the lead are each copies of the full story 0,
    not of each other: 3 joins only when the pairs it fails with the teasers are what partial
    copies get (:func:`dedup.verify.partial`) and 0 is at least as long as each pair."""
    verdicts = Verdicts(4)
    copies = {(0, 1), (0, 2), (1, 2), (0, 3)}

    def verify_many(pairs: Sequence[tuple[int, int]], label: str | None) -> None:
        for i, j in pairs:
            pair = (min(i, j), max(i, j))
            if pair not in verdicts:
                verdicts[pair] = (True, 0.9) if pair in copies else (False, 0.5, partial)

    groups = cluster(4, sorted(copies), verify_many, verdicts, ["a", "b", "c", "d"], 0.5, lengths=lengths)
    assert sorted(g.members for g in groups) == ([(0, 1, 2, 3)] if joined else [(0, 1, 2), (3,)])
    assert verdicts.partial(1, 3) == partial and not verdicts.partial(0, 1)
    assert verdicts[(1, 3)] == (False, 0.5)


def test_a_chain_does_not_glue_its_ends() -> None:
    chain = {(i, i + 1) for i in range(7)}
    clusters = run_cluster(8, chain, sorted(chain))
    assert max(len(c) for c in clusters) <= 3
    assert not any(0 in c and 7 in c for c in clusters)


def test_very_long_texts_are_verified_on_their_first_words_without_running_out_of_memory() -> None:
    # Aligning two 800,000-word texts whole needs ~80 GB (rapidfuzz raised MemoryError).
    long_a = [f"w{k % 7919}" for k in range(800_000)]
    long_b = list(long_a)
    long_b[1000] = "changed"
    v = verify(long_a, long_b, CONFIG)
    assert v.match
    assert MAX_ALIGNED_WORDS - 10 <= v.shared <= MAX_ALIGNED_WORDS


def test_members_are_verified_with_each_other_not_only_along_candidates() -> None:
    """LSH missed pair (0, 2); linkage checks it and the three copies form one cluster."""
    matches = _all_pairs([0, 1, 2])
    assert run_cluster(3, matches, [(0, 1), (1, 2)]) == [(0, 1, 2)]


def test_unverified_candidates_leave_singletons() -> None:
    assert run_cluster(3, set(), [(0, 1), (1, 2)]) == [(0,), (1,), (2,)]


def test_clusters_do_not_depend_on_candidate_order_or_numbering() -> None:
    matches = _all_pairs([0, 1, 2]) | _all_pairs([3, 4, 5]) | {(2, 3), (1, 4)}
    expected = run_cluster(6, matches, sorted(matches))
    rng = random.Random(1)
    for _ in range(5):
        perm = list(range(6))
        rng.shuffle(perm)
        renamed = {(min(perm[a], perm[b]), max(perm[a], perm[b])) for a, b in matches}
        keys = [""] * 6
        for old, new in enumerate(perm):
            keys[new] = f"id{old:02d}"
        got = run_cluster(6, renamed, sorted(renamed, reverse=True), keys)
        back = sorted(tuple(sorted(perm.index(m) for m in c)) for c in got)
        assert back == expected


def test_components() -> None:
    assert sorted(components(5, [(0, 1), (3, 4), (1, 0)])) == [[0, 1], [2], [3, 4]]


def test_group_strength_figures() -> None:
    verdicts = Verdicts(3)
    scores = {(0, 1): 0.95, (0, 2): 0.8, (1, 2): 0.9}

    def verify_many(pairs: Sequence[tuple[int, int]], label: str | None) -> None:
        for pair in pairs:
            if pair not in verdicts:
                verdicts[pair] = (True, scores[pair])

    (group,) = cluster(3, [(0, 1), (1, 2)], verify_many, verdicts, ["a", "b", "c"], 0.5)
    assert group.members == (0, 1, 2)
    assert group.weakest_link == 0.9  # of the strongest tree: 0.95 and 0.9
    assert group.mean_similarity == pytest.approx((0.95 + 0.8 + 0.9) / 3, abs=1e-4)


# ---------------------------------------------------------------- canonical

T = dt.datetime(2025, 6, 6, 16, 0, tzinfo=dt.UTC)
MEMBERS = [
    Candidate("hamilton", "Hamilton Spectator", T + dt.timedelta(minutes=31), 759, 0),
    Candidate("hill", "The Hill", None, 728, 1),
    Candidate("yahoo", "Yahoo", T + dt.timedelta(minutes=27), 723, 2),
]


@pytest.mark.parametrize(("policy", "expected"), [("earliest", "yahoo"), ("longest", "hamilton"),
                                                  ("first", "hamilton")])
def test_canonical_policies(policy: str, expected: str) -> None:
    assert choose(MEMBERS, Config(canonical=policy)).id == expected  # type: ignore[arg-type]
    assert choose(list(reversed(MEMBERS)), Config(canonical=policy)).id == expected  # type: ignore[arg-type]


def test_undated_members_come_after_dated_ones() -> None:
    undated = [Candidate("a", None, None, 900, 0), Candidate("b", None, T, 100, 1)]
    assert choose(undated, Config()).id == "b"


def test_ties_are_broken_by_length_then_id() -> None:
    tied = [Candidate("b", None, T, 500, 0), Candidate("a", None, T, 500, 1), Candidate("c", None, T, 600, 2)]
    assert choose(tied, Config()).id == "c"
    assert choose(tied[:2], Config()).id == "a"
    assert choose(tied[:2], Config(canonical="longest")).id == "a"


@pytest.mark.parametrize(("prefer", "expected"), [
    (("The Hill",), "hill"),
    (("the hill ",), "hill"),
    (("Nobody", "Hamilton Spectator", "Yahoo"), "hamilton"),
    (("Nobody",), "yahoo"),
])
def test_preferred_sources(prefer: tuple[str, ...], expected: str) -> None:
    assert choose(MEMBERS, Config(prefer_sources=prefer)).id == expected


def test_copies_with_the_same_text_share_verdicts_without_changing_the_result() -> None:
    """A pair whose texts are those of another pair is verified once; the clusters,
    canonical items and similarities are what verifying every pair gives (a time
    window turns the sharing off, since then a verdict depends on the times too)."""
    articles = []
    for name in ["reuters-4441", "reuters-2110", "reuters-9134", "reuters-2924", "reuters-16005"]:
        text = story(name)
        articles += [{"id": f"{name}/{k}", "text": text} for k in range(3)]  # the same text three times
        articles.append({"id": f"{name}/lower", "text": text.lower()})
        articles.append({"id": f"{name}/short", "text": "\n".join(text.splitlines()[:3])})
        articles.append({"id": f"{name}/short-again", "text": "\n".join(text.splitlines()[:3])})
    articles += [{"id": "kemper", "text": KEMPER}, {"id": "wallace", "text": WALLACE}, {"id": "tiny", "text": "Oil"},
                 {"id": "tiny-again", "text": "Oil"}]
    for a in articles:
        a["published"] = "2025-05-01T10:00:00Z"
    shared = find_duplicates(articles)
    each = find_duplicates(articles, Config(window_seconds=10.0**9))
    assert shared.assignments == each.assignments
    assert shared.clusters == each.clusters
    assert shared.assignments["reuters-4441/1"].cluster == shared.assignments["reuters-4441/short"].cluster
    assert shared.assignments["tiny"].cluster != shared.assignments["tiny-again"].cluster  # too short to match


def _reference_pairs(keys: np.ndarray, max_bucket: int) -> set[tuple[int, int]]:
    """LSH pairs one band and one bucket at a time: all pairs of a bucket, or a chain if it is crowded."""
    out: set[tuple[int, int]] = set()
    for band in range(keys.shape[1]):
        buckets: dict[int, list[int]] = {}
        for row, key in enumerate(keys[:, band].tolist()):
            buckets.setdefault(key, []).append(row)
        for rows in buckets.values():
            if len(rows) > max_bucket:
                out.update(itertools.pairwise(rows))
            else:
                out.update((a, b) for x, a in enumerate(rows) for b in rows[x + 1:])
    return out


@pytest.mark.parametrize(("seed", "max_bucket"), [(1, 500), (2, 4), (3, 2)])
def test_rows_with_equal_keys_are_banded_once_with_the_same_pairs(seed: int, max_bucket: int,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from dedup import candidates

    rng = np.random.default_rng(seed)
    rows = rng.integers(0, 6, size=(60, 8), dtype=np.uint32)  # few key values: crowded buckets
    rows[:, 0] = np.arange(60)  # one band where every row is alone
    copies = rows[rng.integers(0, 60, size=40)]  # copies with the same keys everywhere (a band-0 key too)
    keys = np.concatenate([rows, copies, copies[:7]])[rng.permutation(107)]
    monkeypatch.setattr(candidates, "MAX_BUCKET", max_bucket)
    expected = _reference_pairs(keys, max_bucket)
    for given in (keys, [keys[:50], keys[50:51], keys[51:]]):
        found = candidates.pairs_from_keys(given)
        assert set(candidates.decode_pairs(found, len(keys))) == expected
        assert np.array_equal(found, np.unique(found))


# ---------------------------------------------------------------- library input

def test_find_duplicates_reports_what_is_not_an_article_and_goes_on() -> None:
    text = story("reuters-4441")
    result = find_duplicates([{"id": "a", "text": text}, None, "a string", {"text": "no id"},
                              Article("b", text), {"id": "c", "text": ""}, {"id": "d", "text": ["a", "list"]}])
    assert sorted(result.assignments) == ["a", "b"]
    assert result.assignments["b"].canonical_id == "a"
    assert [(p.where, p.reason) for p in result.problems] == [
        ("#1", "not an article: an Article or a dict was expected, got NoneType"),
        ("#2", "not an article: an Article or a dict was expected, got str"),
        ("#3", "record has no id"),
        ("c", "record 'c' has no text"),
        ("d", "record's text is not a string (a list)"),
    ]


# ---------------------------------------------------------------- large components

def _edited_copies(text: str, n: int, seed: int, prefix: str) -> list[dict[str, str]]:
    rng = random.Random(seed)
    words = text.split()
    out = []
    for k in range(n):
        w = list(words)
        for _ in range(rng.randint(1, 3)):
            del w[rng.randrange(len(w))]
        out.append({"id": f"{prefix}-{k:03d}", "text": " ".join(w), "source": f"site {k}"})
    return out


@pytest.mark.parametrize("stories", [1, 2])
def test_a_story_on_more_sites_than_an_lsh_bucket_pairs_stays_one_cluster(stories: int,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A bucket of more than MAX_BUCKET copies is paired along a chain, and a component of more
    than FULL_LINKAGE_LIMIT is not verified whole: average linkage on those few pairs left many
    small groups (700 copies of a story came out as ~80 clusters). Sampled pairs between the
    groups join them again, and two stories stay two. Small limits here, the same code paths."""
    from dedup import candidates, cluster

    monkeypatch.setattr(candidates, "MAX_BUCKET", 8)
    monkeypatch.setattr(cluster, "FULL_LINKAGE_LIMIT", 12)
    articles = []
    for s, key in enumerate(["reuters-4441", "reuters-2110"][:stories]):
        articles += _edited_copies(story(key), 60, seed=s, prefix=key)
    result = find_duplicates(articles)
    sizes = sorted(len(c.members) for c in result.clusters)
    assert sizes == [60] * stories
    for c in result.clusters:
        assert len({m.rsplit("-", 1)[0] for m in c.members}) == 1  # one story each


def test_sampled_joining_merges_groups_whose_samples_match_and_no_others() -> None:
    """_join_parts on a component of three groups: A and B are one story (their sampled pairs
    verify as copies), C is another, touching A through one matching pair (a bad link)."""
    from dedup.cluster import SAMPLE_MEMBERS, Verdicts, _join_parts

    story_of = {m: ("x" if m < 20 else "y") for m in range(30)}
    parts = [list(range(0, 10)), list(range(10, 20)), list(range(20, 30))]
    within = {(0, 1): 1.0, (9, 10): 0.9, (5, 25): 0.8}  # A-B and A-C touch
    verdicts = Verdicts(30)
    for pair, score in within.items():
        verdicts[pair] = (True, score)
    asked: list[tuple[int, int]] = []

    def verify_many(pairs: Any, label: str | None) -> None:
        for a, b in pairs:
            asked.append((a, b))
            if (a, b) not in verdicts:
                verdicts[(a, b)] = (story_of[a] == story_of[b], 0.9)

    keys = [f"k{m:02d}" for m in range(30)]
    groups = _join_parts(parts, dict(within), keys, 0.5, verify_many, verdicts)
    assert sorted(map(sorted, groups)) == [list(range(0, 20)), list(range(20, 30))]
    assert len(set(asked)) <= 3 * SAMPLE_MEMBERS**2  # samples only, not every pair


def _two_stories_on_150_sites() -> list[dict[str, str]]:
    return (_edited_copies(story("reuters-4441"), 150, seed=3, prefix="reuters-4441")
            + _edited_copies(story("reuters-2924"), 150, seed=4, prefix="reuters-2924"))


def test_a_story_on_hundreds_of_sites_costs_verifications_in_proportion_to_its_copies() -> None:
    """Two stories on 150 sites each, every copy missing 1-3 words (under 1% of the text).
    Verifying every pair of copies takes 2 x 11,175 verdicts; folding near-identical copies
    into representatives (cluster.collapse) takes a few per copy, and the clusters are the same."""
    articles = _two_stories_on_150_sites()
    folded = find_duplicates(articles)
    whole = find_duplicates(articles, Config(alias_overlap=1.0))  # no two copies are the same: none folded
    for result in (folded, whole):
        assert sorted(len(c.members) for c in result.clusters) == [150, 150]
        for c in result.clusters:
            assert len({m.rsplit("-", 1)[0] for m in c.members}) == 1
    assert whole.pairs_checked > 20_000
    assert folded.pairs_checked < 10 * len(articles)
    assert folded.assignments == whole.assignments  # canonical items and similarities included


def test_weighted_average_linkage_counts_the_articles_a_member_stands_for() -> None:
    """A stands for three articles, B and C for one. A-B and B-C are copies, A-C not.
    Unweighted, A+B then C merge (1 of 2 pairs); counting A's three articles, only 1 of
    the 4 pairs between A+B and C is a copy: C stays apart, as it does when A's articles
    are spelt out (A1-A3 each a copy of B and of each other, none of C)."""
    from dedup.cluster import _merge

    keys = ["a", "b", "c", "a2", "a3"]
    scores = {(0, 1): 0.9, (1, 2): 0.9}
    assert sorted(_merge([0, 1, 2], scores, keys, 0.5)) == [[0, 1, 2]]
    assert sorted(_merge([0, 1, 2], scores, keys, 0.5, weights=[3, 1, 1, 0, 0])) == [[0, 1], [2]]
    spelt = {**scores, (1, 3): 0.9, (1, 4): 0.9, (0, 3): 1.0, (0, 4): 1.0, (3, 4): 1.0}
    assert sorted(_merge([0, 1, 2, 3, 4], spelt, keys, 0.5)) == [[0, 1, 3, 4], [2]]



def test_no_folding_with_a_time_window() -> None:
    """With a time window, a copy's verdicts depend on its date, which its representative does
    not share: every pair is verified, as before folding."""
    articles = [dict(a, published=f"2025-05-01T{k % 24:02d}:00:00Z") for k, a in enumerate(_two_stories_on_150_sites())]
    windowed = find_duplicates(articles, Config(window_seconds=7 * 86400))
    assert sorted(len(c.members) for c in windowed.clusters) == [150, 150]
    assert windowed.pairs_checked > 20_000


def test_a_teaser_page_without_a_headline_loses_the_related_stories_below_it() -> None:
    """A page that opens with the story's first paragraph (no headline: longer than any) and,
    once its "read more" line is stripped as chrome, goes on with other stories under their
    headlines: the body starts at that paragraph, so the first related headline ends the page's
    own story (taken for a headline, the paragraph let the first related story in as the body)."""
    lead = paragraphs(STORIES["reuters-4441"]["text"])[0]
    assert len(w(lead)) > 20
    related = [STORIES[k]["title"] + "\n\n" + paragraphs(STORIES[k]["text"])[0]
               for k in ("reuters-9134", "reuters-2924")]
    page = "\n\n".join([lead, *related])
    assert doc(page).words == doc(lead).words
    assert together({"id": "teaser", "text": page, "source": "Harbor Post"},
                    {"id": "story", "text": story("reuters-4441"), "source": "Reuters"})


# ---------------------------------------------------------------- settings

@pytest.mark.parametrize(("changes", "message"), [
    ({"num_perm": "128"}, "num_perm must be a whole number, got '128'"),
    ({"lsh_threshold": "0.3"}, "lsh_threshold must be a number"),
    ({"min_tokens": True}, "min_tokens must be a whole number"),
    ({"prefer_sources": [1]}, "prefer_sources must be a list of source names"),
    ({"window_seconds": "3h"}, "window_seconds must be a number of seconds or None"),
    ({"canonical": ["first"]}, "canonical must be earliest, longest or first"),
    ({"lsh_threshold": 1.5}, r"lsh_threshold must be in \(0, 1\]"),
])
def test_settings_of_the_wrong_kind_raise_a_config_error(changes: dict[str, Any], message: str) -> None:
    from dedup import ConfigError

    with pytest.raises(ConfigError, match=message):
        Config(**changes)
    with pytest.raises(ConfigError, match=message):
        Config.from_dict({**Config().to_dict(), **changes})


def test_one_preferred_source_given_as_a_string_is_one_source() -> None:
    assert Config(prefer_sources="Reuters").prefer_sources == ("Reuters",)
    assert Config.from_dict({"prefer_sources": ["AP", "Reuters"]}).prefer_sources == ("AP", "Reuters")
    assert Config(num_perm=np.int64(64), lsh_threshold=np.float32(0.5)).num_perm == 64


@pytest.mark.parametrize(("seed", "distinct_keys"), [(1, 12), (2, 12), (3, 4), (4, 40)])
def test_passage_pairs_join_the_texts_two_of_whose_passages_share_a_band(seed: int, distinct_keys: int) -> None:
    """candidates.passage_pairs against all pairs of rows, in blocks as the workers give them:
    only such pairs, and the same texts joined (equal passages are chained, not paired all
    with all)."""
    from dedup.candidates import passage_pairs

    rng = np.random.default_rng(seed)
    owners = np.sort(rng.integers(0, 40, 150))  # texts with 0 to several passages
    keys = rng.integers(0, distinct_keys, (150, 3)).astype(np.uint32)  # few distinct keys: many collisions
    keys[rng.random(150) < 0.3] = keys[0]  # and many equal passages
    expected = {(int(owners[r]), int(owners[s])) for r in range(150) for s in range(r + 1, 150)
                if owners[r] != owners[s] and (keys[r] == keys[s]).any()}
    cut = 70
    found = passage_pairs([keys[:cut], keys[cut:]], [owners[:cut], owners[cut:]], 40)
    got = {(int(e) // 40, int(e) % 40) for e in found}
    assert got <= expected
    assert components(40, got) == components(40, expected)
    assert list(found) == sorted(set(found.tolist()))
