"""Clustered examples: a multi-epoch Inspect log built here, imported and compared, checked
against statsmodels' OLS with a cluster-robust covariance; the cluster column of the plain
format; clusters from promptfoo prompts and an lm-eval document field."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats as sps

from econ.cli import main
from econ.evidence.importers.evals import ImportOptions, read_evals
from econ.evidence.results_io import read_results, results_to_eval_data
from econ.evidence.retention import SliceResults, compare_slices

SAMPLES, EPOCHS = 40, 5


def inspect_log(path, model: str, rates: np.ndarray, seed: int) -> None:
    """An Inspect log of SAMPLES samples × EPOCHS epochs; each sample has its own pass
    probability, so its epochs are correlated."""
    rng = np.random.default_rng(seed)
    samples = [{"id": f"q{i}", "epoch": e, "metadata": {"doc": f"d{i // 4}"},
                "scores": {"choice": {"value": "C" if rng.uniform() < rates[i] else "I"}}}
               for i in range(SAMPLES) for e in range(1, EPOCHS + 1)]
    path.write_text(json.dumps({"version": 2, "status": "success",
                                "eval": {"task": "gpqa", "model": model}, "samples": samples}))


@pytest.fixture
def epochs(tmp_path, capsys):
    # the teacher knows 70% of the questions (and answers them in most epochs); the student
    # has lost a third of those: its failures concentrate on whole questions
    rng = np.random.default_rng(3)
    knows = rng.uniform(size=SAMPLES) < 0.7
    teacher = np.where(knows, 0.95, 0.1)
    student = np.where(knows & (rng.uniform(size=SAMPLES) < 0.33), 0.1, teacher)
    inspect_log(tmp_path / "t.json", "teacher", teacher, 1)
    inspect_log(tmp_path / "s.json", "student", student, 2)
    out = tmp_path / "rows.csv"
    assert main(["import", "evals", str(tmp_path / "t.json"), str(tmp_path / "s.json"),
                 "-o", str(out)]) == 0
    capsys.readouterr()
    return out


def test_multi_epoch_inspect_log_is_clustered_by_sample(epochs, capsys):
    rows = read_results(epochs)
    assert len(rows) == 2 * SAMPLES * EPOCHS
    assert {r.cluster for r in rows} == {f"gpqa:q{i}" for i in range(SAMPLES)}
    assert main(["compare", str(epochs), "--teacher", "teacher", "--student", "student",
                 "--json", "--multiplicity", "none"]) in (0, 3)
    (got,) = json.loads(capsys.readouterr().out)["capabilities"]
    assert got["design"] == "paired, clustered" and got["n_clusters"] == SAMPLES
    assert got["n_paired"] == SAMPLES * EPOCHS

    # statsmodels: the per-example difference on a constant, clustered by sample
    t = {r.example_id: r.passed for r in rows if r.model == "teacher"}
    s = {r.example_id: r.passed for r in rows if r.model == "student"}
    ids = sorted(t)
    d = np.array([t[i] - s[i] for i in ids], dtype=float)
    groups = np.array([int(i.split(":q")[1].split("@")[0]) for i in ids])
    fit = sm.OLS(d, np.ones((len(d), 1))).fit(cov_type="cluster", cov_kwds={"groups": groups},
                                              use_t=True)
    naive_fit = sm.OLS(d, np.ones((len(d), 1))).fit()
    assert got["drop"] == pytest.approx(fit.params[0], abs=1e-12)
    assert got["drop_ci"] == pytest.approx(list(fit.conf_int(alpha=0.05)[0]), abs=1e-10)
    deff = (fit.bse[0] / naive_fit.bse[0]) ** 2
    assert got["design_effect"] == pytest.approx(deff, rel=1e-10)
    assert deff > 2  # five epochs of one sample are far from five independent examples

    # the same drop as the naive analysis (every row an independent example) ...
    plain = [r for r in rows]
    data = results_to_eval_data([type(r)(r.model, r.example_id, r.capability, r.passed, r.score,
                                         r.n, None) for r in plain])
    naive = compare_slices("gpqa", data["gpqa"]["teacher"], data["gpqa"]["student"])
    assert naive.design == "paired" and naive.drop == pytest.approx(got["drop"], abs=1e-12)
    # ... and an interval wider by the design effect: √deff times the interval of the same
    # estimate with rows independent, and wider than econ's naive interval
    crit = sps.t.isf(0.025, SAMPLES - 1)
    width = got["drop_ci"][1] - got["drop_ci"][0]
    assert width == pytest.approx(2 * crit * naive_fit.bse[0] * math.sqrt(deff), rel=1e-10)
    assert width > naive.drop_ci[1] - naive.drop_ci[0]
    # power and the minimum detectable drop count clusters
    assert got["min_detectable_drop"] == pytest.approx(
        (sps.t.isf(0.025, SAMPLES - 1) + sps.t.ppf(0.8, SAMPLES - 1)) * fit.bse[0], rel=1e-10)


def test_clustered_sample_to_settle_counts_clusters():
    """A clustered slice that cannot decide: the clusters that would, by hand."""
    rng = np.random.default_rng(8)
    t, s, cl = {}, {}, {}
    for g in range(12):
        p = rng.uniform(0.3, 0.9)
        for e in range(4):
            i = f"q{g}@{e}"
            t[i], s[i], cl[i] = rng.uniform() < p, rng.uniform() < p - 0.15, f"q{g}"
    r = compare_slices("c", SliceResults.from_outcomes(t, clusters=cl),
                       SliceResults.from_outcomes(s, clusters=cl))
    assert r.verdict == "inconclusive" and r.settle_unit == "clusters"
    ids = sorted(t)
    d = np.array([t[i] - s[i] for i in ids], dtype=float)
    groups = np.array([int(i[1:].split("@")[0]) for i in ids])
    fit = sm.OLS(d, np.ones((len(d), 1))).fit(cov_type="cluster", cov_kwds={"groups": groups},
                                              use_t=True)
    se1 = fit.bse[0] * math.sqrt(12)  # the standard error of one cluster
    drop, tol = float(fit.params[0]), 0.02
    m = 12
    while True:
        se, df = se1 / math.sqrt(m), m - 1
        half = sps.t.isf(0.025, df) * se
        margin = drop - tol - half if drop > tol else tol - drop - half
        ok = sps.norm.cdf(margin / se) >= 0.8
        if ok and drop > tol:
            ok = (sps.t.isf(0.025, df) + sps.t.ppf(0.8, df)) * se <= drop
        if ok:
            break
        m += 1
    assert r.n_to_settle == m


def test_plain_cluster_column_round_trips(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("model,example_id,capability,passed,cluster\na,1,c,1,doc1\na,2,c,0,doc1\n"
                 "a,3,c,1,\n")
    rows = read_results(p)
    assert [r.cluster for r in rows] == ["doc1", "doc1", None]
    j = tmp_path / "r.jsonl"
    j.write_text('{"model": "a", "example_id": 1, "capability": "c", "passed": 1, '
                 '"cluster": 7}\n')
    assert read_results(j)[0].cluster == "7"
    from econ.evidence.results_io import results_to_text

    again = tmp_path / "again.csv"
    again.write_text(results_to_text(rows, "csv"))
    assert read_results(again) == rows


def test_singleton_clusters_are_not_clustered():
    t = {f"e{i}": i % 3 != 0 for i in range(30)}
    s = {f"e{i}": i % 2 == 0 for i in range(30)}
    cl = {f"e{i}": f"c{i}" for i in range(30)}
    r = compare_slices("c", SliceResults.from_outcomes(t, clusters=cl),
                       SliceResults.from_outcomes(s, clusters=cl))
    assert r.design == "paired" and r.n_clusters is None


def test_lmeval_cluster_key_and_promptfoo_prompts(tmp_path):
    docs = [{"doc_id": i, "doc": {"passage": f"p{i // 3}"}, "filter": "none",
             "metrics": ["acc"], "acc": float(i % 2)} for i in range(9)]
    f = tmp_path / "samples_boolq_2026-01-01T00-00-00.000000.jsonl"
    f.write_text("".join(json.dumps(d) + "\n" for d in docs))
    rows = read_evals(f, ImportOptions(model="m", cluster_key="passage"))
    assert [r.cluster for r in rows] == [f"boolq:passage=p{i // 3}" for i in range(9)]
    assert all(r.cluster is None for r in read_evals(f, ImportOptions(model="m")))
    results = [{"provider": {"id": "openai:x"}, "promptIdx": p, "testIdx": k,
                "testCase": {"description": f"t{k}", "vars": {"tpl": "a"}},
                "success": True, "score": 1.0}
               for k in range(3) for p in range(2)]
    pf = tmp_path / "promptfoo.json"
    pf.write_text(json.dumps({"evalId": "e", "results": {"version": 3, "results": results},
                              "config": {"description": "suite"}}))
    rows = read_evals(pf)
    assert [r.cluster for r in rows] == [f"suite:t{k}" for k in range(3) for _ in range(2)]
    rows = read_evals(pf, ImportOptions(cluster_key="tpl"))
    assert {r.cluster for r in rows} == {"suite:tpl=a"}
