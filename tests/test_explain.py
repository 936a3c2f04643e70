"""`dedup explain`: the figures behind one verdict, through the library and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from dedup import Article
from dedup.cli import cli
from dedup.explain import explain

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
DATA = Path(__file__).resolve().parent / "data"
SWAP = "yahoo/russia-ukraine-prisoner-swap.txt"
HILL = "thehill/wagner-group-leaving-mali.txt"
YAHOO = "yahoo/wagner-group-leaving-mali.json"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_explain_copies_within_a_folder() -> None:
    run = invoke("explain", HILL, YAHOO, "--in", str(SAMPLES))
    assert run.exit_code == 0
    out = run.stdout
    assert "Verdict: SAME STORY" in out
    # The Hill's page opens with its headline twice and chrome lines; taken for hard-wrapped
    # text, they were glued into one, and the shared text started at word 33, not 1.
    assert "conflicts 0, shared text starts at word 1 of A and 2 of B" in out
    assert "Decided by: containment - 100% of the shorter text is in the longer, both from the top" in out
    assert "a candidate pair in the LSH index" in out


def test_explain_a_page_carrying_another_story() -> None:
    run = invoke("explain", SWAP, HILL, "--in", str(SAMPLES))
    out = run.stdout
    assert "Verdict: DIFFERENT" in out
    assert "another story carried further down the page" in out
    assert "Boilerplate removed from A:" in out and "DOWNLOAD THE APP" in out


def test_explain_two_files_without_a_folder(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("KEMPER CORP REGULAR PAYOUT SET\n\nQtly div 15 cts vs 15 cts prior\n\nPay May 29\n\n"
                 "Record May Eight\n", encoding="utf-8")
    b.write_text("KEMPER CORP REGULAR PAYOUT SET\n\nQtly div 15 cts vs 15 cts prior\n\nPay June 19\n\n"
                 "Record June One\n", encoding="utf-8")
    run = invoke("explain", str(a), str(b))
    out = run.stdout
    assert run.exit_code == 0
    assert "Decided by: conflict" in out and "Verdict: DIFFERENT" in out


def test_explain_unknown_id_is_a_one_line_error() -> None:
    run = invoke("explain", "no/such.txt", HILL, "--in", str(SAMPLES))
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: no/such.txt is not an article id")


def test_explain_library_figures_are_those_of_verification() -> None:
    text = "Chile will open talks next month with lending agencies on the renegotiation of its official debt."
    e = explain(Article(id="a", text=text + " It gave no details."), Article(id="b", text=text))
    assert e.verdict.match and e.verdict.measure == "containment"
    assert e.verdict.containment == 1.0 and e.jaccard > 0.5
    assert str(e).splitlines()[0] == "A: a"


def test_explain_says_whether_screening_drops_the_pair() -> None:
    copies = explain(Article(id="a", text=_story(0)), Article(id="b", text="Daily Ledger\n" + _story(0)))
    assert copies.verdict.match and not copies.screened
    assert copies.bound == 1.0 and "Screening: at most 100%" in str(copies)
    strangers = explain(Article(id="a", text=_story(0)), Article(id="b", text=_story(1)))
    assert not strangers.verdict.match and strangers.screened
    assert strangers.bound < strangers.floor == 0.36
    assert ": dropped unverified" in str(strangers)


def _story(k: int) -> str:
    """The k-th stored Reuters story (tests/data)."""
    line = (Path(__file__).resolve().parent / "data" / "reuters-stories.jsonl").read_text("utf-8").splitlines()[k]
    record = json.loads(line)
    return f"{record['title']}\n\n{record['text']}"


def test_explain_names_the_headline_under_a_sites_tagline(tmp_path: Path) -> None:
    """Plain-text pages of one site open with its tagline: explain shows the headline below
    it as the title, and says why (the tagline is on every page of the site)."""
    site = tmp_path / "harbortimes"
    site.mkdir()
    headlines = ["Council Approves Harbor Dredging Plan", "Ferry Service Resumes After Storm",
                 "School Board Names New Superintendent"]
    for n, headline in enumerate(headlines):
        body = " ".join(f"Paragraph {k} of story {n} tells of {headline.lower()} at length." for k in range(6))
        (site / f"story{n}.txt").write_text(f"Local news since 1891\n{headline}\n\n{body}\n", "utf-8")
    result = invoke("explain", "harbortimes/story0.txt", "harbortimes/story1.txt", "--in", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert ("   title:  Council Approves Harbor Dredging Plan  (not 'Local news since 1891': a line the site repeats)"
            in result.output.splitlines())


def test_explain_offers_no_canonical_options() -> None:
    """A pair has no canonical item to pick: explain does not take options that would do nothing."""
    result = invoke("explain", "a", "b", "--canonical", "longest")
    assert result.exit_code == 2 and "No such option '--canonical'" in result.output
    assert "--prefer-source" not in invoke("explain", "--help").output


def test_explain_names_a_pair_only_the_passage_index_proposes() -> None:
    """A copy cut to two sentences under another story's lead: the lead and whole-text
    indexes miss it, a passage past the new lead is the story's first. Explain says so, and
    that a batch run verifies such a pair only if it is among either article's best few."""
    from dedup.normalise import normalise_text, words

    stories = {r["id"]: r for r in map(json.loads, (DATA / "reuters-stories.jsonl").read_text("utf-8").splitlines())}

    def paragraphs(key: str) -> list[str]:  # Reuters text is hard-wrapped; a paragraph starts indented
        return [" ".join(p.split()) for p in ("\n" + stories[key]["text"]).split("\n   ") if p.strip()]

    def story(key: str) -> str:
        return stories[key]["title"] + "\n\n" + "\n".join(paragraphs(key))

    key = "reuters-4441"
    new_lead = " ".join(words(normalise_text(story("reuters-2110")))[:40])  # 40 words of something else
    body = " ".join(paragraphs(key)).split()
    a = Article(id="a", text=story(key))
    b = Article(id="b", text=stories[key]["title"] + "\n\n" + new_lead + "\n" + " ".join(body[:32]))
    found = explain(a, b)
    assert found.candidate and found.by_passages_only
    assert "candidate pair in the LSH index (by its passages only: a batch run verifies it if it is among " \
           "either article's 8 such pairs that share the most)" in str(found)
    whole = explain(a, Article(id="c", text=story(key) + "\nRead more"))
    assert whole.candidate and not whole.by_passages_only
    assert "by its passages only" not in str(whole)


def test_explain_says_when_two_texts_are_partial_copies_of_one_story() -> None:
    """A teaser and a copy without its second paragraph share the lead, too little to be copies:
    explain says clustering counts the pair for neither side; a teaser and the full story match."""
    partial = invoke("explain", "--in", str(DATA / "partial-copies.jsonl"), "teaser-1", "web-cut")
    assert partial.exit_code == 0
    assert "Verdict: DIFFERENT (as two partial copies of one story: clustering counts this pair for neither side" \
        in partial.stdout
    full = invoke("explain", "--in", str(DATA / "partial-copies.jsonl"), "teaser-1", "full")
    assert "Verdict: SAME STORY" in full.stdout and "partial copies" not in full.stdout
    other = invoke("explain", HILL, SWAP, "--in", str(SAMPLES))
    assert "Verdict: DIFFERENT" in other.stdout and "partial copies" not in other.stdout
