"""``dedup index ...``: the persistent index from the command line.

Each command opens the index, calls one library method per article (or one
for the whole command) and prints. INDEX is a file path, ``sqlite:///PATH`` or
``redis://HOST:PORT/DB``. Matching options (``--canonical`` and the others
shared with ``scan``) only matter when given: without them an index is used
with the settings it was created with.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

import click
from click.core import ParameterSource

from . import report
from .cli import (
    Warner,
    build_config,
    config_options,
    emit,
    field_option,
    nothing_readable,
    parse_duration,
    progress_hook,
)
from .errors import DedupError
from .index import Index, IndexStats, Match
from .reading import Problem, read_articles
from .report import counted

_CONFIG_OPTIONS = ("canonical", "prefer_source", "window", "containment", "lsh_threshold", "shingle_size", "num_perm")


def _open(location: str, options: dict[str, Any], *, create: bool) -> Index:
    """Open an index, with a config only if a matching option was given on the command line."""
    ctx = click.get_current_context()
    given = any(ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None) for name in _CONFIG_OPTIONS)
    config = build_config(**options) if given else None
    try:
        return Index.open(location, config, create=create)
    except DedupError as exc:
        raise click.ClickException(str(exc)) from exc


def _describe(m: Match) -> str:
    if m.present:
        return f"{m.id}: already in the index (cluster {m.cluster}, canonical {m.canonical_id})"
    if m.cluster is None:
        return f"{m.id}: new story"
    if not m.joined:
        return f"{m.id}: new story (cluster {m.cluster})"
    canon = "it is now the canonical item" if m.is_canonical else f"canonical {m.canonical_id}"
    return f"{m.id}: copy of {m.matched} (cluster {m.cluster}, similarity {m.similarity:.2f}, {canon})"


@click.group("index")
def index_group() -> None:
    """A persistent index: add articles as they arrive, ask where new ones belong.

    INDEX is a file path or sqlite:///PATH (one SQLite file, created on first
    add) or redis://HOST:PORT/DB (shared by several workers; add ?prefix=NAME
    to keep several indexes in one database).
    """


@index_group.command("add")
@click.argument("location", metavar="INDEX")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--format", "fmt", type=click.Choice(["text", "jsonl"]), default="text", show_default=True,
              help="text: a summary; jsonl: where each article landed, one line each, as it is added.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary on stderr.")
@field_option
@config_options
def add_cmd(location: str, paths: tuple[str, ...], fmt: str, quiet: bool, fields: dict[str, str],
            **options: Any) -> None:
    """Add the articles in PATH... to INDEX, creating it if needed.

    Reads the same inputs as scan. Each article is added on its own, atomically;
    an id already in the index is left as it is.
    """
    warn = Warner()
    hook = progress_hook(quiet)
    counts: Counter[str] = Counter()
    missing = [p for p in paths if p != "-" and not os.path.lexists(p)]
    if missing:  # before the index is created
        raise click.ClickException(f"path does not exist: {missing[0]}")
    with _open(location, options, create=True) as index:
        try:
            for article in hook(read_articles(paths, warn, fields=fields), "indexing", None):
                m = index.add(article)
                if m.taken:
                    warn(Problem(article.where or article.id, f"the index holds another text under the id "
                                 f"{article.id!r}: not added (a file's id is its path in the folder given: add "
                                 f"the folder above it, or give JSON Lines with distinct ids)"))
                    counts["taken"] += 1
                    continue
                counts["added" if m.added else "present"] += 1
                counts["copies" if m.added and m.joined else "other"] += 1
                if fmt == "jsonl":
                    click.echo(json.dumps(m.to_dict(), ensure_ascii=False))
            stats = index.stats()
        except DedupError as exc:
            raise click.ClickException(str(exc)) from exc
        finally:
            warn.finish()
    if not counts:
        raise nothing_readable(paths, warn.skipped)
    summary = (f"{counted(counts['added'], 'article')} added ({counted(counts['copies'], 'copy', 'copies')} of indexed "
               f"stories, {counted(counts['added'] - counts['copies'], 'new story', 'new stories')}), "
               f"{counts['present']} already in the index, {warn.skipped} skipped; the index holds "
               f"{counted(stats.articles, 'article')} in {counted(stats.clusters, 'cluster')}")
    if fmt == "text":
        click.echo(summary)
    elif not quiet:
        click.echo(summary, err=True)


@index_group.command("query")
@click.argument("location", metavar="INDEX")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--format", "fmt", type=click.Choice(["text", "jsonl"]), default="text", show_default=True,
              help="text: one line per article; jsonl: one JSON object per article.")
@field_option
@config_options
def query_cmd(location: str, paths: tuple[str, ...], fmt: str, fields: dict[str, str], **options: Any) -> None:
    """Say where each article in PATH... would land in INDEX, without adding it."""
    warn = Warner()
    queried = 0
    with _open(location, options, create=False) as index:
        try:
            for article in read_articles(paths, warn, fields=fields):
                m = index.query(article)
                queried += 1
                click.echo(json.dumps(m.to_dict(), ensure_ascii=False) if fmt == "jsonl" else _describe(m))
        except DedupError as exc:
            raise click.ClickException(str(exc)) from exc
        finally:
            warn.finish()
    if not queried:
        raise nothing_readable(paths, warn.skipped)


def _stats_text(s: IndexStats) -> str:
    rows = [("index", s.location), ("format", str(s.format)), ("articles", str(s.articles)),
            ("clusters", str(s.clusters)), ("clusters with copies", str(s.multi_member_clusters)),
            ("duplicates", str(s.duplicates)), ("largest cluster", str(s.largest_cluster))]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    lines += ["settings", *(f"  {k} = {json.dumps(v)}" for k, v in s.config.items())]
    return "\n".join(lines)


@index_group.command("stats")
@click.argument("location", metavar="INDEX")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def stats_cmd(location: str, as_json: bool) -> None:
    """Counts of INDEX and the settings it was built with."""
    with _open(location, {}, create=False) as index:
        try:
            s = index.stats()
        except DedupError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(s.to_dict(), indent=1) if as_json else _stats_text(s))


@index_group.command("prune")
@click.argument("location", metavar="INDEX")
@click.option("--older-than", "older_than", required=True, metavar="DURATION",
              help="Remove articles published longer ago than this (e.g. 7d, 12h); undated ones by when added.")
def prune_cmd(location: str, older_than: str) -> None:
    """Remove articles outside a time window from INDEX."""
    try:
        seconds = parse_duration(older_than)
    except click.BadParameter as exc:
        raise click.BadParameter(exc.message, param_hint="'--older-than'") from exc
    with _open(location, {}, create=False) as index:
        try:
            removed = index.prune(older_than=seconds)
            left = len(index)
        except DedupError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"{counted(removed, 'article')} removed, {left} left")


@index_group.command("export")
@click.argument("location", metavar="INDEX")
@click.option("--format", "fmt", type=click.Choice(report.FORMATS), default="jsonl", show_default=True,
              help="The formats of scan; jsonl has one line per article.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of standard output.")
def export_cmd(location: str, fmt: str, output: str | None) -> None:
    """Write every article of INDEX with its cluster, as scan reports them."""
    with _open(location, {}, create=False) as index:
        try:
            result = index.result()
        except DedupError as exc:
            raise click.ClickException(str(exc)) from exc
        emit(result, fmt, output)
