"""Leave-one-out cross-validation of the GPU time fit, against hand-solved 2×2 systems."""

from __future__ import annotations

import numpy as np
import pytest

from econ.model.fit import RunShape, leave_one_out


def test_leave_one_out_matches_hand_solved_two_run_fits() -> None:
    runs = [RunShape("a", 1000, 100, 1.2), RunShape("b", 200, 400, 2.1),
            RunShape("c", 4000, 50, 2.0)]
    loo = leave_one_out(runs, prefill_cost_ratio=0.1)
    assert loo is not None
    for i, held in enumerate(runs):
        rest = [r for j, r in enumerate(runs) if j != i]
        a = np.array([[r.input_tokens_per_request, r.output_tokens_per_request] for r in rest])
        b = np.array([r.seconds_per_request for r in rest])
        alpha, beta = np.linalg.solve(a, b)  # two runs, two unknowns: exact when both >= 0
        assert alpha >= 0 and beta >= 0
        want = (alpha * held.input_tokens_per_request
                + beta * held.output_tokens_per_request) / held.seconds_per_request
        assert loo.predicted_over_measured[i] == pytest.approx(want, rel=1e-9)
    assert loo.max_abs_log_error == pytest.approx(
        max(abs(np.log(r)) for r in loo.predicted_over_measured))
    assert loo.max_abs_log_error > 0.01  # these runs are not collinear in time: errors show


def test_leave_one_out_needs_three_runs() -> None:
    assert leave_one_out([RunShape("a", 10, 10, 1.0), RunShape("b", 20, 5, 1.0)], 0.1) is None
