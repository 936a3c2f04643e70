#!/usr/bin/env python3
"""Random synth.py profiles: corpora nobody tuned on, for quality.py.

Every outlet gets a random house style drawn from the whole of synth.py's knobs
(format, headline style and site-name suffix, chrome above and below the story,
inline ads, related-story blocks with or without full texts, truncation with a
read-more line, dropped paragraphs, write-thru leads, update prefixes, datelines,
curly quotes, dashes, stray spaces, OCR noise, lower case) and invented names
and chrome, from pools that share nothing with the dev profile's strings. The
profile's base stories are a random slice of Reuters-21578.

    python benchmarks/random_profile.py --seed 7 --out /tmp/random7.json
    python benchmarks/quality.py --profiles /tmp/random7.json
    for s in 1 2 3; do python benchmarks/random_profile.py --seed $s --out /tmp/r$s.json; done
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

PLACES = ["Brookfield", "Millbrook", "Stonebridge", "Redwater", "Ashford", "Kingsport", "Lakemont", "Eastvale",
          "Pinecrest", "Westhaven", "Oakridge", "Silverton", "Fairmount", "Glenwood", "Harborview", "Northgate"]
KINDS = ["Chronicle", "Dispatch", "Sentinel", "Record", "Examiner", "Journal", "Observer", "Gazette", "Tribune",
         "Bulletin", "Beacon", "Herald", "Monitor", "Leader", "Register", "Press", "Now", "Digest", "Feed", "Wire"]
MENUS = ["Home", "News", "Local", "World", "Business", "Markets", "Tech", "Sports", "Opinion", "Culture", "Travel",
         "Video", "Podcasts", "Weather", "Jobs", "Events", "Puzzles", "Log in", "Register", "Subscribe", "Menu",
         "Search", "Newsletters", "Shop", "Deals", "Trending"]
HEADER_LINES = ["{reltime}", "Updated {reltime}", "Breaking news and analysis", "Independent journalism since 1954",
                "Your daily briefing", "Today's paper", "Listen to this article", "Share this story",
                "Print edition", "Most popular", "Skip to main content", "Advertisement"]
FOOTERS = ["All rights reserved.", "Terms and conditions apply.", "Privacy notice", "Cookie settings",
           "Do not sell my personal information", "Contact us", "About us", "Careers", "Advertise with us",
           "Report a correction", "Send us a news tip.", "Reprints and permissions",
           "Sign up for our evening newsletter to get the day's top stories.",
           "We value your privacy. We and our partners store and access information on your device.",
           "This article was produced with content from a wire service.",
           "Comments are closed for this story.", "Follow us on social media for more updates.",
           "Download our mobile app for breaking news alerts."]
ADS = ["Advertisement", "ADVERTISEMENT", "Sponsored", "Paid content", "Promoted stories", "Continue reading below",
       "Article continues after this ad", "Story continues below", "- ad -", "[sponsored]", "Partner content",
       "You might also like", "Recommended for you"]
READ_MORE = ["Continue reading at the source.", "Read the full article.", "Click here to read more.",
             "The rest of this story is for subscribers.", "Keep reading on our app.", "More at the link below.",
             "...", "Read more", "Subscribe to read the full story."]
CONTAINERS = [("article", "story"), ("div", "article-body"), ("section", "content"), ("main", "post"),
              ("div", "entry"), ("div", "text-block body")]


def outlet(rng: random.Random, k: int) -> dict[str, Any]:
    name = f"{rng.choice(['The ', ''])}{rng.choice(PLACES)} {rng.choice(KINDS)}"
    domain = name.lower().replace("the ", "").replace(" ", "") + f"{k}.invalid"
    fmt = rng.choices(["txt", "html", "json"], [0.4, 0.4, 0.2])[0]
    out: dict[str, Any] = {"name": name, "domain": domain, "format": fmt,
                           "headline": rng.choice(["keep", "keep", "sentence", "title"]),
                           "delay_max_min": rng.choice([5, 60, 600, 1440, 4320])}
    if fmt != "json":
        header = rng.sample(MENUS, rng.randint(0, 7))
        if rng.random() < 0.5:
            header = [rng.choice([name, name.upper(), name.lower()]), *header]
        header += rng.sample(HEADER_LINES, rng.randint(0, 2))
        out["header"] = header
        out["footer"] = rng.sample(FOOTERS, rng.randint(0, 4))
        if rng.random() < 0.5:
            out["footer"].append(f"\u00a9 2026 {name}")
    if fmt == "html":
        box, cls = rng.choice(CONTAINERS)
        out.update(container=box, container_class=cls)
        if rng.random() < 0.4:
            out["headline_suffix"] = rng.choice([" | ", " - ", " \u2014 ", " :: "]) + name
    if fmt == "txt":
        out["title_in_text"] = rng.random() < 0.85
        out["dateline"] = rng.random() < 0.3
    if rng.random() < 0.5:
        out["inline_ads"] = rng.sample(ADS, rng.randint(1, 3))
        out["ad_rate"] = round(rng.uniform(0.05, 0.7), 2)
    if fmt != "json" and rng.random() < 0.6:
        out["related"] = round(rng.uniform(0.1, 1.0), 2)
        out["related_full"] = round(rng.uniform(0.0, 0.8), 2)
    for knob, chance, top in (("truncate", 0.5, 0.7), ("drop_para", 0.4, 0.35), ("write_thru", 0.3, 0.3),
                              ("update_prefix", 0.3, 0.5), ("space_before_punct", 0.3, 0.2)):
        if rng.random() < chance:
            out[knob] = round(rng.uniform(0.02, top), 2)
    if "truncate" in out:
        out["read_more"] = rng.choice(READ_MORE)
    if rng.random() < 0.4:
        out["curly_quotes"] = True
    if rng.random() < 0.3:
        out["dash"] = rng.choice(["\u2014", "\u2013", "--"])
    if rng.random() < 0.25:
        out["ocr"] = round(rng.uniform(0.003, 0.04), 3)
    if rng.random() < 0.12:
        out["lowercase"] = True
    if rng.random() < 0.15:
        out["credit"] = rng.choice(["Wire services contributed to this report.", "With reporting by staff.",
                                    "Compiled from agency reports."])
    return out


def profile(seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    start = round(rng.uniform(0.0, 0.85), 2)
    tail = rng.choice([[[1, 0.4], [2, 0.2], [3, 0.15], [4, 0.1], [6, 0.08], [8, 0.07]],
                       [[1, 0.25], [2, 0.15], [3, 0.1], [5, 0.15], [8, 0.15], [12, 0.1], [16, 0.1]],
                       [[1, 0.55], [2, 0.25], [3, 0.1], [4, 0.1]]])
    n = rng.randint(6, 16)
    return {"seed": seed, "stories": rng.choice([1000, 1500]), "min_words": rng.choice([30, 40, 60]),
            "base_slice": [start, round(start + 0.15, 2)], "copies": tail,
            "outlets": [outlet(rng, k) for k in range(n)]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True, help="the profile's JSON file (its name names the profile)")
    args = ap.parse_args()
    args.out.write_text(json.dumps(profile(args.seed), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
