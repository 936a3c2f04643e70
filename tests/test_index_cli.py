"""``dedup index ...`` through click's CliRunner: exact output, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dedup.cli import cli
from dedup.cli_index import index_group
from dedup.index import FORMAT_VERSION

DATA = Path(__file__).resolve().parent / "data"
STORIES = {r["id"]: r for r in map(json.loads, (DATA / "reuters-stories.jsonl").read_text("utf-8").splitlines())}


def invoke(*args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def _record(story: str, ident: str, source: str, published: str | None, curly: bool = False) -> dict[str, str]:
    s = STORIES[story]
    text = s["text"].replace("(EMS)", "\u201cEMS\u201d") if curly else s["text"]
    rec = {"id": ident, "title": s["title"], "text": text, "source": source}
    if published:
        rec["published"] = published
    return rec


@pytest.fixture
def first(tmp_path: Path) -> Path:
    """A story and its copy (published later, curly quotes), and another story; all from 1987."""
    path = tmp_path / "first.jsonl"
    records = [_record("reuters-2110", "wire-2110", "Reuters", "1987-03-05T10:53:16Z"),
               _record("reuters-2110", "paris-2110", "Paris Daily", "1987-03-05T11:20:00Z", curly=True),
               _record("reuters-16005", "wire-16005", "Reuters", "1987-03-06T09:00:00Z")]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def later(tmp_path: Path) -> Path:
    """An undated copy of the first story, from another site."""
    path = tmp_path / "later.jsonl"
    path.write_text(json.dumps(_record("reuters-2110", "coast-2110", "Coast Herald", None)) + "\n", encoding="utf-8")
    return path


def test_add_prints_a_summary(tmp_path: Path, first: Path) -> None:
    db = str(tmp_path / "index.db")
    result = invoke("index", "add", db, str(first))
    assert result.exit_code == 0
    assert result.stdout == ("3 articles added (1 copy of indexed stories, 2 new stories), 0 already in the index, "
                             "0 skipped; the index holds 3 articles in 2 clusters\n")
    again = invoke("index", "add", db, str(first))
    assert again.stdout == ("0 articles added (0 copies of indexed stories, 0 new stories), 3 already in the index, "
                            "0 skipped; the index holds 3 articles in 2 clusters\n")


def test_add_counts_skipped_inputs_and_fails_with_nothing_readable(tmp_path: Path, first: Path) -> None:
    db = tmp_path / "index.db"
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "first.jsonl").write_bytes(first.read_bytes())
    (mixed / "broken.json").write_text("{not json", encoding="utf-8")
    result = invoke("index", "add", str(db), str(mixed))
    assert result.exit_code == 0
    assert "Warning: broken.json: invalid JSON" in result.stderr
    assert ", 0 already in the index, 1 skipped; " in result.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "blank.txt").write_text("  \n", encoding="utf-8")
    for command in ("add", "query"):
        nothing = invoke("index", command, str(db), str(empty))
        assert nothing.exit_code == 1
        assert "Error: no readable articles in" in nothing.stderr and "(1 inputs skipped)" in nothing.stderr
    missing = invoke("index", "add", str(tmp_path / "new.db"), str(tmp_path / "nope"))
    assert missing.exit_code == 1 and "Error: path does not exist" in missing.stderr
    assert not (tmp_path / "new.db").exists()


def test_add_jsonl_says_where_each_article_landed(tmp_path: Path, first: Path) -> None:
    result = invoke("index", "add", f"sqlite:///{tmp_path / 'index.db'}", str(first), "--format", "jsonl")
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["id"], r["cluster"], r["joined"], r["matched"], r["canonical_id"]) for r in lines] == [
        ("wire-2110", 1, False, None, "wire-2110"),
        ("paris-2110", 1, True, "wire-2110", "wire-2110"),
        ("wire-16005", 2, False, None, "wire-16005"),
    ]
    assert result.stderr.startswith("3 articles added")


def test_query_does_not_add(tmp_path: Path, first: Path, later: Path) -> None:
    db = str(tmp_path / "index.db")
    invoke("index", "add", db, str(first))
    result = invoke("index", "query", db, str(later), str(first))
    assert result.exit_code == 0
    assert result.stdout == (
        "coast-2110: copy of wire-2110 (cluster 1, similarity 1.00, canonical wire-2110)\n"
        "wire-2110: already in the index (cluster 1, canonical wire-2110)\n"
        "paris-2110: already in the index (cluster 1, canonical wire-2110)\n"
        "wire-16005: already in the index (cluster 2, canonical wire-16005)\n")
    assert invoke("index", "stats", db, "--json").stdout.count('"articles": 3') == 1
    jsonl = invoke("index", "query", db, str(later), "--format", "jsonl")
    assert json.loads(jsonl.stdout) == {"id": "coast-2110", "cluster": 1, "canonical_id": "wire-2110",
                                        "is_canonical": False, "similarity": 1.0, "matched": "wire-2110",
                                        "joined": True, "added": False, "present": False, "taken": False}


def test_stats(tmp_path: Path, first: Path) -> None:
    db = str(tmp_path / "index.db")
    invoke("index", "add", db, str(first))
    lines = invoke("index", "stats", db).stdout.splitlines()
    assert lines[:7] == [
        f"index                 {db}",
        f"format                {FORMAT_VERSION}",
        "articles              3",
        "clusters              2",
        "clusters with copies  1",
        "duplicates            1",
        "largest cluster       2",
    ]
    assert lines[7] == "settings"
    assert "  shingle_size = 3" in lines and '  canonical = "earliest"' in lines
    data = json.loads(invoke("index", "stats", db, "--json").stdout)
    assert (data["articles"], data["clusters"], data["config"]["num_perm"]) == (3, 2, 128)


def test_prune(tmp_path: Path, first: Path, later: Path) -> None:
    db = str(tmp_path / "index.db")
    invoke("index", "add", db, str(first), str(later))
    result = invoke("index", "prune", db, "--older-than", "7d")
    assert (result.exit_code, result.stdout) == (0, "3 articles removed, 1 left\n")  # the undated one was added now
    assert invoke("index", "prune", db, "--older-than", "7d").stdout == "0 articles removed, 1 left\n"


def test_bad_duration_is_a_usage_error(tmp_path: Path, first: Path) -> None:
    db = str(tmp_path / "index.db")
    invoke("index", "add", db, str(first))
    result = invoke("index", "prune", db, "--older-than", "soon")
    assert result.exit_code == 2
    assert "Invalid value for '--older-than': 'soon' is not a duration" in result.stderr


def test_export_gives_the_records_of_scan(tmp_path: Path, first: Path) -> None:
    db = str(tmp_path / "index.db")
    invoke("index", "add", db, str(first))
    exported = [json.loads(line) for line in invoke("index", "export", db, "--format", "jsonl").stdout.splitlines()]
    scanned = [json.loads(line) for line in invoke("scan", str(first), "--format", "jsonl").stdout.splitlines()]
    assert exported == scanned  # cluster numbers too: here the index's ids happen to be scan's
    out = tmp_path / "out.jsonl"
    assert invoke("index", "export", db, "-o", str(out)).stdout == ""
    assert [json.loads(line) for line in out.read_text("utf-8").splitlines()] == exported
    text = invoke("index", "export", db, "--format", "text").stdout
    assert text.endswith("3 articles read, 0 skipped, 2 clusters (1 with copies, 1 single), 1 duplicate\n")


def test_other_settings_are_a_one_line_error(tmp_path: Path, first: Path) -> None:
    db = str(tmp_path / "index.db")
    invoke("index", "add", db, str(first), "--shingle-size", "4")
    result = invoke("index", "add", db, str(first))  # no options: the index's own settings
    assert result.exit_code == 0
    result = invoke("index", "add", db, str(first), "--num-perm", "64")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {db}: the index was built with other settings: "
                                    "shingle_size=4 (asked for 3), num_perm=128 (asked for 64).")
    assert result.stderr.count("\n") == 1


def test_commands_on_a_missing_index_are_errors(tmp_path: Path, first: Path) -> None:
    db = str(tmp_path / "missing.db")
    for args in (("query", db, str(first)), ("stats", db), ("prune", db, "--older-than", "1d"), ("export", db)):
        result = invoke("index", *args)
        assert result.exit_code == 1
        assert result.stderr == f"Error: {db}: no index here (add articles to create one)\n"
    assert not Path(db).exists()


def test_every_index_command_is_documented() -> None:
    listing = invoke("index", "--help")
    assert listing.exit_code == 0
    for name, command in index_group.commands.items():
        assert command.help, f"index {name} has no help text"
        assert name in listing.stdout
        page = invoke("index", name, "--help")
        assert page.exit_code == 0
        assert page.stdout.startswith(f"Usage: cli index {name} ")


def test_a_file_whose_id_the_index_holds_with_another_text_is_warned_about_and_skipped(tmp_path: Path) -> None:
    for day, story in (("day1", "reuters-9134"), ("day2", "reuters-2924")):
        (tmp_path / day).mkdir()
        (tmp_path / day / "a.txt").write_text(_record(story, "x", "Wire", None)["text"])
    index = str(tmp_path / "index.db")
    assert invoke("index", "add", index, str(tmp_path / "day1")).exit_code == 0
    result = invoke("index", "add", index, str(tmp_path / "day2"))
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1 and "the index holds another text under the id 'a.txt': not added" in warnings[0]
    assert "0 articles added" in result.stdout and "1 skipped" in result.stdout
    again = invoke("index", "add", index, str(tmp_path / "day1"))  # the same file again: no warning
    assert "Warning" not in again.stderr and "1 already in the index" in again.stdout


def test_fields_named_otherwise_are_read_with_field(tmp_path: Path) -> None:
    """A feed in another schema (news-please's ``maintext``, ``date_publish``, ``source_domain``):
    without --field nothing is read and the warning names the fields; with it, the scan and the
    index read the text, the time and the source, and a record's own ``text`` is not read."""
    records = [_record("reuters-2110", "paris-2110", "Paris Daily", "1987-03-05T11:20:00Z", curly=True),
               _record("reuters-2110", "wire-2110", "Reuters", "1987-03-05T10:53:16Z"),
               _record("reuters-16005", "wire-16005", "Reuters", "1987-03-06T09:00:00Z")]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps({"id": r["id"], "title": r["title"], "maintext": r["text"],
                                        "text": "A teaser line.", "source_domain": r["source"],
                                        "date_publish": r["published"].replace("T", " ")[:19]}) + "\n"
                            for r in records), encoding="utf-8")
    fields = ["--field", "text=maintext", "--field", "published=date_publish", "--field", "source=source_domain"]

    from dedup import read_articles

    assert {a.text for a in read_articles([feed], lambda p: None)} == {"A teaser line."}
    mapped = invoke("scan", str(feed), "--format", "json", *fields)
    assert mapped.exit_code == 0 and "Warning" not in mapped.stderr
    doc = json.loads(mapped.stdout)
    members = {m["id"]: m for c in doc["clusters"] for m in c["members"]}
    assert [(c["canonical_id"], sorted(m["id"] for m in c["members"])) for c in doc["clusters"]] == [
        ("wire-2110", ["paris-2110", "wire-2110"]), ("wire-16005", ["wire-16005"])]  # the earlier by date_publish
    assert (members["wire-2110"]["source"], members["wire-2110"]["published"]) == ("Reuters", "1987-03-05 10:53:16")

    added = invoke("index", "add", str(tmp_path / "index.db"), str(feed), *fields)
    assert added.exit_code == 0 and "3 articles added (1 copy of indexed stories, 2 new stories)" in added.stdout

    bad = invoke("scan", str(feed), "--field", "body=maintext")
    assert bad.exit_code == 2 and "'body=maintext' is not NAME=FIELD with NAME one of id, text" in bad.output


def test_fields_of_one_article_json_files_and_lists(tmp_path: Path) -> None:
    from dedup import read_articles

    s = STORIES["reuters-2110"]
    (tmp_path / "one.json").write_text(json.dumps({"headline": s["title"], "body": s["text"]}), encoding="utf-8")
    (tmp_path / "list.json").write_text(json.dumps([{"key": "k1", "headline": "Other", "body": "Some words."}]),
                                        encoding="utf-8")
    fields = {"text": "body", "title": "headline", "id": "key"}
    got = {a.id: a.title for a in read_articles([tmp_path], lambda p: None, fields=fields)}
    assert got == {"one.json": s["title"], "k1": "Other"}  # a one-article file keeps its path for an id
