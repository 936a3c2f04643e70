"""The ``dedup`` command: a thin layer over the library.

Each command parses options, builds a :class:`~dedup.config.Config`, calls the
library and prints. Library errors become one-line ``Error: ...`` messages.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import click

from . import report
from .config import Config
from .errors import DedupError, InputError, StrictInputError
from .pipeline import Counted, Result, scan_units
from .reading import FIELDS, Problem, read_units

T = TypeVar("T")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``90m``, ``12h``, ``3d`` or ``1w``.

    >>> parse_duration("3d")
    259200.0
    """
    m = _DURATION.match(text)
    if not m:
        raise click.BadParameter(f"{text!r} is not a duration such as 90m, 12h, 3d or 1w")
    return float(m.group(1)) * _UNITS[m.group(2)]


_LINE_OF_FILE = re.compile(r"(?::\d+|#\d+)$")  # "feed.jsonl:12", "list.json#2": a record of a file
_DETAIL = re.compile(r"\s*\([^()]*\)|'[^']*'")  # what differs between records with one problem


class Warner:
    """Prints one warning per problem on stderr and keeps them all.

    Records of one file with one problem (a feed that calls its text ``body``: every line)
    are shown :attr:`SHOWN` at a time; :meth:`finish` then says how many more there were.
    """

    SHOWN = 3

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self._seen: dict[tuple[str, str], int] = {}

    def __call__(self, problem: Problem) -> None:
        self.problems.append(problem)
        key = (_LINE_OF_FILE.sub("", problem.where), _DETAIL.sub("", problem.reason))
        seen = self._seen[key] = self._seen.get(key, 0) + 1
        if seen <= self.SHOWN:
            click.echo(f"Warning: {problem}", err=True)

    def finish(self) -> None:
        """Say how many warnings of each file and problem were not shown."""
        for (where, reason), seen in self._seen.items():
            if seen > self.SHOWN:
                click.echo(f"Warning: {where}: {seen - self.SHOWN} more records like these ({reason})", err=True)
        self._seen.clear()

    @property
    def skipped(self) -> int:
        return sum(1 for p in self.problems if p.skipped)


_PROGRESS_UNITS = {"reading": " articles", "fingerprinting": " articles", "verifying": " pairs", "linking": " pairs",
                   "aliasing": " pairs",
                   "indexing": " articles"}


def progress_hook(quiet: bool) -> Callable[[Iterable[T], str, int | None], Iterable[T]]:
    """A tqdm progress bar on stderr, only when stderr is a terminal, counting articles or pairs
    (an item that stands for several, a :class:`~dedup.pipeline.Counted`, counts as its ``count``)."""
    if quiet or not sys.stderr.isatty():
        return lambda items, label, total: items
    from tqdm import tqdm

    def hook(items: Iterable[T], label: str, total: int | None) -> Iterator[T]:
        with tqdm(desc=label, total=total, unit=_PROGRESS_UNITS.get(label, " items"), unit_scale=True, leave=False,
                  file=sys.stderr) as bar:
            for item in items:
                bar.update(item.count if isinstance(item, Counted) else 1)
                yield item

    return hook


def config_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every command that matches articles and picks canonical items."""
    defaults = Config()
    options = [
        click.option("--canonical", type=click.Choice(["earliest", "longest", "first"]), default=defaults.canonical,
                     show_default=True, help="How the canonical item of a cluster is chosen."),
        click.option("--prefer-source", "prefer_source", default="", metavar="NAMES",
                     help='Comma-separated sources to prefer as canonical, e.g. "Associated Press,Reuters".'),
    ]
    for option in reversed(options):
        func = option(func)
    return matching_options(func)


def matching_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options of every command that matches articles (``explain`` has no canonical item to pick)."""
    defaults = Config()
    options = [
        click.option("--window", default=None, metavar="DURATION",
                     help="Only link articles published within this span of each other (e.g. 3d, 12h)."),
        click.option("--containment", type=float, default=defaults.containment_threshold, show_default=True,
                     help="Share of the shorter text that must be found in the longer."),
        click.option("--lsh-threshold", type=float, default=defaults.lsh_threshold, show_default=True,
                     help="Jaccard threshold of the candidate index (lower finds more candidates)."),
        click.option("--shingle-size", type=int, default=defaults.shingle_size, show_default=True,
                     help="Words per shingle."),
        click.option("--num-perm", type=int, default=defaults.num_perm, show_default=True,
                     help="MinHash permutations."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def screen_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--screen``: batch runs only (the persistent index verifies every candidate)."""
    return click.option(
        "--screen", type=click.FloatRange(0.0, 1.0), default=Config().screen_fraction, show_default=True,
        help="Drop candidate pairs, unverified, whose MinHash signatures show they share less than this "
             "fraction of what a copy must share (0: verify every candidate).")(func)


def run_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options of every command that reads and clusters input: --strict, --quiet, --jobs."""
    options = [
        click.option("--strict", is_flag=True, help="Fail (exit 1) if any input had to be skipped."),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary on stderr."),
        click.option("-j", "--jobs", type=click.IntRange(min=0), default=0, show_default="all usable cores",
                     help="Worker processes for reading, fingerprinting and verifying "
                          "(results do not depend on it). Usable cores: the CPU affinity, "
                          "capped by a container's CPU quota."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _parse_fields(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for value in values:
        ours, sep, theirs = value.partition("=")
        if not sep or not theirs.strip() or ours.strip() not in FIELDS:
            raise click.BadParameter(f"{value!r} is not NAME=FIELD with NAME one of {', '.join(FIELDS)} "
                                     "(e.g. text=body)")
        fields[ours.strip()] = theirs.strip()
    return fields


def field_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """--field NAME=FIELD, of every command that reads JSON records."""
    return click.option(
        "--field", "fields", multiple=True, callback=_parse_fields, metavar="NAME=FIELD",
        help="Read our field NAME (id, text, html, title, url, source, published) from the JSON records' "
             "FIELD, e.g. --field text=body --field published=date. Repeatable.")(func)


def build_config(window: str | None, containment: float, lsh_threshold: float, shingle_size: int, num_perm: int,
                 screen: float | None = None, canonical: str = Config.canonical, prefer_source: str = "") -> Config:
    try:
        window_seconds = parse_duration(window) if window else None
    except click.BadParameter as exc:
        raise click.BadParameter(exc.message, param_hint="'--window'") from exc
    try:
        return Config(
            canonical=canonical,  # type: ignore[arg-type]
            prefer_sources=tuple(s.strip() for s in prefer_source.split(",") if s.strip()),
            window_seconds=window_seconds,
            containment_threshold=containment, lsh_threshold=lsh_threshold,
            shingle_size=shingle_size, num_perm=num_perm,
            screen_fraction=Config.screen_fraction if screen is None else screen,
        )
    except DedupError as exc:
        raise click.UsageError(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dedup-news")
def cli() -> None:
    """Find copies of the same news story, group them and pick a canonical item."""


def nothing_readable(paths: Sequence[str], skipped: int) -> click.ClickException:
    """The one-line error of a run that read no article (``skipped`` inputs were skipped)."""
    return click.ClickException(f"no readable articles in {', '.join(paths)}"
                                + (f" ({skipped} inputs skipped)" if skipped else ""))


def run_scan(paths: tuple[str, ...], config: Config, quiet: bool, strict: bool, jobs: int = 0,
             output: str | None = None, fields: dict[str, str] | None = None) -> Result:
    """Read and cluster; shared by ``scan`` and ``eval``. The report file ``output``, if it is
    in a folder scanned (left by an earlier run), is not read as an article; ``fields``: the
    names of our fields in JSON records."""
    warn = Warner()
    hook = progress_hook(quiet)
    try:
        units = read_units(paths, warn, leave_out=output, fields=fields)
        result = scan_units(units, config, jobs=jobs, on_problem=warn, progress=hook)
    except DedupError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        warn.finish()
    result.problems = warn.problems  # those found while listing folders too
    if not result.items:
        raise nothing_readable(paths, len(result.problems))
    if strict and any(p.skipped for p in result.problems):
        n = sum(1 for p in result.problems if p.skipped)
        raise click.ClickException(str(StrictInputError(f"{n} input(s) skipped and --strict is set")))
    return result


def emit(result: Result, fmt: str, output: str | None) -> None:
    """Write a report to ``output`` or standard output, a line at a time for jsonl and csv
    (a million articles' report is never held whole in memory)."""
    if output:
        try:
            with open(output, "w", encoding="utf-8") as fh:
                report.write(result, fmt, fh)
        except OSError as exc:
            raise click.ClickException(f"cannot write {output}: {exc.strerror}") from exc
        return
    report.write(result, fmt, sys.stdout)  # a reader that stops early (`| head`): click ends quietly


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--format", "fmt", type=click.Choice(report.FORMATS), default="text", show_default=True,
              help="Output format; jsonl has one line per article.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the report to this file instead of standard output.")
@run_options
@field_option
@config_options
@screen_option
def scan(paths: tuple[str, ...], fmt: str, output: str | None, strict: bool, quiet: bool, jobs: int,
         fields: dict[str, str], **options: Any) -> None:
    """Cluster the articles in PATH... (folders, files, or - for JSON Lines on stdin).

    Reads .txt/.md, .html/.htm, .json, .jsonl/.ndjson, each optionally compressed (.gz, .zst),
    and the HTML pages of web archives (.warc, .warc.gz).
    """
    config = build_config(**options)
    result = run_scan(paths, config, quiet, strict, jobs, output, fields)
    emit(result, fmt, output)
    if not quiet and (output or fmt != "text"):
        n = result.counts()
        click.echo(f"{report.counted(n['articles'], 'article')} read, {n['skipped']} skipped, "
                   f"{report.counted(n['clusters'], 'cluster')}, {report.counted(n['duplicates'], 'duplicate')}",
                   err=True)


@cli.command("eval")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--truth", "truth_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help='JSON Lines of {"id": ..., "cluster": ...}, the true story of each article.')
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--show", type=click.IntRange(0, 10), default=5, show_default=True,
              help="Worst merges and splits to list, with their articles.")
@run_options
@field_option
@config_options
@screen_option
def eval_cmd(paths: tuple[str, ...], truth_path: str, as_json: bool, show: int, strict: bool, quiet: bool,
             jobs: int, fields: dict[str, str], **options: Any) -> None:
    """Cluster PATH... and score the result against --truth labels.

    Prints pairwise and B-cubed precision/recall/F1, the adjusted Rand index and
    the worst merges and splits with their articles. Article ids are paths
    relative to the folder given (as in ``scan``'s reports); truth articles the
    scan did not produce count as singletons.
    """
    import json
    import time

    from . import evaluate

    config = build_config(**options)
    try:
        truth = evaluate.read_labels(truth_path)
        if not truth:
            raise InputError(f"{truth_path} holds no labels")
        started = time.perf_counter()
        result = run_scan(paths, config, quiet, strict, jobs, fields=fields)
        seconds = time.perf_counter() - started
        predicted = {i: str(a.cluster) for i, a in result.assignments.items()}
        scores = evaluate.score(truth, predicted)
    except DedupError as exc:
        raise click.ClickException(str(exc)) from exc
    titles = {i: it.title for i, it in result.items.items()}
    if scores.missing and not quiet:
        click.echo(f"Warning: {scores.missing} of {scores.articles} truth ids are not among the scanned articles "
                   "(ids are paths relative to the folder given); they count as singletons", err=True)
    if as_json:
        doc = evaluate.report_dict(scores, titles, show)
        doc["scan"] = {"seconds": round(seconds, 3), **result.counts()}
        click.echo(json.dumps(doc, ensure_ascii=False, indent=1))
    else:
        click.echo(evaluate.render_text(scores, titles, show), nl=False)
        if not quiet:
            n = result.counts()
            click.echo(f"{report.counted(n['articles'], 'article')} read, {n['skipped']} skipped, "
                       f"{report.counted(n['clusters'], 'cluster')} in {seconds:.1f} s", err=True)


@cli.command()
@click.argument("first", metavar="A")
@click.argument("second", metavar="B")
@click.option("--in", "corpus", type=click.Path(exists=True), default=None, metavar="PATH",
              help="The folder or file the articles were scanned from: A and B may then be ids within it, "
                   "and boilerplate is counted over all of it, as scan does.")
@field_option
@matching_options
@screen_option
def explain(first: str, second: str, corpus: str | None, fields: dict[str, str], **options: Any) -> None:
    """Show why articles A and B are (or are not) copies of one story.

    A and B are paths to article files, or ids within the --in folder/file.
    """
    from .explain import explain as explain_pair
    from .reading import read_articles

    config = build_config(**options)
    warn = Warner()
    try:
        if corpus:
            articles = list(read_articles([corpus], warn, fields=fields))
            by_id = {a.id: a for a in articles}
            found = []
            for name in (first, second):
                art = by_id.get(name) or by_id.get(_relative(name, corpus))
                if art is None:
                    raise click.ClickException(f"{name} is not an article id or path within {corpus}")
                found.append(art)
            result = explain_pair(found[0], found[1], config, articles)
        else:
            pair = []
            for name in (first, second):
                got = list(read_articles([name], warn, fields=fields))
                if len(got) != 1:
                    raise click.ClickException(
                        f"{name} holds {len(got)} articles; give one article file, or use --in with ids")
                pair.append(got[0])
            result = explain_pair(pair[0], pair[1], config)
    except DedupError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        warn.finish()
    click.echo(str(result))


def _relative(path: str, root: str) -> str:
    import os

    try:
        return os.path.relpath(path, root).replace(os.sep, "/")
    except ValueError:
        return path


from .cli_index import index_group  # noqa: E402 - at the bottom: it imports this module's helpers

cli.add_command(index_group)
