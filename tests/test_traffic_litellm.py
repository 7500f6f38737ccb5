"""Coverage on embeddings and the classifier mix through litellm, against the loopback
OpenAI-compatible server of tests/test_probe.py (no network); litellm unimported until used."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from econ.base.errors import EconError
from econ.evidence.traffic.classifier import (
    classifier_shares,
    classify,
    estimate_classifier_cost,
    stratified_sample,
)
from econ.evidence.traffic.embeddings import (
    estimate_embedding_cost,
    measure_coverage_embeddings,
)
from econ.evidence.traffic.spend import check_spend
from tests.conftest import SNAPSHOT
from tests.test_probe import SECRET, FakeServer, server  # noqa: F401 - the loopback fixture

PASSWORD = ["reset my password please", "I forgot my password and login", "password reset link",
            "my login is locked, reset password", "change the password of my login",
            "locked out: password reset", "how to reset a forgotten password"]
COOKING = ["a recipe for tomato soup", "bake bread in the oven", "simmer the soup with basil"]
CAPS = [("math", "arithmetic and algebra"), ("code_help", "programming questions")]


def test_importing_the_traffic_modules_does_not_import_litellm() -> None:
    code = ("import sys; import econ.evidence.traffic.coverage, econ.evidence.traffic.embeddings,"
            " econ.evidence.traffic.classifier, econ.evidence.traffic.eval_inputs,"
            " econ.evidence.traffic.readers, econ.evidence.traffic.spend,"
            " econ.scenario.traffic_write;"
            " print('litellm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_coverage_on_embeddings_from_the_loopback_server(server: FakeServer) -> None:  # noqa: F811
    evals, traffic = PASSWORD[:5], PASSWORD[5:] + COOKING
    cov = measure_coverage_embeddings(traffic, evals, "openai/emb", api_base=server.url,
                                      api_key=SECRET, batch_size=4)
    assert server.calls[("emb", "embeddings")] == 2 + 2  # 5 evals and 5 conversations, by 4
    assert cov.method == "embeddings:openai/emb"
    # reference: the server's vectors, normalised here with numpy; embeddings are compared
    # uncentred (no mean of the traffic enters a verdict)
    x = np.array([FakeServer.embed(t) for t in evals + traffic])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    e, t = x[:5], x[5:]
    cos = e @ e.T
    np.fill_diagonal(cos, -np.inf)
    assert cov.threshold == pytest.approx(float(np.quantile(1 - cos.max(axis=1), 0.95)), abs=1e-9)
    np.testing.assert_allclose(cov.distance, 1 - (t @ e.T).max(axis=1), atol=1e-9)
    assert cov.seen.tolist()[2:] == [False, False, False]  # no eval mentions cooking
    assert cov.indicative  # 5 eval inputs cannot estimate a 95% quantile


def test_embedding_spend_is_estimated_and_refused_before_any_call(
        server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    import litellm  # only to find the tiktoken encodings it bundles
    import tiktoken

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(Path(litellm.__file__).parent
                                                 / "litellm_core_utils" / "tokenizers"))
    enc = tiktoken.get_encoding("cl100k_base")
    texts = PASSWORD + COOKING
    est = estimate_embedding_cost(texts, "text-embedding-3-small", batch_size=4)
    assert est.prompt_tokens == sum(len(enc.encode(t)) for t in texts)
    assert est.calls == 3 and est.max_completion_tokens == 0
    # OpenAI lists text-embedding-3-small at 0.02 USD per million tokens
    assert est.usd == pytest.approx(est.prompt_tokens * 0.02 / 1e6, rel=1e-9)
    with pytest.raises(EconError, match=r"embeddings text-embedding-3-small: 3 calls are "
                                         r"estimated at up to \d\.\d\de-06 USD"):
        measure_coverage_embeddings(COOKING, PASSWORD, "openai/emb", api_base=server.url,
                                    api_key=SECRET, max_spend_usd=0.0,
                                    estimate=est)
    assert sum(server.calls.values()) == 0
    cov = measure_coverage_embeddings(COOKING, PASSWORD, "openai/emb", api_base=server.url,
                                      api_key=SECRET, max_spend_usd=1.0, estimate=est)
    assert cov.conversations == 3


def test_embedding_errors_name_the_model_and_hide_the_key(server: FakeServer) -> None:  # noqa: F811
    with pytest.raises(EconError) as err:
        measure_coverage_embeddings(["x"], PASSWORD[:3], "openai/emb", api_base=server.url,
                                    api_key="sk-wrong-key-123")
    assert str(err.value).startswith("embeddings via openai/emb: AuthenticationError")
    assert "sk-wrong-key-123" not in str(err.value)


def test_classifier_estimates_refuses_then_labels(server: FakeServer) -> None:  # noqa: F811
    def answer(model: str, last: str) -> str:
        return "math" if "sum" in last else "Code_Help." if "python" in last else "none"

    server.answer = answer  # type: ignore[method-assign]
    texts = ["what is the sum of 2 and 3", "fix my python loop", "write me a poem",
             "the sum of a series", "python typing question"]
    est = estimate_classifier_cost(texts, CAPS, "openai/small", price_model="gpt-4o-mini")
    prices = json.loads(SNAPSHOT.read_text())["models"]["gpt-4o-mini"]
    assert est.calls == 5 and est.max_completion_tokens == 5 * 16
    assert est.usd == pytest.approx(est.prompt_tokens * prices["input_cost_per_token"]
                                    + 80 * prices["output_cost_per_token"], rel=1e-12)
    # a longer conversation costs more tokens to classify
    longer = estimate_classifier_cost([t + " and more words" for t in texts], CAPS,
                                      "openai/small", price_model="gpt-4o-mini")
    assert longer.prompt_tokens > est.prompt_tokens
    # above the limit: refused before any call
    with pytest.raises(EconError, match=r"^classifier openai/small: 5 calls are estimated at up "
                                         r"to \d\.\d\de-05 USD \(\d\.\d\de-05 USD a call\), "
                                         r"above the spend limit of 0 USD; raise --max-spend"):
        classify(texts, CAPS, "openai/small", max_spend_usd=0.0, api_base=server.url,
                 api_key=SECRET, estimate=est)
    assert sum(server.calls.values()) == 0
    check_spend(est, 0.0, confirmed=True)  # a confirmed spend passes
    result = classify(texts, CAPS, "openai/small", max_spend_usd=1.0, api_base=server.url,
                      api_key=SECRET, estimate=est)
    assert result.labels == ("math", "code_help", None, "math", "code_help")
    assert result.prompt_tokens > 0 and result.usd <= est.usd
    shares, uncategorised = classifier_shares(result.labels, ["math", "code_help"])
    assert uncategorised == pytest.approx(1 / 5)
    for s, k in zip(shares, (2, 2), strict=True):
        lo, hi = proportion_confint(k, 5, alpha=0.05, method="wilson")
        assert (s["share"], s["n"]) == (k / 5, k)
        assert (s["ci_low"], s["ci_high"]) == pytest.approx((lo, hi), abs=1e-12)


def test_unpriced_classifier_model_is_refused() -> None:
    with pytest.raises(EconError, match=r"classifier openai/no-such-model-xyz: not priced"):
        estimate_classifier_cost(["a"], CAPS, "openai/no-such-model-xyz")
    est = estimate_classifier_cost(["a"], CAPS, "openai/no-such-model-xyz",
                                   prices_usd_per_mtok=(1.0, 2.0))
    assert est.usd == pytest.approx((est.prompt_tokens * 1.0 + 16 * 2.0) / 1e6)


def test_stratified_sample_is_proportional_and_seeded() -> None:
    strata = ["a"] * 60 + ["b"] * 30 + [None] * 10
    idx = stratified_sample(strata, 10, seed=7)
    picked = [strata[i] for i in idx]
    assert (picked.count("a"), picked.count("b"), picked.count(None)) == (6, 3, 1)
    assert idx.tolist() == stratified_sample(strata, 10, seed=7).tolist()
    assert len(set(idx.tolist())) == 10
    # remainders: 7 of (50, 30, 20) -> exact 3.5, 2.1, 1.4 -> 3, 2, 1 and the 1 left to a
    odd = stratified_sample(["a"] * 50 + ["b"] * 30 + ["c"] * 20, 7)
    assert [sum(1 for i in odd if (i < 50, 50 <= i < 80, i >= 80)[j]) for j in range(3)] == [
        4, 2, 1]
    assert stratified_sample(strata, 500).tolist() == list(range(100))
