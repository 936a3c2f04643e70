"""The worker processes of a batch run, real ones.

Ctrl-C during a scan, as a terminal sends it (SIGINT to the whole process group): the run
stops with click's one-line "Aborted!", no process prints a traceback, no process is left
running or waiting, and no temporary file is left behind; interrupted at several points of
the run (reading, fingerprinting, verifying). Workers also start from a thread other than
the main one, and "all cores" means the cores the process may use."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
# What the installed ``dedup`` command runs. (Not ``python -m dedup``: interrupted while its
# workers start, it says "Aborted!" but may exit with status 130, Ctrl-C's, rather than 1; a
# KeyboardInterrupt caught after it passed through exec() of a string does the same with -m.)
MAIN = "from dedup.__main__ import main; main()"
STORIES = [json.loads(line) for line in (DATA / "reuters-stories.jsonl").read_text("utf-8").splitlines()]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6,000 articles made of the stories' sentences in random orders, each with two copies:
    a scan of it takes a few seconds on two workers."""
    rng = random.Random(5)
    sentences = [s.strip() + "." for story in STORIES for s in story["text"].replace("\n", " ").split(".")
                 if len(s.split()) > 4]
    folder = tmp_path_factory.mktemp("interrupt") / "corpus"
    for outlet in ("a", "b", "c"):
        (folder / outlet).mkdir(parents=True)
    for k in range(2000):
        body = " ".join(rng.sample(sentences, 12))
        text = f"Story number {k} of the day\n\n{body}\n"
        for outlet in ("a", "b", "c"):
            (folder / outlet / f"{k}.txt").write_text(text if outlet != "c" else text + "Read more.\n", "utf-8")
    return folder


@pytest.mark.parametrize("delay", [0.4, 1.0, 1.6, 2.2])
def test_ctrl_c_stops_a_scan_at_once_and_cleanly(corpus: Path, tmp_path: Path, delay: float) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    scan = subprocess.Popen(
        [sys.executable, "-c", MAIN, "scan", str(corpus), "--jobs", "2",
         "--format", "jsonl", "--output", str(tmp_path / "out.jsonl")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "TMPDIR": str(temp)})
    time.sleep(delay)
    assert scan.poll() is None, "the scan ended before it could be interrupted: make the corpus bigger"
    _interrupt_stops_it_cleanly(scan, temp)


def _interrupt_stops_it_cleanly(scan: subprocess.Popen[str], temp: Path) -> None:
    """Ctrl-C to the scan's process group: "Aborted!" and status 1, no traceback, no process
    of the group left running, no temporary file left."""
    os.killpg(scan.pid, signal.SIGINT)
    try:
        _, err = scan.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(scan.pid, signal.SIGKILL)
        pytest.fail("the interrupted scan did not exit within 60 s")
    assert scan.returncode == 1, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip().splitlines()[-1] == "Aborted!"
    with pytest.raises(ProcessLookupError):  # no worker of the group left running
        for _ in range(50):
            os.killpg(scan.pid, 0)
            time.sleep(0.1)
    assert not list(temp.iterdir())


SLOW_START = """
import os, pathlib, time
import dedup.pipeline as pipeline
from dedup.cli import cli
original = pipeline._init_pool_worker
def slow(state):
    pathlib.Path(os.environ["STARTING"]).touch()
    time.sleep(3)
    original(state)
pipeline._init_pool_worker = slow
cli()
"""


def test_ctrl_c_while_the_workers_start_is_not_lost(corpus: Path, tmp_path: Path) -> None:
    """Ctrl-C while the main process waits for its workers to start (their initializer is
    slowed here, so that it surely comes then): the run stops once they are up, as above. It
    was ignored, and the run went on to the end with status 0."""
    starting, temp = tmp_path / "starting", tmp_path / "temp"
    temp.mkdir()
    scan = subprocess.Popen(
        [sys.executable, "-c", SLOW_START, "scan", str(corpus), "--jobs", "2", "--format", "jsonl",
         "--output", str(tmp_path / "out.jsonl")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "TMPDIR": str(temp), "STARTING": str(starting)})
    for _ in range(600):
        if starting.exists() or scan.poll() is not None:
            break
        time.sleep(0.05)
    assert starting.exists(), "the workers never started"
    time.sleep(0.5)
    _interrupt_stops_it_cleanly(scan, temp)
    assert not (tmp_path / "out.jsonl").exists()


SLOW_IMPORT = """
import os, pathlib, sys, time
class Slow:  # the import of the pipeline takes 3 s
    def find_spec(self, name, path=None, target=None):
        if name == "dedup.pipeline":
            pathlib.Path(os.environ["STARTING"]).touch()
            time.sleep(3)
        return None
sys.meta_path.insert(0, Slow())
from dedup.__main__ import main
main()
"""


def test_ctrl_c_while_the_command_loads_is_no_traceback(tmp_path: Path) -> None:
    """The ``dedup`` command (``dedup.__main__.main``) interrupted while its modules load
    (slowed here, so that the Ctrl-C surely comes then): "Aborted!" and status 1, as
    during the run. It was Python's KeyboardInterrupt traceback."""
    starting = tmp_path / "starting"
    scan = subprocess.Popen([sys.executable, "-c", SLOW_IMPORT, "scan", str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "STARTING": str(starting)})
    for _ in range(600):
        if starting.exists() or scan.poll() is not None:
            break
        time.sleep(0.05)
    assert starting.exists(), "the pipeline was never imported"
    os.killpg(scan.pid, signal.SIGINT)
    _, err = scan.communicate(timeout=60)
    assert scan.returncode == 1
    assert err == "Aborted!\n"


def test_the_package_loads_its_modules_when_first_used() -> None:
    """``import dedup`` is quick (the command's start); its names are there when asked for."""
    done = subprocess.run([sys.executable, "-c", "import sys, dedup; print('numpy' in sys.modules, "
                           "dedup.find_duplicates.__module__, 'numpy' in sys.modules, "
                           "sorted(set(dedup.__all__) - set(dir(dedup))))"],
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().split(maxsplit=3) == ["False", "dedup.pipeline", "True", "[]"], done.stderr


def test_workers_start_from_a_thread_other_than_the_main_one() -> None:
    """Only the main thread may set signal handlers: elsewhere (a web server's worker thread)
    the pool starts without touching them (the workers' initializer ignores Ctrl-C)."""
    import threading

    from dedup import Result, find_duplicates

    articles = [{"id": f"{k}-{copy}", "text": story["text"]} for k, story in enumerate(STORIES) for copy in range(2)]
    found: list[Result] = []
    thread = threading.Thread(target=lambda: found.append(find_duplicates(articles, jobs=2)))
    thread.start()
    thread.join(timeout=120)
    (result,) = found
    assert len(result.clusters) == len(STORIES)
    assert all(len(c.members) == 2 for c in result.clusters)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this system")
def test_all_cores_means_the_cores_this_process_may_use() -> None:
    """--jobs 0 (the default) counts the cores of the process's CPU affinity (a container's
    cpuset, taskset), not the machine's."""
    one = min(os.sched_getaffinity(0))
    done = subprocess.run([sys.executable, "-c", "from dedup.pipeline import usable_cores; print(usable_cores())"],
                          capture_output=True, text=True, timeout=60,
                          preexec_fn=lambda: os.sched_setaffinity(0, {one}))
    assert done.stdout.strip() == "1", done.stderr


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_cpu_quota_of_the_cgroup_and_its_parents_is_read(tmp_path: Path) -> None:
    """docker --cpus and Kubernetes CPU limits set a cgroup quota, not the affinity: read from
    cgroup v2's cpu.max or v1's cpu.cfs_quota_us, the tightest of the cgroup and its parents."""
    from dedup.pipeline import cpu_quota

    v2, member = tmp_path / "v2", tmp_path / "cgroup"
    _write(v2 / "cpu.max", "max 100000\n")
    _write(v2 / "kubepods" / "pod1" / "cpu.max", "150000 100000\n")
    _write(member, "0::/kubepods/pod1\n")
    assert cpu_quota(str(v2), str(member)) == 1.5
    _write(v2 / "kubepods" / "cpu.max", "100000 100000\n")  # a tighter parent
    assert cpu_quota(str(v2), str(member)) == 1.0
    _write(member, "0::/\n")
    assert cpu_quota(str(v2), str(member)) is None  # "max": no quota

    v1 = tmp_path / "v1"
    _write(member, "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n")
    _write(v1 / "cpu,cpuacct" / "docker" / "abc" / "cpu.cfs_quota_us", "250000\n")
    _write(v1 / "cpu,cpuacct" / "docker" / "abc" / "cpu.cfs_period_us", "100000\n")
    assert cpu_quota(str(v1), str(member)) == 2.5
    _write(v1 / "cpu,cpuacct" / "docker" / "abc" / "cpu.cfs_quota_us", "-1\n")
    assert cpu_quota(str(v1), str(member)) is None

    _write(member, "not a cgroup line\n0::/nowhere\n")
    assert cpu_quota(str(v2), str(member)) is None
    assert cpu_quota(str(v2), str(tmp_path / "missing")) is None


def test_all_cores_stops_at_the_cpu_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    import dedup.pipeline as pipeline

    monkeypatch.setattr(pipeline, "cpu_quota", lambda: 1.2)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    assert pipeline.usable_cores() == min(cores, 2)
    monkeypatch.setattr(pipeline, "cpu_quota", lambda: 0.25)
    assert pipeline.usable_cores() == 1
    monkeypatch.setattr(pipeline, "cpu_quota", lambda: None)
    assert pipeline.usable_cores() == cores


def test_a_reader_that_stops_early_ends_the_report_quietly(corpus: Path, tmp_path: Path) -> None:
    """`dedup scan ... | head -1`: the report goes to standard output a line at a time; when the
    reader closes the pipe, the scan ends with status 1 and no traceback."""
    scan = subprocess.Popen([sys.executable, "-c", MAIN, "scan", str(corpus),
                             "--format", "jsonl", "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "TMPDIR": str(tmp_path)})
    assert scan.stdout is not None and scan.stderr is not None
    first = json.loads(scan.stdout.readline())
    scan.stdout.close()  # 6,000 lines do not fit in the pipe: writing the rest fails
    err = scan.stderr.read().decode()
    scan.stderr.close()
    assert scan.wait(timeout=120) == 1
    assert first["cluster"] == 1
    assert err == ""
    assert not list(tmp_path.iterdir())
