"""Reading input: every bad input gets exactly one warning naming it and the reason,
is counted, and everything else is still read."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup import Article, Problem, find_duplicates, read_articles
from dedup.cli import cli

GOOD = "Grain exports rise\n\nGrain exports rose five pct in March, the agriculture ministry said on Friday.\n"


def read(*paths: Path | str) -> tuple[list[Article], list[Problem]]:
    problems: list[Problem] = []
    articles = list(read_articles(list(paths), problems.append))
    return articles, problems


def _damaged_gzip(payload: bytes) -> bytes:
    """A gzip stream with a valid header and a damaged compressed body (zlib raises, not gzip)."""
    data = gzip.compress(payload * 20)
    return data[:20] + bytes(b ^ 0xFF for b in data[20:60]) + data[60:]


def _jsonl(*records: object) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


REC = {"id": "rec-1", "text": "Copper prices firmed on the London Metal Exchange on Tuesday, dealers said."}

# name -> (file name, content, where, reason pattern, skipped, ids read from the bad file)
BAD_INPUTS: dict[str, tuple[str, bytes, str, str, bool, list[str]]] = {
    "binary file": ("blob.txt", b"GIF89a\x00\x01\x02\x00\x00", "blob.txt", r"^binary file, not text$", True, []),
    "invalid UTF-8": ("latin1.txt", "Caf\u00e9 prices\n\nCaf\u00e9 owners raised prices.\n".encode("latin-1"),
                      "latin1.txt", r"^invalid UTF-8 at byte 3, decoded with replacement characters$", False,
                      ["latin1.txt"]),
    "empty text": ("blank.txt", b"  \n\n\t\n", "blank.txt", r"^empty article, no text found$", True, []),
    "empty html": ("blank.html", b"<html><head><title>x</title></head><body><nav></nav></body></html>",
                   "blank.html", r"^empty article, no text found$", True, []),
    "malformed JSON line": ("feed.jsonl", _jsonl(REC)[:-1] + b"\n{not json\n", "feed.jsonl:2",
                            r"^malformed JSON line \(.+\)$", True, ["rec-1"]),
    "record without text": ("feed.jsonl", _jsonl(REC, {"id": "rec-2", "title": "A headline only", "body": "B"}),
                            "feed.jsonl:2", r"^record has no text or html field \(its fields: title, body\)$", True,
                            ["rec-1"]),
    "record with blank text": ("feed.jsonl", _jsonl({"id": "rec-0", "text": "  "}, REC), "feed.jsonl:1",
                               r"^record's text is empty$", True, ["rec-1"]),
    "text not a string": ("feed.jsonl", _jsonl(REC, {"id": "rec-2", "text": ["a", "list"]}), "feed.jsonl:2",
                          r"^record's text is not a string \(a list\)$", True, ["rec-1"]),
    "line not an object": ("feed.jsonl", _jsonl(REC, [1, 2]), "feed.jsonl:2", r"^record is not a JSON object$",
                           True, ["rec-1"]),
    "invalid UTF-8 line": ("feed.jsonl", _jsonl(REC) + b'{"id": "rec-2", "text": "caf\xe9 au lait prices"}\n',
                           "feed.jsonl:2", r"^invalid UTF-8", False, ["rec-1", "rec-2"]),
    "invalid JSON file": ("story.json", b'{"title": "x", "text": ', "story.json", r"^invalid JSON \(.+\)$", True, []),
    "JSON neither object nor list": ("story.json", b'"just a string"', "story.json",
                                     r"^JSON is neither an article object nor a list of them$", True, []),
    "bad item in a JSON list": ("list.json", json.dumps([REC, {"id": "rec-2"}]).encode(), "list.json#2",
                                r"^record has no text or html field$", True, ["rec-1"]),
    "not gzip at all": ("story.txt.gz", b"plain text, not gzip", "story.txt.gz", r"^corrupt gzip data \(.+\)$",
                        True, []),
    "truncated gzip": ("story.txt.gz", gzip.compress(GOOD.encode())[:-12], "story.txt.gz",
                       r"^corrupt gzip data \(.+\)$", True, []),
    "damaged gzip body": ("story.txt.gz", _damaged_gzip(GOOD.encode()), "story.txt.gz",
                          r"^corrupt gzip data \(.+\)$", True, []),
    "corrupt gzipped JSON Lines": ("feed.jsonl.gz", b"plain text, not gzip", "feed.jsonl.gz",
                                   r"^cannot read .+\(.+\)$", True, []),
    "damaged gzipped JSON Lines": ("feed.jsonl.gz", _damaged_gzip(_jsonl(REC)), "feed.jsonl.gz",
                                   r"^cannot read .+\(.+\)$", True, []),
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    (site / "good.txt").write_text(GOOD, encoding="utf-8")
    return site


@pytest.mark.parametrize("kind", list(BAD_INPUTS))
def test_bad_input_gets_one_warning_and_the_rest_is_read(folder: Path, kind: str) -> None:
    name, content, where, reason, skipped, ids = BAD_INPUTS[kind]
    (folder / name).write_bytes(content)
    articles, problems = read(folder)
    assert [(p.where, p.skipped) for p in problems] == [(where, skipped)]
    assert re.search(reason, problems[0].reason), problems[0].reason
    assert str(problems[0]) == f"{where}: {problems[0].reason}"
    assert sorted(a.id for a in articles) == sorted(["good.txt", *ids])


@pytest.mark.parametrize("kind", list(BAD_INPUTS))
def test_bad_input_through_the_cli_is_warned_and_counted(folder: Path, kind: str) -> None:
    name, content, where, _, skipped, ids = BAD_INPUTS[kind]
    (folder / name).write_bytes(content)
    result = CliRunner().invoke(cli, ["scan", str(folder), "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"Warning: {where}: ")
    doc = json.loads(result.stdout)
    assert doc["counts"]["articles"] == 1 + len(ids)
    assert doc["counts"]["skipped"] == (1 if skipped else 0)
    assert doc["counts"]["warnings"] == 1
    assert [(p["where"], p["skipped"]) for p in doc["problems"]] == [(where, skipped)]


def test_invalid_utf8_is_decoded_with_replacement_characters(folder: Path) -> None:
    (folder / "latin1.txt").write_bytes("Caf\u00e9 prices\n\nCaf\u00e9 owners raised prices.\n".encode("latin-1"))
    articles, _ = read(folder / "latin1.txt")
    (article,) = articles
    assert article.text == "Caf\ufffd prices\n\nCaf\ufffd owners raised prices.\n"


def test_all_bad_inputs_at_once(folder: Path) -> None:
    """One warning each, in one run, and the good article still read."""
    for n, (name, content, *_rest) in enumerate(BAD_INPUTS.values()):
        sub = folder / f"case{n:02d}"
        sub.mkdir()
        (sub / name).write_bytes(content)
    articles, problems = read(folder)
    assert len(problems) == len(BAD_INPUTS)
    expected = sorted(f"case{n:02d}/{where}" for n, (_, _, where, *_rest) in enumerate(BAD_INPUTS.values()))
    assert sorted(p.where for p in problems) == expected
    assert "good.txt" in {a.id for a in articles}


def test_unreadable_file(folder: Path) -> None:
    secret = folder / "secret.txt"
    secret.write_text(GOOD, encoding="utf-8")
    secret.chmod(0)
    try:
        if os.access(secret, os.R_OK):
            pytest.skip("running as a user who can read a chmod 000 file (root)")
        articles, problems = read(folder)
    finally:
        secret.chmod(0o644)
    assert [(p.where, p.reason, p.skipped) for p in problems] == [
        ("secret.txt", "cannot read file (Permission denied)", True)]
    assert [a.id for a in articles] == ["good.txt"]


def test_dangling_link_is_an_unreadable_file(folder: Path) -> None:
    """Runs as root too: a link to nothing cannot be read by anyone."""
    (folder / "gone.txt").symlink_to(folder / "no-such-target.txt")
    articles, problems = read(folder)
    assert [(p.where, p.reason, p.skipped) for p in problems] == [
        ("gone.txt", "cannot read file (No such file or directory)", True)]
    assert [a.id for a in articles] == ["good.txt"]


def test_line_numbers_stay_right_in_long_json_lines_files(folder: Path) -> None:
    """Big files are cut into batches of lines; a bad line far down still gets its own number."""
    lines = [json.dumps({"id": f"r{n}", "text": f"Record number {n} of the feed."}) for n in range(1, 701)]
    lines[299] = "{broken"
    lines[599] = json.dumps({"id": "r600"})
    (folder / "big.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    articles, problems = read(folder / "big.jsonl")
    assert [p.where for p in problems] == ["big.jsonl:300", "big.jsonl:600"]
    assert len(articles) == 698
    assert [a.order for a in articles] == list(range(698))


def test_json_lines_cut_into_many_blocks(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """JSON Lines are read in blocks of whole lines (decoded by the workers): with tiny blocks, lines
    longer than a block, a byte order mark and invalid UTF-8 in two blocks (reported once, at its
    first line), every record is read once, in order, and bad lines keep their numbers."""
    import dedup.reading

    monkeypatch.setattr(dedup.reading, "BYTES_PER_BLOCK", 64)
    monkeypatch.setattr(dedup.reading, "_READ_BYTES", 16)
    lines = [json.dumps({"id": f"r{n}", "text": f"Record {n} " + "long " * (n % 7) * 10}).encode()
             for n in range(1, 61)]
    lines[9] = lines[9].replace(b"Record", b"R\xe9cord")
    lines[29] = b"{broken"
    lines[39] = lines[39].replace(b"Record", b"R\xe9cord")
    (folder / "feed.jsonl").write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n")
    articles, problems = read(folder / "feed.jsonl")
    assert [(p.where, p.reason.split(" (")[0]) for p in problems] == [
        ("feed.jsonl:10", "invalid UTF-8, decoded with replacement characters"),
        ("feed.jsonl:30", "malformed JSON line")]
    assert [a.id for a in articles] == [f"r{n}" for n in range(1, 61) if n != 30]
    by_id = {a.id: a.text for a in articles}
    assert by_id["r10"].startswith("R\ufffdcord 10") and by_id["r40"].startswith("R\ufffdcord 40")


def test_damaged_gzipped_json_lines_keep_the_lines_before_the_damage(folder: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import dedup.reading

    monkeypatch.setattr(dedup.reading, "_READ_BYTES", 256)
    data = gzip.compress(b"".join(_jsonl({"id": f"r{n}", "text": f"Record {n} of the feed."})
                                  for n in range(1, 2001)))
    (folder / "feed.jsonl.gz").write_bytes(data[: len(data) // 2])
    articles, problems = read(folder / "feed.jsonl.gz")
    assert [(p.where, p.reason.split(" (")[0]) for p in problems] == [
        ("feed.jsonl.gz", "cannot read the rest of the file")]
    assert 500 < len(articles) < 2000
    assert [a.id for a in articles] == [f"r{n}" for n in range(1, len(articles) + 1)]


# ---------------------------------------------------------------- inputs that are fine

def _gz(path: Path, data: bytes) -> None:
    path.write_bytes(gzip.compress(data))


def _zst(path: Path, data: bytes) -> None:
    """Zstandard, in two frames (as a file written in pieces is): both are read."""
    import zstandard

    half = len(data) // 2
    path.write_bytes(b"".join(zstandard.ZstdCompressor().compress(part) for part in (data[:half], data[half:])))


PAGE = (b"<html><head><title>Copper firms</title><meta property=\"og:site_name\" content=\"Metal Bulletin\">"
        b"</head><body><article><p>Copper firmed on the LME on Tuesday.</p></article></body></html>")
COMPRESSED: dict[str, bytes] = {
    "story.txt": GOOD.encode(),
    "page.html": PAGE,
    "record.json": json.dumps({**REC, "id": "ignored", "source": "Wire"}).encode(),
    "feed.jsonl": _jsonl({"id": "z1", "text": "First compressed record text."},
                         {"id": "z2", "text": "Second compressed record text."}),
}


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_compressed_inputs_of_every_kind(folder: Path, suffix: str) -> None:
    write = _gz if suffix == ".gz" else _zst
    for name, data in COMPRESSED.items():
        write(folder / (name + suffix), data)
    articles, problems = read(folder)
    assert problems == []
    by_id = {a.id: a for a in articles}
    # One-article files are named by their path; JSON Lines records by their own ids.
    assert sorted(by_id) == sorted(["good.txt", f"page.html{suffix}", f"record.json{suffix}", f"story.txt{suffix}",
                                    "z1", "z2"])
    assert by_id[f"story.txt{suffix}"].text == GOOD
    assert by_id[f"page.html{suffix}"].title == "Copper firms"
    assert by_id[f"page.html{suffix}"].source == "Metal Bulletin"
    assert by_id[f"record.json{suffix}"].source == "Wire"
    assert by_id["z2"].text == "Second compressed record text."


def test_damaged_or_unreadable_zstd_files_are_warned_about(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A .zst file that is not Zstandard, one cut short, and .zst files without the zstandard
    package: one warning each, the rest read."""
    (folder / "junk.txt.zst").write_bytes(b"plain text, not zstd")
    _zst(folder / "cut.jsonl.zst", _jsonl(*({**REC, "id": f"r{n}"} for n in range(3000))))
    whole = (folder / "cut.jsonl.zst").read_bytes()
    (folder / "cut.jsonl.zst").write_bytes(whole[:len(whole) // 2])
    articles, problems = read(folder)
    reasons = {p.where: p.reason for p in problems}
    assert reasons["junk.txt.zst"].startswith("corrupt zstd data (")
    assert reasons["cut.jsonl.zst"].startswith("cannot read the rest of the file (")
    assert "good.txt" in {a.id for a in articles}
    assert all(p.skipped for p in problems)
    kept = [a.id for a in articles if a.id != "good.txt"]  # the records before the cut are read
    assert 0 < len(kept) < 3000 and kept == [f"r{n}" for n in range(len(kept))]

    monkeypatch.setitem(sys.modules, "zstandard", None)  # as if not installed
    articles, problems = read(folder)
    assert [a.id for a in articles] == ["good.txt"]
    assert {p.where: p.reason for p in problems} == dict.fromkeys(
        ["cut.jsonl.zst", "junk.txt.zst"], "a .zst file needs the zstandard package: pip install 'dedup-news[zstd]'")


def test_hidden_and_unknown_files_are_left_out_silently(folder: Path) -> None:
    (folder / ".draft.txt").write_text(GOOD, encoding="utf-8")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\x00")
    (folder / ".cache").mkdir()
    (folder / ".cache" / "old.txt").write_text(GOOD, encoding="utf-8")
    articles, problems = read(folder)
    assert problems == []
    assert [a.id for a in articles] == ["good.txt"]


def test_a_file_named_explicitly_is_read_whatever_its_name(tmp_path: Path) -> None:
    notes = tmp_path / "wire.dat"
    notes.write_text(GOOD, encoding="utf-8")
    articles, problems = read(notes)
    assert problems == []
    assert [a.title for a in articles] == ["Grain exports rise"]


def test_ids_are_paths_relative_to_the_folder_and_group_is_the_first_folder(tmp_path: Path) -> None:
    (tmp_path / "outlet" / "2025").mkdir(parents=True)
    (tmp_path / "outlet" / "2025" / "story.txt").write_text(GOOD, encoding="utf-8")
    articles, _ = read(tmp_path)
    assert [(a.id, a.group) for a in articles] == [("outlet/2025/story.txt", "outlet")]


def test_a_folder_is_read_in_the_order_its_paths_sort_part_by_part(tmp_path: Path) -> None:
    # A sub-folder's files come where its name sorts among its parent's files ("a" < "a.txt" < "a0"),
    # hidden folders are skipped and a link to a folder is not followed.
    for ident in ("a.txt", "a0.txt", "a/z.txt", "a/b/c.txt", "a-b/x.txt", "B.txt", "a0/y.txt", ".hide/h.txt"):
        (tmp_path / ident).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / ident).write_text(GOOD, encoding="utf-8")
    (tmp_path / "link").symlink_to(tmp_path / "a", target_is_directory=True)
    articles, problems = read(tmp_path)
    assert problems == []
    ids = [a.id for a in articles]
    assert ids == ["B.txt", "a/b/c.txt", "a/z.txt", "a-b/x.txt", "a.txt", "a0/y.txt", "a0.txt"]
    assert ids == [p.relative_to(tmp_path).as_posix() for p in sorted(
        tmp_path.joinpath(i) for i in ids)]


def test_folders_nested_deeper_than_the_recursion_limit_are_read(tmp_path: Path) -> None:
    levels = [tmp_path / "d"]
    for _ in range(1199):  # 2,400 characters of path, below PATH_MAX; one level at a time
        levels.append(levels[-1] / "d")
    for level in levels:
        level.mkdir()
    story = levels[-1] / "story.txt"
    story.write_text(GOOD, encoding="utf-8")
    try:
        articles, problems = read(tmp_path)
    finally:  # removed bottom up here: shutil.rmtree, as pytest cleans old temp folders, recurses
        story.unlink()
        for level in reversed(levels):
            level.rmdir()
    assert problems == []
    assert [a.id for a in articles] == ["d/" * 1200 + "story.txt"]


def test_a_folder_that_cannot_be_listed_is_reported_and_the_rest_read(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ok.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "closed").mkdir()
    (tmp_path / "closed" / "x.txt").write_text(GOOD, encoding="utf-8")
    scandir = os.scandir

    def refuse(path: str) -> object:  # as a folder without read permission does (tests may run as root)
        if str(path).endswith("closed"):
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refuse)
    articles, problems = read(tmp_path)
    assert [a.id for a in articles] == ["ok.txt"]
    assert [(p.where, p.reason) for p in problems] == [
        (str(tmp_path / "closed"), "cannot list folder (Permission denied)")]


def test_a_file_name_that_is_not_utf8_gets_an_escaped_id_and_the_report_is_written(tmp_path: Path) -> None:
    with open(os.fsencode(tmp_path) + b"/caf\xe9.txt", "wb") as fh:  # a Latin-1 name
        fh.write(GOOD.encode("utf-8"))
    articles, problems = read(tmp_path)
    assert problems == []
    assert [a.id for a in articles] == ["caf\\xe9.txt"]
    out = tmp_path / "report.jsonl"
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--format", "jsonl", "--output", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == ["caf\\xe9.txt"]


def test_a_pipe_in_a_folder_is_reported_not_waited_on(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    os.mkfifo(tmp_path / "feed.txt")
    found: list[tuple[list[Article], list[Problem]]] = []
    reader = threading.Thread(target=lambda: found.append(read(tmp_path)), daemon=True)
    reader.start()
    reader.join(30)
    assert not reader.is_alive(), "reading the folder waited on the pipe"
    articles, problems = found[0]
    assert [a.id for a in articles] == ["good.txt"]
    assert [(p.where, p.reason) for p in problems] == [("feed.txt", "not a regular file (a pipe, socket or device)")]


def test_invalid_utf8_on_standard_input_is_reported_and_replaced() -> None:
    lines = b'{"id": "a", "text": "caf\xe9 prices rose on the exchange"}\n' + _jsonl(REC)
    done = subprocess.run([sys.executable, "-c", "from dedup.cli import cli; cli()", "scan", "-", "--format", "jsonl"],
                          input=lines, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]
    assert [r["id"] for r in records] == ["a", "rec-1"]
    assert records[0]["title"].startswith("caf\ufffd prices")
    assert b"<stdin>:1: invalid UTF-8, decoded with replacement characters" in done.stderr
    assert b"Traceback" not in done.stderr


def test_a_text_stream_given_for_stdin_reads_as_the_same_bytes_on_stdin(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """``read_articles(["-"], stdin=...)`` takes a text stream, cut into blocks as standard input is:
    the same articles, line numbers and warnings as the file, and a lone surrogate (text decoded
    with surrogateescape) is reported once as invalid UTF-8."""
    import io

    import dedup.reading

    monkeypatch.setattr(dedup.reading, "BYTES_PER_BLOCK", 64)  # many blocks, lines longer than a block
    records = [dict(REC, id=f"rec-{k}") for k in range(6)]
    text = _jsonl(*records[:2]).decode() + "not json\n\n" + _jsonl(*records[2:]).decode()
    (tmp_path / "feed.jsonl").write_text(text, encoding="utf-8")
    from_file, file_problems = read(tmp_path / "feed.jsonl")
    problems: list[Problem] = []
    from_stream = list(read_articles(["-"], problems.append, stdin=io.StringIO(text)))
    assert [a.id for a in from_stream] == [a.id for a in from_file] == [f"rec-{k}" for k in range(6)]
    assert [a.text for a in from_stream] == [a.text for a in from_file]
    assert [(p.where, p.reason) for p in problems] == [
        ("<stdin>:3", reason) for _, reason in ((p.where, p.reason) for p in file_problems)]
    assert [p.where for p in file_problems] == ["feed.jsonl:3"]

    escaped = ('{"id": "s", "title": "caf\udce9", "text": "' + REC["text"] + '"}\n'
               + _jsonl(*records[:1]).decode())
    problems = []
    from_stream = list(read_articles(["-"], problems.append, stdin=io.StringIO(escaped)))
    assert [a.id for a in from_stream] == ["s", "rec-0"]
    assert from_stream[0].title == "caf\ufffd"
    assert [(p.where, p.reason) for p in problems] == [
        ("<stdin>:1", "invalid UTF-8, decoded with replacement characters")]
    problems = []  # a surrogate that is no escaped byte: still reported, still read
    from_stream = list(read_articles(["-"], problems.append, stdin=io.StringIO(escaped.replace("\udce9", "\ud800"))))
    assert [a.id for a in from_stream] == ["s", "rec-0"] and from_stream[0].title.startswith("caf\ufffd")
    assert [p.where for p in problems] == ["<stdin>:1"]


def test_lone_surrogates_from_json_escapes_become_replacement_characters(tmp_path: Path) -> None:
    (tmp_path / "feed.jsonl").write_text('{"id": "s\\udce9", "title": "Caf\\ud800", "text": "'
                                         + REC["text"] + '"}\n', encoding="utf-8")
    (article,), problems = read(tmp_path)
    assert problems == []
    assert (article.id, article.title) == ("s\ufffd", "Caf\ufffd")
    out = tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--format", "json", "--output", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0
    assert "s\ufffd" in out.read_text(encoding="utf-8")


def test_json_record_fields(tmp_path: Path) -> None:
    record = {"title": "Copper firms", "text": REC["text"], "source": "Metal Bulletin",
              "url": "https://example.com/copper", "published": "1987-04-07T10:00:00Z"}
    (tmp_path / "copper.json").write_text(json.dumps(record), encoding="utf-8")
    (article,) = read(tmp_path)[0]
    assert (article.id, article.title, article.source, article.url, article.published) == (
        "copper.json", "Copper firms", "Metal Bulletin", "https://example.com/copper", "1987-04-07T10:00:00Z")
    assert article.group == "metal bulletin"


def test_order_follows_the_paths_given(tmp_path: Path) -> None:
    for name in ("b.txt", "a.txt"):
        (tmp_path / name).write_text(GOOD, encoding="utf-8")
    articles, _ = read(tmp_path / "b.txt", tmp_path / "a.txt")
    assert [(Path(a.id).name, a.order) for a in articles] == [("b.txt", 0), ("a.txt", 1)]


def test_missing_path_raises_input_error(tmp_path: Path) -> None:
    from dedup import InputError

    with pytest.raises(InputError, match="path does not exist"):
        read(tmp_path / "nope")


# ---------------------------------------------------------------- duplicate ids

def _duplicate_feeds(folder: Path) -> None:
    (folder / "a.jsonl").write_bytes(_jsonl({**REC, "id": "x1", "title": "First feed"}))
    (folder / "b.jsonl").write_bytes(_jsonl({**REC, "id": "x1", "title": "Second feed"},
                                            {**REC, "id": "x2", "title": "Second feed, other id"}))


def test_duplicate_id_is_warned_once_counted_and_the_first_copy_kept(tmp_path: Path) -> None:
    _duplicate_feeds(tmp_path)
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1
    assert "x1" in warnings[0] and "duplicate id" in warnings[0]
    doc = json.loads(result.stdout)
    assert (doc["counts"]["articles"], doc["counts"]["skipped"]) == (2, 1)
    titles = {m["id"]: m["title"] for c in doc["clusters"] for m in c["members"]}
    assert titles == {"x1": "First feed", "x2": "Second feed, other id"}


def test_duplicate_id_warning_names_the_file_and_line(tmp_path: Path) -> None:
    _duplicate_feeds(tmp_path)
    result = CliRunner().invoke(cli, ["scan", str(tmp_path)], catch_exceptions=False)
    assert "Warning: b.jsonl:1: duplicate id 'x1', later copy skipped" in result.stderr


def test_files_of_two_folders_with_one_relative_path_are_both_read(tmp_path: Path) -> None:
    """``day1/a.txt`` and ``day2/a.txt`` are two articles: the second gets its path as given for an id."""
    for day, text in (("day1", GOOD), ("day2", REC["text"])):
        (tmp_path / day).mkdir()
        (tmp_path / day / "a.txt").write_text(text, encoding="utf-8")
    articles, problems = read(tmp_path / "day1", tmp_path / "day2")
    second = (tmp_path / "day2" / "a.txt").as_posix()
    assert [(a.id, a.text) for a in articles] == [("a.txt", GOOD), (second, REC["text"])]
    assert [(p.where, p.skipped) for p in problems] == [(second, False)]
    assert "'a.txt'" in problems[0].reason


def test_a_path_given_twice_or_inside_a_folder_given_is_read_once(tmp_path: Path) -> None:
    """``dedup scan news news/day1`` or ``news news``: each file is read once, with its id
    relative to the outer folder, not a second time as a copy of itself; one caveat (not a
    skip) names the path left out."""
    (tmp_path / "day1").mkdir()
    (tmp_path / "day1" / "a.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.txt").write_text(REC["text"], encoding="utf-8")
    inner = tmp_path / "day1"
    for given, left_out in (((inner, tmp_path), inner), ((tmp_path, inner / "a.txt"), inner / "a.txt"),
                            ((tmp_path, tmp_path), tmp_path), ((tmp_path, f"{tmp_path}/"), f"{tmp_path}/")):
        articles, problems = read(*given)
        assert sorted(a.id for a in articles) == ["b.txt", "day1/a.txt"], given
        assert [(p.where, p.skipped) for p in problems] == [(str(left_out), False)], given
    assert "inside" in read(tmp_path / "day1", tmp_path)[1][0].reason
    assert read(tmp_path, tmp_path)[1][0].reason == "given twice: read once"
    assert read(tmp_path, f"{tmp_path}/")[1][0].reason == f"the same as {tmp_path}, also given: read once"
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), str(tmp_path / "day1"), "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["counts"]["articles"] == 2
    assert result.stderr.count("Warning:") == 1


def test_record_fields_that_are_not_strings(tmp_path: Path) -> None:
    """An id that is a list, or metadata given as lists, objects or numbers, is not written out
    as Python prints it: the record (bad id) or the field (bad metadata) is left out, with a warning."""
    (tmp_path / "feed.jsonl").write_bytes(_jsonl(
        {**REC, "id": ["a", "b"]},
        {**REC, "id": 7, "title": ["x"], "source": {"name": "AP"}, "url": 5},
        {**REC, "id": "bad-time", "published": "2025-13-45"},
    ))
    articles, problems = read(tmp_path)
    assert [(a.id, a.title, a.source, a.url) for a in articles][:1] == [("7", None, None, None)]
    assert [(p.where, p.skipped) for p in problems] == [("feed.jsonl:1", True), ("feed.jsonl:2", False),
                                                        ("feed.jsonl:3", False)]
    assert "id is not a string or a whole number (a list)" in problems[0].reason
    assert problems[1].reason == "left out, not a string: title (a list), source (an object), url (a number)"
    assert "'2025-13-45' is not an ISO 8601 time" in problems[2].reason
    assert articles[1].published == "2025-13-45" and articles[1].published_at is None


def test_one_path_given_as_a_string_is_one_path(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(GOOD, encoding="utf-8")
    assert [a.id for a in read_articles(str(tmp_path / "a.txt"), lambda p: None)] == [(tmp_path / "a.txt").name]


def test_a_text_page_without_a_headline_gets_no_dateline_for_a_title(tmp_path: Path) -> None:
    """A plain-text page whose story starts under a masthead with its dateline: that line is
    the story's first, not a headline; taken for one, its city and month read as names that
    conflict with another copy's headline."""
    body = "Net 1.3 mln vs 668,000\n\nNine mths\n\nShr 84 cts\n\nNet 2,892,000 vs 2,200,000\n\n" \
           "NOTE: Company converted to stock ownership in July"
    (tmp_path / "ledger").mkdir()
    (tmp_path / "ledger" / "raleigh.txt").write_text(
        f"LEDGER\ntime32 minutes ago\nRALEIGH, N.C., Oct 20 - Shr 38 cts\n\n{body}\n", "utf-8")
    (tmp_path / "courier").mkdir()
    (tmp_path / "courier" / "raleigh.json").write_text(json.dumps(
        {"title": "Raleigh federal savings bank <rfbk.o> 3rd qtr", "text": f"Shr 38 cts\n\n{body}"}), "utf-8")
    articles = {a.id: a for a in read_articles([tmp_path], lambda p: None)}
    assert articles["ledger/raleigh.txt"].title is None
    result = find_duplicates(articles.values())
    assert result.assignments["ledger/raleigh.txt"].cluster == result.assignments["courier/raleigh.json"].cluster


def test_a_page_in_the_encoding_it_declares_and_utf16_text_are_read(tmp_path: Path) -> None:
    """A Latin-1 page with <meta charset="iso-8859-1"> reads without replacement characters or a
    warning; a UTF-16 text file (byte order mark first) is text, not a binary file."""
    body = "The caf\u00e9 on Main Street opened its doors on Tuesday to a crowd of neighbours."
    (tmp_path / "latin.html").write_bytes(
        f'<html><head><meta charset="iso-8859-1"><title>Caf\u00e9 opens</title></head>'
        f"<body><article><p>{body}</p></article></body></html>".encode("latin-1"))
    (tmp_path / "wide.txt").write_bytes(body.encode("utf-16"))
    (tmp_path / "unknown.html").write_bytes(b'<meta charset="x-user-defined"><p>caf\xe9 ' + body.encode())
    articles, problems = read(tmp_path)
    assert [(p.where, p.skipped) for p in problems] == [("unknown.html", False)]  # no codec: UTF-8, warned
    assert [(a.id, a.title, a.text) for a in articles if a.id != "unknown.html"] == [
        ("latin.html", "Caf\u00e9 opens", body), ("wide.txt", None, body)]


def test_many_records_of_one_file_with_one_problem_are_summed_up_not_all_printed(tmp_path: Path) -> None:
    """A feed that calls its text ``body`` fails on every line: three warnings name the first
    lines and the fields found, one more says how many others; the report keeps them all."""
    bad = [{"id": f"b{n}", "body": f"Story {n}"} for n in range(10)]
    (tmp_path / "feed.jsonl").write_bytes(_jsonl(REC, *bad, {**REC, "id": "rec-2"}))
    (tmp_path / "other.jsonl").write_bytes(_jsonl({"id": "o1", "body": "x"}))
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert warnings == [
        "Warning: feed.jsonl:2: record has no text or html field (its fields: body)",
        "Warning: feed.jsonl:3: record has no text or html field (its fields: body)",
        "Warning: feed.jsonl:4: record has no text or html field (its fields: body)",
        "Warning: other.jsonl:1: record has no text or html field (its fields: body)",
        "Warning: feed.jsonl: 7 more records like these (record has no text or html field)",
    ]
    doc = json.loads(result.stdout)
    assert (doc["counts"]["articles"], doc["counts"]["skipped"], len(doc["problems"])) == (2, 11, 11)


# ---------------------------------------------------------------- web archives (WARC)

def _warc_record(url: str, payload: bytes, *, kind: str = "response", status: str = "200 OK",
                 content_type: str = "text/html; charset=utf-8") -> bytes:
    """One WARC/1.0 record, written as the standard lays it out (a crawler's response: HTTP
    status line and headers, then the page)."""
    http = (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
            + payload) if kind == "response" else payload
    head = (f"WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Record-ID: <urn:uuid:0000{len(url):04d}-{abs(hash(url)) % 10**8}>"
            f"\r\nWARC-Date: 2025-06-06T16:30:00Z\r\nWARC-Target-URI: {url}\r\n"
            f"Content-Type: application/http; msgtype={kind}\r\nContent-Length: {len(http)}\r\n\r\n").encode()
    return head + http + b"\r\n\r\n"


def _warc_page(title: str, body: str, site: str) -> bytes:
    return (f'<html><head><title>{title}</title><meta property="og:site_name" content="{site}"></head>'
            f"<body><nav>Home | World | Business</nav><article><h1>{title}</h1>"
            + "".join(f"<p>{p}</p>" for p in body.split("\n\n")) + "</article></body></html>").encode("utf-8")


def test_web_archive_pages_are_articles_and_other_records_are_left_out(folder: Path) -> None:
    """A crawl's .warc.gz (a gzip member per record, as Common Crawl writes them): its HTML
    responses are articles named by their URL, decoded as their HTTP header says; requests,
    images and redirects are no articles (one caveat counts the responses left out)."""
    latin = "Caf\u00e9 owners on Main Street raised their prices on Tuesday, the chamber of commerce said."
    records = [
        _warc_record("https://news.example/copper", b"GET /copper HTTP/1.1\r\n\r\n", kind="request"),
        _warc_record("https://news.example/copper", _warc_page("Copper firms", GOOD, "Metal News")),
        _warc_record("https://news.example/logo.png", b"\x89PNG\r\n\x1a\n", content_type="image/png"),
        _warc_record("https://news.example/old", b"", status="301 Moved Permanently"),
        _warc_record("https://cafe.example/prices", _warc_page("Prices", latin, "Town Crier").decode().encode(
            "latin-1"), content_type="text/html; charset=iso-8859-1"),
    ]
    (folder / "crawl.warc.gz").write_bytes(b"".join(gzip.compress(r) for r in records))
    articles, problems = read(folder)
    by_id = {a.id: a for a in articles}
    assert sorted(by_id) == ["good.txt", "https://cafe.example/prices", "https://news.example/copper"]
    copper = by_id["https://news.example/copper"]
    assert (copper.title, copper.source, copper.url) == ("Copper firms", "Metal News", "https://news.example/copper")
    assert "Grain exports rose five pct" in copper.text and "Home | World" not in copper.text
    assert latin in by_id["https://cafe.example/prices"].text
    assert [(p.where, p.reason, p.skipped) for p in problems] == [
        ("crawl.warc.gz", "2 of its 4 responses left out: not HTML pages, or not status 200", False)]
    result = find_duplicates([*articles, Article(id="copy.txt", text=f"Copper firms\n\n{GOOD}")])
    assert result.assignments["copy.txt"].cluster == result.assignments["https://news.example/copper"].cluster


def test_damaged_web_archives_are_warned_about_and_pages_before_the_damage_kept(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pages = [_warc_record(f"https://news.example/{n}", _warc_page(f"Story {n}", f"{GOOD} Item {n}.", "Metal News"))
             for n in range(3)]
    whole = b"".join(pages)
    (folder / "cut.warc").write_bytes(whole[:len(whole) - 200])  # the last page cut short
    (folder / "junk.warc").write_bytes(b"not a web archive\n" * 5)
    (folder / "empty.warc").write_bytes(b"")
    articles, problems = read(folder)
    assert sorted(a.id for a in articles) == ["good.txt", "https://news.example/0", "https://news.example/1"]
    reasons = {p.where: p.reason for p in problems}
    assert reasons["cut.warc"] == "cannot read the rest of the file (the file ends inside the page of " \
                                  "https://news.example/2)"
    assert reasons["junk.warc"].startswith("cannot read the rest of the file (")
    assert reasons["empty.warc"] == "no HTTP responses found: not a WARC file, or an empty one"
    assert len(problems) == 3 and all(p.skipped for p in problems)

    monkeypatch.setitem(sys.modules, "fastwarc.warc", None)  # as if not installed
    articles, problems = read(folder)
    assert [a.id for a in articles] == ["good.txt"]
    assert {p.reason for p in problems} == {"a WARC file needs the fastwarc package: pip install 'dedup-news[warc]'"}
