"""One test per case in samples/, run through the library and through the CLI.

The cases are described in samples/README.md; every sample file belongs to
one case, and a test checks that none is left out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup import Config, find_duplicates, read_articles
from dedup.boilerplate import BoilerplateStats, strip
from dedup.cli import cli
from dedup.document import Doc, prepare
from dedup.pipeline import verify_pair
from dedup.reading import Problem
from dedup.verify import Verdict

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

HAMILTON = "hamiltonspectator/wagner-group-leaving-mali.html"
HILL = "thehill/wagner-group-leaving-mali.txt"
YAHOO = "yahoo/wagner-group-leaving-mali.json"
PRISONER_SWAP = "yahoo/russia-ukraine-prisoner-swap.txt"
PERU = "reuters/peru-to-maintain-silver-sales-freeze.json"
PERU_EXCERPT = "metalsdigest/peru-silver-sales-freeze-excerpt.html"
KEMPER = "reuters/kemper-corp-regular-payout-set.txt"
WALLACE = "reuters/wallace-computer-services-dividend.txt"
TELECREDIT = "reuters/telecredit-3rd-qtr-net.json"
SYSTEMATICS = "reuters/systematics-3rd-qtr-net.json"

# case name -> (expectation, ids). "together": exactly these ids form one cluster;
# "alone": the id is a cluster of its own; "apart": no two of the ids share a cluster.
CASES = {
    "wagner-copies-together": ("together", (HAMILTON, HILL, YAHOO)),
    "prisoner-swap-page-alone": ("alone", (PRISONER_SWAP,)),
    "truncated-copy-joins-story": ("together", (PERU, PERU_EXCERPT)),
    "dividend-notices-apart": ("apart", (KEMPER, WALLACE)),
    "earnings-tables-apart": ("apart", (TELECREDIT, SYSTEMATICS)),
}


def _library_run() -> tuple[dict[str, int], dict[str, str], list[Problem]]:
    problems: list[Problem] = []
    result = find_duplicates(read_articles([SAMPLES], problems.append))
    clusters = {a.id: a.cluster for a in result.assignments.values()}
    canonical = {a.id: a.canonical_id for a in result.assignments.values()}
    return clusters, canonical, problems + result.problems


def _cli_run() -> tuple[dict[str, int], dict[str, str], list[str]]:
    run = CliRunner().invoke(cli, ["scan", str(SAMPLES), "--format", "jsonl", "--quiet"], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    records = [json.loads(line) for line in run.stdout.splitlines()]
    clusters = {r["id"]: r["cluster"] for r in records}
    canonical = {r["id"]: r["canonical_id"] for r in records}
    return clusters, canonical, run.stderr.splitlines()


@pytest.fixture(scope="module", params=["library", "cli"])
def outcome(request: pytest.FixtureRequest) -> tuple[dict[str, int], dict[str, str], list[object]]:
    if request.param == "library":
        return _library_run()  # type: ignore[return-value]
    return _cli_run()  # type: ignore[return-value]


def _sample_files() -> list[str]:
    return sorted(p.relative_to(SAMPLES).as_posix() for p in SAMPLES.rglob("*")
                  if p.is_file() and p.name != "README.md")


def test_every_sample_file_belongs_to_a_case() -> None:
    in_cases = {i for _, ids in CASES.values() for i in ids}
    assert set(_sample_files()) == in_cases


def test_readme_describes_every_sample_file() -> None:
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    missing = [f for f in _sample_files() if f"`{f}`" not in readme]
    assert missing == []


def test_every_sample_is_read_without_problems(outcome: tuple[dict[str, int], dict[str, str], list[object]]) -> None:
    clusters, _, problems = outcome
    assert problems == []
    assert sorted(clusters) == sorted(_sample_files())


def test_readme_is_not_read_as_an_article(
        outcome: tuple[dict[str, int], dict[str, str], list[object]]) -> None:
    """A folder's README describes it; scanning the folder leaves it out (a .md given by name is read)."""
    clusters, _, _ = outcome
    assert "README.md" not in clusters


@pytest.mark.parametrize("case", list(CASES))
def test_sample_case(case: str, outcome: tuple[dict[str, int], dict[str, str], list[object]]) -> None:
    clusters, _, _ = outcome
    expectation, ids = CASES[case]
    if expectation == "together":
        number = clusters[ids[0]]
        assert {i for i, c in clusters.items() if c == number} == set(ids)
    elif expectation == "alone":
        number = clusters[ids[0]]
        assert [i for i, c in clusters.items() if c == number] == [ids[0]]
    else:
        assert len({clusters[i] for i in ids}) == len(ids)


def test_wagner_canonical_is_the_earliest_copy(outcome: tuple[dict[str, int], dict[str, str], list[object]]) -> None:
    _, canonical, _ = outcome
    # Yahoo 16:27, The Hill (plain text: no date), Hamilton Spectator 16:31.
    assert {canonical[i] for i in (HAMILTON, HILL, YAHOO)} == {YAHOO}


def test_truncated_copy_points_to_the_full_story(
        outcome: tuple[dict[str, int], dict[str, str], list[object]]) -> None:
    _, canonical, _ = outcome
    # Both dated; the Reuters original is earlier (16:59 against 17:25).
    assert canonical[PERU_EXCERPT] == PERU


def test_sample_counts_in_text_report() -> None:
    run = CliRunner().invoke(cli, ["scan", str(SAMPLES)], catch_exceptions=False)
    assert run.exit_code == 0
    assert run.stdout.splitlines()[-1] == (
        "10 articles read, 0 skipped, 7 clusters (2 with copies, 5 single), 3 duplicates")
    assert run.stderr == ""


def test_html_sample_metadata() -> None:
    (article,) = read_articles([SAMPLES / HAMILTON], pytest.fail)
    assert article.title == "Wagner Group leaving Mali after heavy losses but Russia's Africa Corps to remain"
    assert article.source == "Hamilton Spectator"
    assert article.published == "2025-06-06T16:31:00Z"
    assert article.url is not None and article.url.startswith("https://www.thespec.com/")
    # The newsletter block after the story survives extraction, as on the seed page...
    assert "There was a problem with the recaptcha." in article.text
    # ...and the navigation does not.
    assert "Opinion" not in article.text


def _docs() -> dict[str, Doc]:
    """The samples as the pipeline compares them: prepared, boilerplate counted over all, stripped."""
    config = Config()
    prepared = [prepare(a) for a in read_articles([SAMPLES], pytest.fail)]
    stats = BoilerplateStats.build(prepared)
    return {p.id: strip(p, stats, config) for p in prepared}


def _figures(v: Verdict) -> str:
    return (f"match={v.match} measure={v.measure} containment={v.containment:.3f} overlap={v.overlap:.3f} "
            f"shared={v.shared} conflicts={v.conflicts} start={v.start_a},{v.start_b}: {v.reason}")


@pytest.mark.parametrize("copy", [HAMILTON, HILL, YAHOO])
def test_prisoner_swap_page_is_not_a_copy_of_any_wagner_copy(copy: str) -> None:
    docs = _docs()
    v = verify_pair(docs[copy], docs[PRISONER_SWAP], None, None, Config())
    assert not v.match, _figures(v)


@pytest.mark.parametrize(("a", "b"), [(HAMILTON, HILL), (HAMILTON, YAHOO), (HILL, YAHOO), (PERU_EXCERPT, PERU)])
def test_copies_verify_pairwise(a: str, b: str) -> None:
    """Every pair of copies matches on its own, so the cluster does not hang on one link."""
    docs = _docs()
    v = verify_pair(docs[a], docs[b], None, None, Config())
    assert v.match, _figures(v)
