"""Voting in Chromium: one ballot ranked by dragging candidates with the
mouse, one by keyboard alone, both read back from the counted results; the
receipt kept by the browser; axe-core on the ballot and results pages."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, check_accessibility, new_page, sign_in

pytestmark = pytest.mark.slow

NAMES = ("Alice", "Bob", "Carol", "Dave")


def _chip(page: Any, name: str) -> Any:
    return page.locator(".ranking-widget [data-chip]", has_text=name)


def _slot(page: Any, kind: str, index: int | None = None) -> Any:
    selector = f'.ranking-widget [data-slot="{kind}"]'
    if index is not None:
        selector += f'[data-index="{index}"]'
    return page.locator(selector)


def _pairwise(document: dict[str, Any], a: str, b: str) -> int:
    names = document["candidates"]
    return int(document["pairwise"][names.index(a)][names.index(b)])


def test_rank_by_mouse_and_by_keyboard(chromium: Any, live: LiveServer) -> None:
    admin = live.person("Ada Admin", superuser=True)
    mouse_voter = live.person("Mona Mouse")
    key_voter = live.person("Kim Keys")
    now = dt.datetime.now(dt.UTC)
    election = live.api(
        "POST",
        "/v1/elections",
        token=admin.token,
        json={
            "title": "Technical Committee",
            "seats": 1,
            "candidates": [{"name": n, "statement": f"{n} will review."} for n in NAMES],
            "electorate": {"type": "users", "user_ids": [mouse_voter.id, key_voter.id]},
            "opens_at": (now + dt.timedelta(hours=1)).isoformat(),
            "closes_at": (now + dt.timedelta(days=7)).isoformat(),
        },
    )
    eid = election["id"]
    live.api("POST", f"/v1/elections/{eid}/open", token=admin.token)

    page = new_page(chromium)
    try:
        sign_in(page, live, mouse_voter)
        page.goto(f"{live.url}/elections/{eid}/ballot")
        # The script hides the selects and draws the widget.
        assert page.locator(".ballot-selects").is_hidden()
        check_accessibility(page, "ballot page")
        # Alice onto the first gap (rank 1), Bob onto her rank (a tie),
        # Carol below it (rank 2); Dave stays unranked.
        _chip(page, "Alice").drag_to(_slot(page, "gap", 0))
        _chip(page, "Bob").drag_to(_slot(page, "tier", 0))
        _chip(page, "Carol").drag_to(_slot(page, "gap", 1))
        assert _slot(page, "tier", 0).locator("[data-chip]").count() == 2
        assert _slot(page, "unranked").locator("[data-chip]").all_inner_texts() == ["Dave"]
        page.get_by_role("button", name="Cast the ballot").click()
        page.wait_for_selector("#receipt-code")
        receipt = page.locator("#receipt-code").inner_text().strip()
        # The browser kept the receipt: the ballot page offers it back.
        page.goto(f"{live.url}/elections/{eid}/ballot")
        assert page.locator("#ballot-receipt").input_value() == receipt

        page.context.clear_cookies()
        sign_in(page, live, key_voter)
        page.goto(f"{live.url}/elections/{eid}/ballot")
        # Dave to rank 1, Carol to a rank 2 of her own, Alice tied with Carol.
        _chip(page, "Dave").focus()
        page.keyboard.press("Space")
        page.keyboard.press("ArrowUp")
        page.keyboard.press("Space")
        assert "Dave: rank 1" in page.locator("#ranking-announce").inner_text()
        _chip(page, "Carol").focus()
        page.keyboard.press("Space")
        page.keyboard.press("ArrowUp")
        page.keyboard.press("Enter")
        _chip(page, "Alice").focus()
        page.keyboard.press("Space")
        page.keyboard.press("ArrowUp")
        page.keyboard.press("ArrowUp")
        assert "tied with Carol" in page.locator("#ranking-announce").inner_text()
        page.keyboard.press("Space")
        # Bob is picked up, moved, and put back with Escape.
        _chip(page, "Bob").focus()
        page.keyboard.press("Space")
        page.keyboard.press("ArrowUp")
        page.keyboard.press("Escape")
        assert "cancelled" in page.locator("#ranking-announce").inner_text()
        assert _slot(page, "unranked").locator("[data-chip]").all_inner_texts() == ["Bob"]
        page.get_by_role("button", name="Cast the ballot").focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("#receipt-code")

        live.api("POST", f"/v1/elections/{eid}/close", token=admin.token)
        document = live.api("GET", f"/v1/elections/{eid}/results", token=admin.token)
        assert document["ballots"] == 2
        # Mouse: Alice = Bob > Carol > Dave. Keyboard: Dave > Carol = Alice > Bob.
        expected = {
            ("Alice", "Bob"): 1,
            ("Bob", "Alice"): 0,
            ("Alice", "Carol"): 1,
            ("Carol", "Alice"): 0,
            ("Carol", "Dave"): 1,
            ("Dave", "Carol"): 1,
            ("Bob", "Carol"): 1,
            ("Carol", "Bob"): 1,
            ("Dave", "Bob"): 1,
            ("Bob", "Dave"): 1,
        }
        for (a, b), count in expected.items():
            assert _pairwise(document, a, b) == count, (a, b, document["pairwise"])

        page.goto(f"{live.url}/elections/{eid}/results")
        assert re.search(r"ballots? from an electorate of 2", page.locator("main").inner_text())
        assert page.locator("#pairwise").is_visible()
        assert page.locator("svg[role=img]").count() >= 1
        check_accessibility(page, "results page")
    finally:
        page.context.close()
