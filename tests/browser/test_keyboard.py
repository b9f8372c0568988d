"""The keyboard does everything: the shortcut list, search, new story, moving
through lists, visible focus; and the theme switch applies without a reload."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import LiveServer, Person, sign_in

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def admin(live: LiveServer) -> Person:
    person = live.person("Kim Keyboard", superuser=True)
    for n in range(3):
        live.person(f"Listed Person{n}")
    return person


def test_shortcut_list_search_and_new_story(page: Any, live: LiveServer, admin: Person) -> None:
    sign_in(page, live, admin)
    page.goto(live.url + "/settings/profile")
    dialog = page.locator("#shortcuts-dialog")
    assert not dialog.is_visible()
    page.keyboard.press("?")
    dialog.wait_for(state="visible")
    assert dialog.get_by_text("Go to the search box").is_visible()
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    # Typing in a field never triggers a shortcut.
    page.locator("#f-full_name").focus()
    page.keyboard.type("c?/")
    assert page.url.endswith("/settings/profile")
    assert "c?/" in page.locator("#f-full_name").input_value()
    page.locator("h1").click()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "site-search"
    page.keyboard.press("Escape")
    page.keyboard.press("c")
    page.wait_for_url(live.url + "/stories/new")


def test_j_and_k_move_through_a_list_and_enter_opens(
    page: Any, live: LiveServer, admin: Person
) -> None:
    sign_in(page, live, admin)
    page.goto(live.url + "/admin/users")
    rows = page.locator("#admin-users tr[data-row]")
    assert rows.count() >= 3
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert "is-selected" in (rows.nth(1).get_attribute("class") or "")
    page.keyboard.press("k")
    assert "is-selected" in (rows.nth(0).get_attribute("class") or "")
    assert page.evaluate("document.activeElement.hasAttribute('data-row')")
    target = rows.nth(0).locator("a[data-row-link]").get_attribute("href")
    page.keyboard.press("Enter")
    page.wait_for_url(live.url + str(target))


def test_skip_link_comes_first_and_focus_is_visible(page: Any, live: LiveServer) -> None:
    page.goto(live.url + "/login")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => { const e = document.activeElement; const s = getComputedStyle(e);"
        " return {text: e.textContent.trim(), outline: s.outlineStyle, width: s.outlineWidth}; }"
    )
    assert focused["text"] == "Skip to content"
    assert focused["outline"] != "none"
    assert focused["width"] != "0px"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    # Every control can be reached: Tab walks to the sign-in button.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Sign in":
            break
    else:
        pytest.fail("the Sign in button is not reachable with Tab")


def test_theme_switch_applies_at_once_and_is_remembered(
    page: Any, live: LiveServer, admin: Person
) -> None:
    sign_in(page, live, admin)
    page.goto(live.url + "/settings/profile")
    assert page.evaluate("document.documentElement.dataset.theme") is None
    light_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    with page.expect_response(lambda r: r.url.endswith("/settings/theme")):
        page.locator("#theme-choice").select_option("dark")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != light_bg
    # The Apply button is only for browsers without JavaScript.
    assert not page.locator(".theme-apply").is_visible()
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.goto(live.url + "/settings/preferences")
    assert page.locator("#pref-theme").input_value() == "dark"
    with page.expect_response(lambda r: r.url.endswith("/settings/theme")):
        page.locator("#theme-choice").select_option("system")
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") is None


def test_pages_read_without_javascript(chromium: Any, live: LiveServer, admin: Person) -> None:
    context = chromium.new_context(java_script_enabled=False)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, live, admin)
        page.goto(live.url + "/admin/users")
        assert page.locator("#admin-users tr[data-row]").count() >= 3
        # Without JavaScript the theme form posts and reloads.
        page.locator("#theme-choice").select_option("dark")
        page.locator(".theme-apply").click()
        page.wait_for_load_state()
        assert page.locator("html[data-theme=dark]").count() == 1
    finally:
        context.close()
