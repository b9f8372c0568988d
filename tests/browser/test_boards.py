"""Boards and worklists in Chromium: drag a card to another lane and within
a lane, reorder a manual worklist by drag and drop, reload, and find the
order kept (on the page and through the API); axe-core on the new pages."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    ROOT,
    LiveServer,
    Person,
    check_accessibility,
    need,
    new_page,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.slow

SORTABLE = ROOT / "node_modules" / "sortablejs" / "Sortable.min.js"


def _items(live: LiveServer, person: Person, list_id: int) -> list[int]:
    data = live.api("GET", f"/v1/worklists/{list_id}", token=person.token)
    return [item["id"] for item in data["items"]]


def _page_order(page: Any, list_selector: str) -> list[int]:
    ids = page.eval_on_selector_all(
        f"{list_selector} > [data-card]", "cards => cards.map(c => c.dataset.itemId)"
    )
    return [int(i) for i in ids]


def _drag(page: Any, card_id: int, target: Any, *, below: bool) -> None:
    """Drag a card by its handle onto `target` (its lower or upper part),
    with the mouse, the way SortableJS's fallback mode follows it."""
    handle = page.locator(f"#card-{card_id} .card-handle")
    start = handle.bounding_box()
    end = target.bounding_box()
    assert start
    assert end
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    x = end["x"] + end["width"] / 2
    y = end["y"] + end["height"] * (0.8 if below else 0.2)
    page.mouse.move(x, y - 10, steps=12)
    page.mouse.move(x, y, steps=6)
    with page.expect_response(lambda r: "/move" in r.url and r.request.method == "POST") as done:
        page.mouse.up()
    assert done.value.ok, done.value.text()


def _stories(live: LiveServer, person: Person, count: int, prefix: str) -> list[int]:
    return [
        live.api("POST", "/v1/stories", token=person.token, json={"title": f"{prefix} {n}"})["id"]
        for n in range(count)
    ]


def _add(live: LiveServer, person: Person, list_id: int, story_id: int) -> int:
    item = live.api(
        "POST",
        f"/v1/worklists/{list_id}/items",
        token=person.token,
        params={"item_id": story_id, "item_type": "story"},
    )
    return int(item["id"])


def test_drag_cards_between_and_within_lanes(chromium: Any, live: LiveServer) -> None:
    need(SORTABLE.exists(), f"{SORTABLE} is missing (make node-deps runs npm ci)")
    owner = live.person("Kanban Kate")
    board = live.api(
        "POST",
        "/v1/boards",
        token=owner.token,
        json={
            "title": "Drag board",
            "lanes": [{"worklist": {"title": t}} for t in ("Todo", "Doing")],
        },
    )
    todo, doing = (lane["list_id"] for lane in board["lanes"])
    todo_items = [_add(live, owner, todo, s) for s in _stories(live, owner, 3, "Todo card")]
    doing_items = [_add(live, owner, doing, s) for s in _stories(live, owner, 2, "Doing card")]
    page = new_page(chromium)
    try:
        sign_in(page, live, owner)
        page.goto(f"{live.url}/boards/{board['id']}")
        page.wait_for_function("() => typeof window.Sortable !== 'undefined'")
        check_accessibility(page, "board")

        # Between lanes: the first Todo card onto the lower half of Doing's first card.
        moved = todo_items[0]
        _drag(page, moved, page.locator(f"#card-{doing_items[0]}"), below=True)
        # The live region is written once the move's answer has been read;
        # wait for it rather than racing the script.
        expect(page.locator("#move-status")).to_contain_text("Doing")
        shown_todo = _page_order(page, f"#lane-{todo}-cards")
        shown_doing = _page_order(page, f"#lane-{doing}-cards")
        assert moved in shown_doing
        assert moved not in shown_todo
        assert _items(live, owner, todo) == shown_todo
        assert _items(live, owner, doing) == shown_doing
        assert page.locator(f"#lane-{doing}-cards").locator("[data-card]").count() == 3

        # Within a lane: the last Todo card to the top.
        last, first = shown_todo[-1], shown_todo[0]
        _drag(page, last, page.locator(f"#card-{first}"), below=False)
        shown_todo = _page_order(page, f"#lane-{todo}-cards")
        assert shown_todo[0] == last
        assert _items(live, owner, todo) == shown_todo

        # The order survives a reload.
        page.reload()
        assert _page_order(page, f"#lane-{todo}-cards") == shown_todo
        assert _page_order(page, f"#lane-{doing}-cards") == shown_doing
        screenshot(page, "board-after-moves")
    finally:
        page.context.close()


def test_reorder_a_worklist_by_drag_and_drop(chromium: Any, live: LiveServer) -> None:
    need(SORTABLE.exists(), f"{SORTABLE} is missing (make node-deps runs npm ci)")
    owner = live.person("Listing Lee")
    worklist = live.api("POST", "/v1/worklists", token=owner.token, json={"title": "Top five"})
    items = [_add(live, owner, worklist["id"], s) for s in _stories(live, owner, 4, "Item")]
    page = new_page(chromium)
    try:
        sign_in(page, live, owner)
        page.goto(f"{live.url}/worklists/{worklist['id']}")
        page.wait_for_function("() => typeof window.Sortable !== 'undefined'")
        check_accessibility(page, "worklist")
        # The first item below the third.
        _drag(page, items[0], page.locator(f"#card-{items[2]}"), below=True)
        shown = _page_order(page, f"#list-{worklist['id']}-cards")
        assert shown != items
        assert shown[0] == items[1]
        assert _items(live, owner, worklist["id"]) == shown
        page.reload()
        assert _page_order(page, f"#list-{worklist['id']}-cards") == shown

        # The keyboard way: Tab to a card's Up button and press Enter.
        page.locator(f"#card-{shown[-1]} button[value=up]").focus()
        with page.expect_response(lambda r: "/move" in r.url) as answer:
            page.keyboard.press("Enter")
        assert answer.value.status == 303, answer.value.text()
        page.wait_for_url(lambda url: "moved=" in url)
        expected = [*shown[:-2], shown[-1], shown[-2]]
        assert _items(live, owner, worklist["id"]) == expected
        expect(page.locator("#move-status")).to_contain_text("Moved")
    finally:
        page.context.close()


def test_list_pages_are_accessible(chromium: Any, live: LiveServer) -> None:
    owner = live.person("Axe Alex")
    live.api("POST", "/v1/worklists", token=owner.token, json={"title": "Checked list"})
    live.api(
        "POST",
        "/v1/boards",
        token=owner.token,
        json={"title": "Checked board", "lanes": [{"worklist": {"title": "Only"}}]},
    )
    for scheme in ("light", "dark"):
        page = new_page(chromium, scheme=scheme)
        try:
            sign_in(page, live, owner)
            for path in ("/worklists", "/boards", "/"):
                page.goto(live.url + path)
                check_accessibility(page, f"{path} ({scheme})")
        finally:
            page.context.close()
