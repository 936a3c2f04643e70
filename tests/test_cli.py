"""The ``dedup`` command through click's CliRunner: exit codes, formats, options, errors."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from dedup import Config
from dedup.cli import cli
from dedup.pipeline import scan_units

DATA = Path(__file__).resolve().parent / "data"
STORIES = {r["id"]: r for r in map(json.loads, (DATA / "reuters-stories.jsonl").read_text("utf-8").splitlines())}

EXTRA = ("Analysts in Paris said the figures were in line with what the market had expected after the "
         "realignment, and that the franc had held steady against the mark in early trading on Thursday.")


def invoke(*args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def _write(path: Path, record: dict[str, str]) -> None:
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Three copies of one story, each winning under one canonical policy, and one other story.

    * ``a_first.json``: first in input order (paths are read sorted);
    * ``b_early.json``: published first, with curly quotes;
    * ``c_long.json``: the most complete text (one more paragraph);
    * ``d_other.txt``: a different story, alone.
    """
    story = STORIES["reuters-2110"]
    text = story["text"]
    folder = tmp_path / "corpus"
    folder.mkdir()
    _write(folder / "a_first.json", {"title": story["title"], "text": text, "source": "First Post",
                                     "published": "1987-03-05T11:00:00Z"})
    _write(folder / "b_early.json", {"title": story["title"], "text": text.replace("(EMS)", "\u201cEMS\u201d"),
                                     "source": "Early Wire", "published": "1987-03-05T10:53:16Z"})
    _write(folder / "c_long.json", {"title": story["title"], "text": text + "\n" + EXTRA, "source": "Long Times",
                                    "published": "1987-03-05T12:00:00Z"})
    other = STORIES["reuters-16005"]
    (folder / "d_other.txt").write_text(f"{other['title']}\n\n{other['text']}\n", encoding="utf-8")
    return folder


def _jsonl(result: Result) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def _canonical(result: Result) -> str:
    (canon,) = {r["canonical_id"] for r in _jsonl(result) if r["id"] != "d_other.txt"}
    return str(canon)


# ---------------------------------------------------------------- formats

def test_text_report(corpus: Path) -> None:
    result = invoke("scan", str(corpus))
    assert result.exit_code == 0
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("cluster 1: 3 articles (weakest link ")
    assert lines[1] == f"  canonical: {STORIES['reuters-2110']['title']}"
    assert lines[2] == "             Early Wire | b_early.json | 1987-03-05T10:53:16Z"
    assert [line.split()[1] for line in lines[3:5]] == ["a_first.json", "c_long.json"]
    assert lines[-1] == "4 articles read, 0 skipped, 2 clusters (1 with copies, 1 single), 2 duplicates"


def test_json_report(corpus: Path) -> None:
    result = invoke("scan", str(corpus), "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    counts = doc["counts"]
    assert counts.pop("pairs_checked") >= 3
    assert counts.pop("pairs_screened") >= 0
    assert counts == {"articles": 4, "skipped": 0, "warnings": 0, "clusters": 2, "multi_member_clusters": 1,
                      "duplicates": 2}
    assert doc["settings"] == Config().to_dict()
    assert doc["problems"] == []
    first, second = doc["clusters"]
    assert (first["size"], first["canonical_id"], first["source"]) == (3, "b_early.json", "Early Wire")
    assert [m["id"] for m in first["members"]] == ["b_early.json", "a_first.json", "c_long.json"]
    assert [m["is_canonical"] for m in first["members"]] == [True, False, False]
    assert (second["size"], second["canonical_id"]) == (1, "d_other.txt")
    assert result.stderr == "4 articles read, 0 skipped, 2 clusters, 2 duplicates\n"


def test_jsonl_report(corpus: Path) -> None:
    result = invoke("scan", str(corpus), "--format", "jsonl")
    assert result.exit_code == 0
    records = _jsonl(result)
    assert [r["id"] for r in records] == ["b_early.json", "a_first.json", "c_long.json", "d_other.txt"]
    assert [r["cluster"] for r in records] == [1, 1, 1, 2]
    early = records[0]
    assert early == {"id": "b_early.json", "cluster": 1, "canonical_id": "b_early.json", "is_canonical": True,
                     "similarity": 1.0, "title": STORIES["reuters-2110"]["title"], "source": "Early Wire",
                     "published": "1987-03-05T10:53:16Z"}
    assert all(0.7 <= float(r["similarity"]) <= 1.0 for r in records[:3])  # type: ignore[arg-type]


def test_csv_report(corpus: Path) -> None:
    result = invoke("scan", str(corpus), "--format", "csv")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "id,cluster,canonical_id,is_canonical,similarity,title,source,url,published"
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["id"], r["cluster"], r["canonical_id"], r["is_canonical"]) for r in rows] == [
        ("b_early.json", "1", "b_early.json", "True"),
        ("a_first.json", "1", "b_early.json", "False"),
        ("c_long.json", "1", "b_early.json", "False"),
        ("d_other.txt", "2", "d_other.txt", "True"),
    ]
    # A plain-text file has no source, URL or date: empty cells, not "None".
    assert (rows[3]["source"], rows[3]["url"], rows[3]["published"]) == ("", "", "")
    assert rows[0]["source"] == "Early Wire" and rows[0]["published"] == "1987-03-05T10:53:16Z"


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "csv"])
def test_output_file_holds_what_stdout_would(corpus: Path, tmp_path: Path, fmt: str) -> None:
    to_stdout = invoke("scan", str(corpus), "--format", fmt, "--quiet")
    target = tmp_path / f"report.{fmt}"
    to_file = invoke("scan", str(corpus), "--format", fmt, "--output", str(target))
    assert to_file.exit_code == 0
    assert to_file.stdout == ""
    assert to_file.stderr == "4 articles read, 0 skipped, 2 clusters, 2 duplicates\n"
    assert target.read_text(encoding="utf-8") == to_stdout.stdout


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_a_report_written_into_the_folder_scanned_is_not_read_back(corpus: Path, fmt: str) -> None:
    target = corpus / "sub" / f"report.{fmt}"
    target.parent.mkdir()
    first = invoke("scan", str(corpus), "--format", fmt, "--output", str(target))
    again = invoke("scan", str(corpus), "--format", fmt, "--output", str(target))
    assert first.stderr == again.stderr == "4 articles read, 0 skipped, 2 clusters, 2 duplicates\n"
    assert "report" in invoke("scan", str(corpus), "--format", "jsonl").stderr  # read when not the output


def test_quiet_prints_no_summary(corpus: Path, tmp_path: Path) -> None:
    result = invoke("scan", str(corpus), "--format", "json", "-o", str(tmp_path / "r.json"), "-q")
    assert result.exit_code == 0
    assert result.output == ""


def test_unwritable_output_is_a_one_line_error(corpus: Path, tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "report.json"
    result = invoke("scan", str(corpus), "-o", str(target))
    assert result.exit_code == 1
    assert result.stderr == f"Error: cannot write {target}: No such file or directory\n"


def test_worker_count_does_not_change_the_result(corpus: Path) -> None:
    one = invoke("scan", str(corpus), "--format", "jsonl", "-q", "--jobs", "1")
    two = invoke("scan", str(corpus), "--format", "jsonl", "-q", "--jobs", "2")
    assert one.exit_code == two.exit_code == 0
    assert one.stdout == two.stdout


# ---------------------------------------------------------------- canonical choice

@pytest.mark.parametrize(("policy", "expected"), [
    ("earliest", "b_early.json"),
    ("longest", "c_long.json"),
    ("first", "a_first.json"),
])
def test_canonical_policy(corpus: Path, policy: str, expected: str) -> None:
    result = invoke("scan", str(corpus), "--format", "jsonl", "--canonical", policy)
    assert result.exit_code == 0
    assert _canonical(result) == expected


@pytest.mark.parametrize(("prefer", "policy", "expected"), [
    ("Long Times", "earliest", "c_long.json"),
    ("Nobody, First Post, Long Times", "earliest", "a_first.json"),
    ("long times", "first", "c_long.json"),  # source names compare without case
    ("Nobody", "earliest", "b_early.json"),  # no member from a preferred source: the policy alone decides
])
def test_prefer_source(corpus: Path, prefer: str, policy: str, expected: str) -> None:
    result = invoke("scan", str(corpus), "--format", "jsonl", "--prefer-source", prefer, "--canonical", policy)
    assert result.exit_code == 0
    assert _canonical(result) == expected


def test_unknown_canonical_policy_is_a_usage_error(corpus: Path) -> None:
    result = invoke("scan", str(corpus), "--canonical", "newest")
    assert result.exit_code == 2
    assert "Invalid value for '--canonical'" in result.stderr.splitlines()[-1]


# ---------------------------------------------------------------- time window

def test_window_keeps_copies_published_far_apart_separate(tmp_path: Path) -> None:
    story = STORIES["reuters-4441"]
    for name, when in (("now.json", "1987-03-12T14:53:04Z"), ("later.json", "1987-03-22T09:00:00Z")):
        _write(tmp_path / name, {"title": story["title"], "text": story["text"], "published": when})
    together = invoke("scan", str(tmp_path), "--format", "jsonl")
    apart = invoke("scan", str(tmp_path), "--format", "jsonl", "--window", "3d")
    wide = invoke("scan", str(tmp_path), "--format", "jsonl", "--window", "2w")
    assert len({r["cluster"] for r in _jsonl(together)}) == 1
    assert len({r["cluster"] for r in _jsonl(apart)}) == 2
    assert len({r["cluster"] for r in _jsonl(wide)}) == 1


def test_bad_window_is_a_usage_error(corpus: Path) -> None:
    result = invoke("scan", str(corpus), "--window", "3x")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--window': '3x' is not a duration such as 90m, 12h, 3d or 1w")


def test_out_of_range_setting_is_a_usage_error(corpus: Path) -> None:
    result = invoke("scan", str(corpus), "--containment", "1.5")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == "Error: containment_threshold must be in (0, 1], got 1.5"


# ---------------------------------------------------------------- standard input

def _stdin_lines() -> list[str]:
    a, b = STORIES["reuters-9134"], STORIES["reuters-2924"]
    copy = {**a, "id": "copy-of-9134", "source": "Tokyo Times", "published": "1987-03-25T03:00:00Z"}
    return [json.dumps(r) for r in (a, b, copy)]


def test_dash_reads_json_lines_from_stdin() -> None:
    result = invoke("scan", "-", "--format", "jsonl", input="\n".join(_stdin_lines()) + "\n")
    assert result.exit_code == 0
    records = {r["id"]: r for r in _jsonl(result)}
    assert set(records) == {"reuters-9134", "reuters-2924", "copy-of-9134"}
    assert records["copy-of-9134"]["canonical_id"] == "reuters-9134"
    assert records["reuters-2924"]["canonical_id"] == "reuters-2924"


def test_stdin_and_a_folder_together(corpus: Path) -> None:
    result = invoke("scan", str(corpus), "-", "--format", "jsonl", input="\n".join(_stdin_lines()))
    assert result.exit_code == 0
    assert len(_jsonl(result)) == 7


def test_bad_stdin_line_is_warned_with_its_line_number() -> None:
    lines = _stdin_lines()
    lines.insert(1, "{not json")
    result = invoke("scan", "-", "--format", "jsonl", input="\n".join(lines))
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1
    assert warnings[0].startswith("Warning: <stdin>:2: malformed JSON line")
    assert len(_jsonl(result)) == 3


@pytest.mark.parametrize("given", ["Plain text of a story.\nA second line.\nA third.\n",
                                   '[{"id": "a", "text": "A JSON array, not JSON Lines."}]\n'])
def test_stdin_that_is_not_json_lines_is_one_warning(given: str) -> None:
    result = invoke("scan", "-", input=given)
    assert result.exit_code == 1
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert warnings == ["Warning: <stdin>: not JSON Lines: the first line is not a JSON object (give one object "
                        "per line, or plain text and HTML as files in a folder)"]


def test_a_jsonl_file_of_plain_text_is_one_warning_and_the_rest_is_read(tmp_path: Path) -> None:
    (tmp_path / "notes.jsonl").write_text("\n\nsome notes\n{\"id\": \"x\", \"text\": \"never read\"}\n")
    (tmp_path / "story.txt").write_text("Copper prices firmed on the London Metal Exchange on Tuesday.\n")
    result = invoke("scan", str(tmp_path), "--format", "jsonl")
    assert result.exit_code == 0
    assert [line for line in result.stderr.splitlines() if line.startswith("Warning:")] == [
        "Warning: notes.jsonl: not JSON Lines: the first line is not a JSON object (give one object per line, "
        "or plain text and HTML as files in a folder)"]
    assert [r["id"] for r in _jsonl(result)] == ["story.txt"]


# ---------------------------------------------------------------- errors and --strict

def test_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = invoke("scan", str(missing))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: path does not exist: {missing}\n"


def test_missing_path_among_good_ones(corpus: Path, tmp_path: Path) -> None:
    result = invoke("scan", str(corpus), str(tmp_path / "nope"))
    assert result.exit_code == 1
    assert result.stderr == f"Error: path does not exist: {tmp_path / 'nope'}\n"


def test_no_arguments() -> None:
    result = invoke("scan")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == "Error: Missing argument 'PATH...'."


def test_no_command_shows_the_commands() -> None:
    result = invoke()
    assert "scan" in result.output
    assert "Error" not in result.output


def test_nothing_readable(tmp_path: Path) -> None:
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01\x02\x03 not text")
    result = invoke("scan", str(tmp_path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "Warning: blob.txt: binary file, not text",
        f"Error: no readable articles in {tmp_path} (1 inputs skipped)",
    ]


def test_empty_folder(tmp_path: Path) -> None:
    result = invoke("scan", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr == f"Error: no readable articles in {tmp_path}\n"


def test_skipped_input_is_a_warning_without_strict(corpus: Path) -> None:
    (corpus / "blob.txt").write_bytes(b"\x00binary")
    result = invoke("scan", str(corpus))
    assert result.exit_code == 0
    assert result.stderr == "Warning: blob.txt: binary file, not text\n"
    assert result.stdout.splitlines()[-1] == (
        "4 articles read, 1 skipped, 2 clusters (1 with copies, 1 single), 2 duplicates")


def test_strict_fails_when_an_input_is_skipped(corpus: Path) -> None:
    (corpus / "blob.txt").write_bytes(b"\x00binary")
    result = invoke("scan", str(corpus), "--strict")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "Warning: blob.txt: binary file, not text",
        "Error: 1 input(s) skipped and --strict is set",
    ]


def test_strict_passes_a_caveat_that_lost_nothing(corpus: Path) -> None:
    (corpus / "latin1.txt").write_bytes("Caf\u00e9 prices rise\n\nCaf\u00e9 owners in Paris raised prices "
                                        "again this week, the trade body said.\n".encode("latin-1"))
    result = invoke("scan", str(corpus), "--strict", "--format", "jsonl")
    assert result.exit_code == 0
    assert result.stderr.startswith("Warning: latin1.txt: invalid UTF-8")
    assert "latin1.txt" in {r["id"] for r in _jsonl(result)}


def test_strict_passes_clean_input(corpus: Path) -> None:
    result = invoke("scan", str(corpus), "--strict")
    assert result.exit_code == 0


# ---------------------------------------------------------------- help and version

def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert "0.1.0" in result.stdout


def test_every_command_is_documented() -> None:
    listing = invoke("--help")
    assert listing.exit_code == 0
    for name, command in cli.commands.items():  # type: ignore[attr-defined]
        assert command.help, f"{name} has no help text"
        assert name in listing.stdout
        page = invoke(name, "--help")
        assert page.exit_code == 0
        assert page.stdout.startswith(f"Usage: cli {name} ")


def test_progress_counts_articles_and_pairs(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The library hands the progress hook batches that say how many articles or pairs they
    stand for; the CLI's bar (on a terminal) counts those, not batches."""
    from dedup.cli import progress_hook
    from dedup.pipeline import Counted
    from dedup.reading import read_units

    seen: dict[str, tuple[int | None, int]] = {}

    def hook(items: Iterable[Any], label: str, total: int | None) -> Iterator[Any]:
        count = 0
        for item in items:
            count += item.count
            yield item
        seen[label] = (total, count)

    scan_units(read_units([corpus], lambda p: None), progress=hook)
    assert seen["reading"] == (None, 4) and seen["fingerprinting"] == (4, 4)
    assert seen["verifying"][0] == seen["verifying"][1] > 0  # pairs of texts sent to be aligned

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    made: list[dict[str, Any]] = []

    class Bar:  # stands in for tqdm: what the bar is told
        def __init__(self, **options: Any) -> None:
            self.options, self.n = options, 0
            made.append(options)

        def __enter__(self) -> Bar:
            return self

        def __exit__(self, *exc: object) -> None:
            self.options["shown"] = self.n

        def update(self, n: int) -> None:
            self.n += n

    import tqdm

    monkeypatch.setattr(sys, "stderr", Terminal())
    monkeypatch.setattr(tqdm, "tqdm", Bar)
    bar = progress_hook(quiet=False)
    assert [c.value for c in bar([Counted("a", 5), Counted("b", 7)], "reading", None)] == ["a", "b"]
    assert list(bar(["x"], "indexing", None)) == ["x"]  # a plain item counts one
    assert [(b["desc"], b["unit"], b["total"], b["shown"]) for b in made] == [
        ("reading", " articles", None, 12), ("indexing", " articles", None, 1)]
