"""How many Monte Carlo draws: one cap and one default for the command line, the app and the
decision record.

At the cap the Monte Carlo keeps 24 bytes per draw and tier for its exact percentiles (tiers
run in groups within 128 MiB, see ``econ.decisions.uncertainty``) and draws its inputs block
by block, so memory does not grow with draws × inputs. At the default, the sampling error of a P5
is about 0.2% of the P5–P95 width for a normally distributed figure (√(0.05 · 0.95 / n) ÷
φ(1.645) ÷ 3.29); the percentiles are exact over the draws made.
May import: nothing of econ.
"""

from __future__ import annotations

__all__ = ["DEFAULT_DRAWS", "MAX_DRAWS"]

MAX_DRAWS = 1_000_000
DEFAULT_DRAWS = 100_000
