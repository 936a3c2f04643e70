"""The temporary text store between the batch run's passes: a real file, read back by position."""

from __future__ import annotations

import os
import pickle
import resource
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from dedup.spool import RowSpool, Spool, encode_all

SAMPLES = Path(__file__).parent.parent / "samples"
TEXTS = ["first", "", "caf\u00e9 \u2014 \u201cquoted\u201d", "line one\nline two", "x" * 10_000]


def test_entries_come_back_whole_and_in_order_however_they_were_added() -> None:
    spool = Spool()
    try:
        spool.extend(TEXTS[:2])
        spool.extend_encoded(*encode_all(TEXTS[2:]))
        spool.extend(["last"])
        reader = spool.reader()
        expected = [*TEXTS, "last"]
        assert len(spool) == len(reader) == len(expected)
        assert [reader.get(k) for k in range(len(expected))] == expected
        assert reader.get_many(0, len(expected)) == expected and reader.get_many(1, 4) == expected[1:4]
        assert reader.get_many(2, 2) == []
        clone = pickle.loads(pickle.dumps(reader))  # as sent to a worker process
        assert clone.get(2) == TEXTS[2]
        reader.keep_open()
    finally:
        spool.close()
    assert not os.path.exists(spool.path)
    assert reader.get(4) == TEXTS[4]  # still readable through the open descriptor


def test_an_empty_batch_adds_nothing() -> None:
    spool = Spool()
    try:
        spool.extend_encoded(*encode_all([]))
        spool.extend(["only"])
        assert [spool.reader().get(0)] == ["only"] and len(spool) == 1
    finally:
        spool.close()


def test_rows_come_back_by_position_in_any_order() -> None:
    rows = np.arange(7 * 4, dtype="<u2").reshape(7, 4) * 1000
    spool = RowSpool("<u2", 4)
    try:
        assert len(spool.reader()) == 0 and spool.reader().rows(np.zeros(0, dtype=np.int64)).shape == (0, 4)
        spool.append(rows[:3].tobytes())
        spool.append(b"")
        spool.append(rows[3:].tobytes())
        reader = spool.reader()
        index = np.array([6, 0, 6, 3, 1])
        assert len(reader) == 7 and np.array_equal(reader.rows(index), rows[index])
        clone = pickle.loads(pickle.dumps(reader))  # as sent to a worker process: opens its own map
        assert clone._map is None and np.array_equal(clone.rows(np.array([5])), rows[[5]])
    finally:
        spool.close()
    assert not os.path.exists(spool.path)


def test_a_full_disk_is_one_error_line_and_leaves_no_temp_files(tmp_path: Path) -> None:
    """A scan whose temp files cannot grow (a real process under a file-size limit: writes past
    it fail as on a full disk) ends with one ``Error:`` line naming the folder and TMPDIR, no
    traceback, and no temp files left behind."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    story = (SAMPLES / "reuters").glob("*.txt")
    text = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted(story))
    for k in range(300):  # ~1 MB of text, far more than the limit below
        (corpus / f"a{k}.txt").write_text(f"Story {k}\n\n{text}", encoding="utf-8")
    temp = tmp_path / "temp"
    temp.mkdir()
    limit = 64 * 1024

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # so that a write past the limit fails (EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run([sys.executable, "-c", "from dedup.cli import cli; cli()", "scan", str(corpus),
                           "--quiet", "--jobs", "2"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TMPDIR": str(temp)}, preexec_fn=limit_file_size)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"Error: cannot write temporary files in {temp} (File too large)")
    assert "set TMPDIR" in done.stderr and done.stderr.count("\n") == 1
    assert not list(temp.iterdir())  # nothing left behind

    done = subprocess.run([sys.executable, "-c", "from dedup.cli import cli; cli()", "scan", str(corpus),
                           "--quiet", "--format", "jsonl"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TMPDIR": str(temp)})  # the same without the limit
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 300
    assert not list(temp.iterdir())
