"""Seeded random streams and skewed weights.

Each part of the generator draws from its own stream (`rng(seed, stream)`),
so that adding draws to one part does not shift the numbers of another.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


def rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream])


def zipf_weights(n: int, exponent: float) -> npt.NDArray[np.float64]:
    """Probabilities falling off as 1/rank**exponent: a few items take most draws."""
    weights = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent
    return weights / weights.sum()  # type: ignore[no-any-return]
