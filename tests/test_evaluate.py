"""Scoring (dedup.evaluate) and the ``dedup eval`` command."""

from __future__ import annotations

import importlib.util
import json
import random
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from dedup import evaluate
from dedup.cli import cli
from dedup.errors import InputError

BENCH = Path("/work/shared/bench")


def _score_py() -> ModuleType:
    path = BENCH / "score.py"
    if not path.exists():
        pytest.skip(f"the benchmark scorer {path} is not available on this machine")
    spec = importlib.util.spec_from_file_location("bench_score", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------ hand-computed

def test_hand_computed_example() -> None:
    # truth: {a b c} {d e} {f};  predicted: {a b} {c d e}, f missing, z not in the truth
    truth = {"a": "1", "b": "1", "c": "1", "d": "2", "e": "2", "f": "3"}
    pred = {"a": "x", "b": "x", "c": "y", "d": "y", "e": "y", "z": "q"}
    s = evaluate.score(truth, pred)
    assert (s.articles, s.true_clusters, s.predicted_clusters, s.missing, s.extra) == (6, 3, 3, 1, 1)
    # same-cluster pairs: truth 3+1 = 4, predicted 1+3 = 4, shared (a,b) and (d,e) = 2
    assert (s.pair_precision, s.pair_recall, s.pair_f1) == (0.5, 0.5, 0.5)
    # ARI: expected = 4*4/15; (2 - 16/15) / (4 - 16/15) = 14/44
    assert s.ari == round(14 / 44, 4) == 0.3182
    # B-cubed precision: a 1, b 1, c 1/3, d 2/3, e 2/3, f 1 -> 14/3 / 6; recall: 2/3 2/3 1/3 1 1 1 -> same
    assert s.bcubed_precision == s.bcubed_recall == s.bcubed_f1 == round(14 / 18, 4)
    assert s.missing_ids == ("f",)
    assert (s.merged_clusters, s.split_clusters) == (1, 1)
    (merge,) = s.worst_merges
    assert (merge.kind, merge.cluster, merge.clusters, merge.size) == ("merge", "y", 2, 3)
    assert merge.parts == (("2", ("d", "e")), ("1", ("c",)))
    (split,) = s.worst_splits
    assert (split.cluster, split.clusters, split.size) == ("1", 2, 3)
    assert split.parts == (("x", ("a", "b")), ("y", ("c",)))


def test_perfect_and_degenerate_cases() -> None:
    truth = {"a": "1", "b": "1", "c": "2"}
    s = evaluate.score(truth, {"a": "7", "b": "7", "c": "8"})
    assert (s.pair_precision, s.pair_recall, s.bcubed_f1, s.ari) == (1.0, 1.0, 1.0, 1.0)
    # no pairs on either side: precision and recall are 1.0, ARI 1.0 (denominator zero)
    singles = {"a": "1", "b": "2", "c": "3"}
    s = evaluate.score(singles, {"a": "1", "b": "2", "c": "3"})
    assert (s.pair_precision, s.pair_recall, s.ari) == (1.0, 1.0, 1.0)
    # everything lumped together against singletons
    s = evaluate.score(singles, {"a": "0", "b": "0", "c": "0"})
    assert (s.pair_precision, s.pair_recall, s.pair_f1, s.ari) == (0.0, 1.0, 0.0, 0.0)
    assert s.bcubed_precision == round(1 / 3, 4) and s.bcubed_recall == 1.0
    # nothing predicted at all: every article is its own singleton
    s = evaluate.score(truth, {})
    assert (s.missing, s.predicted_clusters, s.pair_precision, s.pair_recall) == (3, 3, 1.0, 0.0)
    with pytest.raises(InputError):
        evaluate.score({}, {"a": "1"})


def test_parse_labels_errors(tmp_path: Path) -> None:
    assert evaluate.parse_labels(['{"id": 5, "cluster": 2}']) == {"5": "2"}
    with pytest.raises(InputError, match='needs "id" and "cluster"'):
        evaluate.parse_labels(['{"id": "a"}'])
    with pytest.raises(InputError, match="malformed"):
        evaluate.parse_labels(["{nope"])
    with pytest.raises(InputError, match="cannot read"):
        evaluate.read_labels(tmp_path / "absent.jsonl")


def test_report_dict_and_text_name_articles() -> None:
    truth = {"a": "1", "b": "1", "c": "2"}
    s = evaluate.score(truth, {"a": "x", "b": "y", "c": "y"})
    titles = {"a": "Alpha story", "b": "Alpha story again", "c": "Gamma"}
    d = evaluate.report_dict(s, titles)
    # parts of equal size come in label order: true cluster "1" (b) before "2" (c)
    assert d["worst_merges"][0]["parts"] == [{"cluster": "1", "articles": [{"id": "b", "title": "Alpha story again"}]},
                                             {"cluster": "2", "articles": [{"id": "c", "title": "Gamma"}]}]
    text = evaluate.render_text(s, titles)
    assert "merge: predicted y holds 2 stories (2 articles)" in text
    assert "split: story 1 in 2 clusters (2 articles)" in text
    assert "        c  'Gamma'" in text


# ------------------------------------------------------------------ same as score.py

def _random_labels(rng: random.Random) -> tuple[dict[str, str], dict[str, str]]:
    n = rng.randint(1, 60)
    ids = [f"site{rng.randint(0, 3)}/art-{k}.txt" for k in range(n)]
    truth = {i: f"s{rng.randint(0, max(1, n // 3))}" for i in ids}
    pred: dict[str, str] = {}
    for i in ids:
        r = rng.random()
        if r < 0.1:
            continue  # missing from the prediction
        pred[i] = truth[i] if r < 0.6 else str(rng.randint(0, 12))
    for k in range(rng.randint(0, 3)):
        pred[f"extra-{k}"] = str(k)
    return truth, pred


def test_matches_score_py_on_random_labelings() -> None:
    ref = _score_py()
    rng = random.Random(7)
    for _ in range(300):
        truth, pred = _random_labels(rng)
        assert evaluate.score(truth, pred).as_dict() == ref.scores(truth, pred)


def test_eval_cli_matches_score_py_on_a_synthetic_corpus(tmp_path: Path) -> None:
    ref = _score_py()
    synth = BENCH / "synth.py"
    if not (BENCH.parent / "data" / "reuters21578.jsonl.gz").exists():
        pytest.skip("the benchmark's base stories are not available on this machine")
    # the profile by path: synth.py resolves a bare name against the working directory first
    subprocess.run([sys.executable, str(synth), "--profile", str(BENCH / "profiles" / "dev.json"), "--stories", "40",
                    "--out", str(tmp_path)], check=True, capture_output=True)
    articles, truth_file = tmp_path / "articles", tmp_path / "truth.jsonl"
    runner = CliRunner()
    scanned = runner.invoke(cli, ["scan", str(articles), "--format", "jsonl", "-q", "-j", "1",
                                  "--output", str(tmp_path / "pred.jsonl")])
    assert scanned.exit_code == 0, scanned.output
    expected = ref.scores(ref.read(str(truth_file)), ref.read(str(tmp_path / "pred.jsonl")))
    assert evaluate.score(evaluate.read_labels(truth_file),
                          evaluate.read_labels(tmp_path / "pred.jsonl")).as_dict() == expected
    out = runner.invoke(cli, ["eval", str(articles), "--truth", str(truth_file), "--json", "-q", "-j", "1"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    for key, value in expected.items():
        if key in ("worst_merges", "worst_splits"):
            assert [{k: v for k, v in e.items() if k != "parts"} for e in doc[key]] == value[:5]
        else:
            assert doc[key] == value, key


# ------------------------------------------------------------------ the command

STORY_A = ("Acme Corp said on Monday it would buy Widget Inc for 120 million dlrs in cash, "
           "ending a six month contest for the maker of industrial valves. The board of Widget "
           "approved the offer, which values each share at 14 dlrs, Acme said in a statement.")
STORY_B = ("Farmers in the northern plains planted less spring wheat than expected this year, "
           "a government survey showed, as wet fields delayed work across the region and "
           "growers switched some acres to soybeans and sunflowers instead.")


def _folder(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "articles"
    (root / "wire").mkdir(parents=True)
    (root / "paper").mkdir()
    (root / "wire" / "acme.txt").write_text("ACME TO BUY WIDGET\n\n" + STORY_A + "\n", encoding="utf-8")
    (root / "paper" / "acme.txt").write_text("Acme to buy Widget\n\n" + STORY_A.replace(" dlrs", " dollars", 1)
                                             + "\n\nPaper staff and wire reports.\n", encoding="utf-8")
    (root / "wire" / "wheat.txt").write_text("WHEAT PLANTINGS FALL\n\n" + STORY_B + "\n", encoding="utf-8")
    truth = tmp_path / "truth.jsonl"
    truth.write_text("".join(json.dumps({"id": i, "cluster": c}) + "\n" for i, c in
                             [("wire/acme.txt", "acme"), ("paper/acme.txt", "acme"), ("wire/wheat.txt", "wheat")]),
                     encoding="utf-8")
    return root, truth


def test_eval_command_text_and_json(tmp_path: Path) -> None:
    root, truth = _folder(tmp_path)
    runner = CliRunner()
    out = runner.invoke(cli, ["eval", str(root), "--truth", str(truth), "-q", "-j", "1"])
    assert out.exit_code == 0, out.output
    assert "articles 3  true clusters 2  predicted 2  missing 0  extra 0" in out.output
    assert "pairwise  P 1.0000  R 1.0000  F1 1.0000" in out.output
    assert "ARI       1.0000" in out.output
    out = runner.invoke(cli, ["eval", str(root), "--truth", str(truth), "--json", "-q", "-j", "1"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert (doc["ari"], doc["pair_f1"], doc["bcubed_f1"], doc["articles"]) == (1.0, 1.0, 1.0, 3)
    assert doc["scan"]["articles"] == 3


def test_eval_command_reports_mistakes_with_titles(tmp_path: Path) -> None:
    root, truth = _folder(tmp_path)
    # label the two Acme copies as different stories: the detector's cluster becomes a "merge"
    truth.write_text("".join(json.dumps({"id": i, "cluster": c}) + "\n" for i, c in
                             [("wire/acme.txt", "a1"), ("paper/acme.txt", "a2"), ("wire/wheat.txt", "w"),
                              ("wire/gone.txt", "g")]), encoding="utf-8")
    out = CliRunner().invoke(cli, ["eval", str(root), "--truth", str(truth), "-j", "1"])
    assert out.exit_code == 0, out.output
    assert "holds 2 stories (2 articles)" in out.output
    assert "paper/acme.txt  'Acme to buy Widget'" in out.output
    assert "missing 1" in out.output and "wire/gone.txt" in out.output
    assert "1 of 4 truth ids are not among the scanned articles" in out.output  # the warning (stderr)


def test_eval_command_errors(tmp_path: Path) -> None:
    root, _ = _folder(tmp_path)
    runner = CliRunner()
    out = runner.invoke(cli, ["eval", str(root)])
    assert out.exit_code == 2 and "--truth" in out.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    out = runner.invoke(cli, ["eval", str(root), "--truth", str(bad), "-q", "-j", "1"])
    assert out.exit_code == 1 and 'needs "id" and "cluster"' in out.output
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    out = runner.invoke(cli, ["eval", str(root), "--truth", str(empty), "-q", "-j", "1"])
    assert out.exit_code == 1 and "holds no labels" in out.output
