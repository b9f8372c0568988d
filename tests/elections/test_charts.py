"""Charts render to valid SVG and PNG with every candidate named."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from storyline.elections.analyses import condorcet_spread
from storyline.elections.charts import render_matrix, render_spread
from storyline.elections.profile import Profile, pairwise

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def big() -> Profile:
    # 25 candidates with long names, 300 partly ranked ballots.
    rng = np.random.default_rng(25)
    names = [f"Candidate with a long name {i:02d}" for i in range(25)]
    rows = [
        tuple(int(x) for x in np.minimum(rng.permutation(25) + 1, rng.integers(3, 26)))
        for _ in range(300)
    ]
    return Profile.from_rankings(names, rows)


def svg_texts(svg: bytes) -> set[str]:
    root = ET.fromstring(svg)
    return {"".join(el.itertext()).strip() for el in root.iter("{http://www.w3.org/2000/svg}text")}


def test_spread_svg_names_all_25_candidates(big: Profile) -> None:
    svg = render_spread(condorcet_spread(big), seats=7, title="TC election")
    texts = svg_texts(svg)
    assert set(big.candidates) <= texts
    assert "TC election" in texts
    # Same input, same bytes: reports can be cached and diffed.
    assert svg == render_spread(condorcet_spread(big), seats=7, title="TC election")


def test_spread_png_is_a_png(big: Profile) -> None:
    png = render_spread(condorcet_spread(big), fmt="png")
    assert png.startswith(PNG_MAGIC)


def test_spread_of_no_ballots_still_renders() -> None:
    empty = Profile.from_rankings(["a", "b"], [])
    svg = render_spread(condorcet_spread(empty))
    assert {"a", "b", "Condorcet spread (0 ballots)"} <= svg_texts(svg)


def test_matrix_svg_shows_names_and_counts_in_the_given_order(big: Profile) -> None:
    m = pairwise(big)
    order = list(reversed(big.candidates))
    texts = svg_texts(render_matrix(m, order))
    assert set(big.candidates) <= texts
    assert str(int(m.d[0, 1])) in texts


def test_matrix_png_of_a_small_election() -> None:
    m = pairwise(Profile.from_rankings(["a", "b", "c"], [(1, 2, 3), (3, 1, 2)]))
    assert render_matrix(m, fmt="png").startswith(PNG_MAGIC)
    assert {"a", "b", "c", "2", "1"} <= svg_texts(render_matrix(m))
