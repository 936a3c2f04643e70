"""Hard negatives and the mechanisms that keep them apart, through the whole pipeline.

* different stories from one outlet that share its chrome;
* a teaser page (a short story of its own) followed by the full text of another story;
* template items that differ only in figures;
and the positive counterparts that must still match (hard-wrapped wire copy, datelines,
relative-time lines, headline suffixes).
"""

from __future__ import annotations

import json
from pathlib import Path

from dedup import Article, Config, find_duplicates
from dedup.boilerplate import strip
from dedup.document import prepare
from dedup.pipeline import verify_pair
from dedup.verify import partial

DATA = Path(__file__).resolve().parent / "data"
STORIES = {r["id"]: r for r in map(json.loads, (DATA / "reuters-stories.jsonl").read_text("utf-8").splitlines())}

HEADER = ["The Lakeside Gazette", "Home | Local | Business | Sports | Obituaries | Subscribe"]
FOOTER = [
    "Sign up for our morning newsletter and get the day's top stories from around the region delivered "
    "straight to your inbox every weekday, free of charge, with no advertising and no spam.",
    "By signing up you agree to our terms of service and acknowledge that you have read our privacy policy.",
    "Copyright 2026 Lakeside Gazette Media Group. All rights reserved.",
]


def paragraphs(key: str) -> list[str]:
    """A Reuters story's paragraphs (its text is hard-wrapped; a paragraph starts indented)."""
    paras: list[str] = []
    for line in STORIES[key]["text"].splitlines():
        if line.startswith("    ") or not paras:
            paras.append(line.strip())
        else:
            paras[-1] += " " + line.strip()
    return [p for p in paras if p]


def page(key: str, *, chrome: bool = True, title: bool = True) -> str:
    lines = HEADER[:] if chrome else []
    if title:
        lines += [STORIES[key]["title"].title(), ""]
    lines += [p + "\n" for p in paragraphs(key)]
    return "\n".join(lines + (FOOTER if chrome else []))


def clusters(articles: list[dict[str, str]]) -> dict[str, int]:
    result = find_duplicates(articles, Config())
    return {a.id: a.cluster for a in result.assignments.values()}


def test_different_stories_of_one_outlet_sharing_its_chrome_stay_apart() -> None:
    # Two articles only: too few for the chrome to be learnt as boilerplate, so the
    # texts share ~90 words of it. The stories differ, and verification must see it.
    short = ["reuters-3498", "reuters-2110"]
    got = clusters([{"id": k, "text": page(k), "source": "Lakeside Gazette"} for k in short])
    assert got["reuters-3498"] != got["reuters-2110"]


def test_chrome_of_a_big_outlet_is_removed_and_its_stories_stay_apart() -> None:
    keys = sorted(STORIES)
    articles = [{"id": k, "text": page(k), "source": "Lakeside Gazette"} for k in keys]
    got = clusters(articles)
    assert len(set(got.values())) == len(keys)
    doc = strip(prepare(Article(id="x", text=page(keys[0]), group="lakeside gazette")), None, Config())
    assert "newsletter" in [w.lower() for w in doc.words]  # without counts, nothing is removed


def test_teaser_page_belongs_with_its_own_story_not_the_story_it_carries() -> None:
    own, carried = "reuters-3498", "reuters-4441"
    teaser = "\n".join([
        STORIES[own]["title"], "", paragraphs(own)[0], "", "Read the full story on our partner's site.", "", "",
        STORIES[carried]["title"], "", *[p + "\n" for p in paragraphs(carried)],
    ])
    articles = [
        {"id": "teaser", "text": teaser, "source": "Daily Bites"},
        {"id": "own-full", "text": page(own, chrome=False), "source": "Wire"},
        {"id": "carried-1", "text": page(carried, chrome=False), "source": "Wire"},
        {"id": "carried-2", "text": page(carried, chrome=False).replace("said", "stated", 1), "source": "Other"},
    ]
    got = clusters(articles)
    assert got["teaser"] == got["own-full"]
    assert got["carried-1"] == got["carried-2"] != got["teaser"]


def test_partial_copies_join_their_story_through_its_full_copy() -> None:
    """Story 2110 in full, two teasers of it and a copy without its second paragraph
    (``data/partial-copies.jsonl``): average linkage alone would leave that copy out (it verifies
    with one of the three others; the ids are in that order, and ties in average linkage go to
    the smallest, so the teasers join the full story first); the pairs it fails with the teasers
    are what partial copies get (dedup.verify.partial), and the full copy holds both, so they
    count for neither side."""
    articles = [json.loads(line) for line in (DATA / "partial-copies.jsonl").read_text("utf-8").splitlines()]
    docs = {a["id"]: strip(prepare(Article(id=a["id"], text=a["text"])), None, Config()) for a in articles}
    verdict = verify_pair(docs["teaser-1"], docs["web-cut"], None, None, Config())
    assert partial(verdict, Config()) and not verdict.match
    assert len(set(clusters(articles).values())) == 1


def test_same_template_for_another_period_stays_apart() -> None:
    notice = "{co} <{tk}> SETS QUARTERLY\n\nQtly div 15 cts vs 15 cts prior\n\nPay {pay}\n\nRecord {rec}\n"
    articles = [
        {"id": "q1", "text": notice.format(co="PALL CORP", tk="PLL", pay="May One", rec="April 20")},
        {"id": "q2", "text": notice.format(co="PALL CORP", tk="PLL", pay="Nov 13", rec="Oct 30")},
        {"id": "q1-refile", "text": notice.format(co="PALL CORP", tk="PLL", pay="May One", rec="April 20")},
    ]
    got = clusters(articles)
    assert got["q1"] == got["q1-refile"] != got["q2"]


def test_hard_wrapped_wire_copy_matches_its_web_copy() -> None:
    key = "reuters-4441"
    wire = STORIES[key]["title"] + "\n" + STORIES[key]["text"]  # as filed: wrapped at ~65 columns
    web = page(key)
    got = clusters([{"id": "wire", "text": wire}, {"id": "web", "text": web, "source": "Lakeside Gazette"}])
    assert got["wire"] == got["web"]


def test_a_dateline_in_mixed_case_does_not_split_a_short_item() -> None:
    """"Sioux City, April 7 - " opening a page with no headline is a dateline, as "SIOUX CITY,
    April 7 - " is. Kept, its place read as names conflicting with the other copy's Title Case
    headline, and a short item (a Reuters-21578 hog-price report) tolerates no conflict."""
    body = ("Iowa direct hog prices are expected 1.00 dlr higher, private sources said.\n\n"
            "Country sales seen at 49.00 to 50.00 and Plants at 50.00 to 51.00 dlrs per cwt.")
    got = clusters([{"id": "a", "text": "Sioux City, April 7 - " + body},
                    {"id": "b", "text": body, "title": "Ia So-Minn Direct Hogs Seen Up 1.00 Dlr-Private"}])
    assert got["a"] == got["b"]


def test_datelines_time_stamps_and_headline_suffixes_do_not_split_a_short_story() -> None:
    key = "reuters-3498"
    body = paragraphs(key)
    a = "\n\n".join(["29 minutes ago", f"SEOUL, March 16 - {body[0]}", *body[1:]])
    articles = [
        {"id": "a", "text": a, "title": STORIES[key]["title"] + " | The Lakeside Gazette"},
        {"id": "b", "text": "\n\n".join(body), "title": STORIES[key]["title"].title() + " - Wire"},
    ]
    got = clusters(articles)
    assert got["a"] == got["b"]


def test_a_time_stamp_with_words_before_it_is_no_name_that_conflicts_with_a_headline() -> None:
    """A copy without headline whose page starts "Updated time25 minutes ago" (or "Last updated:
    2 hours ago"): the line is dropped like "29 minutes ago", not compared with the other
    copy's headline, where "Updated" read as a name that differs from "Senate"."""
    key = "reuters-3498"
    body = paragraphs(key)
    for stamp in ("Updated time25 minutes ago", "Last updated: 2 hours ago"):
        articles = [
            {"id": "a", "text": "\n\n".join([stamp, body[0]])},
            {"id": "b", "text": "\n\n".join(body), "title": STORIES[key]["title"]},
        ]
        assert len(set(clusters(articles).values())) == 1, stamp


def test_teaser_under_a_chrome_title_belongs_with_its_own_story_not_the_one_carried_below() -> None:
    """A site whose pages are all titled by a line of its chrome ("Today's Paper") shows a
    one-line teaser in lower case, then the headline and lead of another story. With no
    headline of its own, the teaser line starts the text, and the story below is cut off."""
    teasers = {"reuters-3498": "reuters-4441", "reuters-2110": "reuters-16005", "reuters-9134": "reuters-10103"}
    articles = []
    for own, carried in teasers.items():
        lead = paragraphs(own)[0].lower()  # "seoul, march 11 - the south korean government will float..."
        text = "\n".join(["Weather", "Podcasts", "Today's Paper", lead, "", "keep reading on our app.", "", "",
                          STORIES[carried]["title"], "", paragraphs(carried)[0], "", "Copyright 2026 Evening Courier"])
        articles.append({"id": f"teaser-{own}", "title": "Today's Paper", "text": text, "source": "Evening Courier"})
        articles.append({"id": f"full-{own}", "text": page(own, chrome=False), "source": "Wire"})
        articles.append({"id": f"full-{carried}", "text": page(carried, chrome=False), "source": "Wire"})
        articles.append({"id": f"other-{carried}", "text": page(carried), "source": "Lakeside Gazette"})
    got = clusters(articles)
    for own, carried in teasers.items():
        assert got[f"full-{carried}"] == got[f"other-{carried}"]
        assert got[f"teaser-{own}"] != got[f"full-{carried}"]
        assert got[f"teaser-{own}"] == got[f"full-{own}"]
