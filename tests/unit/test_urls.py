"""The one check of stored URLs, and the Markdown sanitizer that applies it."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from storyline.kernel import markdown
from storyline.kernel.validation import LINK_SCHEMES, url_allowed, url_scheme


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("https://example.org/x", "https"),
        ("HTTP://example.org", "http"),
        ("javascript:alert(1)", "javascript"),
        (" \x01JaVa\tScRiPt:alert(1)", "javascript"),
        ("java\nscript:alert(1)", "javascript"),
        ("vbscript:msgbox(1)", "vbscript"),
        ("data:text/html,<script>", "data"),
        ("/stories/1", None),
        ("//example.org", None),
        # Percent-escapes and entities are no scheme characters: a browser
        # reads these as relative paths.
        ("%6Aavascript:alert(1)", None),
        ("jav&#x09;ascript:alert(1)", None),
    ],
)
def test_the_scheme_is_read_as_a_browser_reads_it(url: str, scheme: str | None) -> None:
    assert url_scheme(url) == scheme


def test_only_web_urls_with_a_host_are_allowed_by_default() -> None:
    assert url_allowed("https://example.org/repo")
    assert url_allowed("http://example.org")
    for refused in (
        None,
        "",
        "javascript:alert(1)",
        "  javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "java\tscript:alert(1)",
        "vbscript:x",
        "data:text/html;base64,PHNjcmlwdD4=",
        "file:///etc/passwd",
        "mailto:someone@example.org",
        "http://",
        "https://[::1",
        "/relative/path",
    ):
        assert not url_allowed(refused), refused
    assert url_allowed("mailto:someone@example.org", schemes=LINK_SCHEMES)
    assert url_allowed("/stories/1", relative=True)
    assert not url_allowed("javascript:x", schemes=LINK_SCHEMES, relative=True)


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](  javascript:alert(1))",
        "[x](jav&#x09;ascript:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](java&#10;script:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "![x](data:image/svg+xml;base64,PHN2Zz4=)",
        "<javascript:alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        "[x][r]\n\n[r]: javascript:alert(1)",
        "[x](file:///etc/passwd)",
    ],
)
def test_markdown_never_links_to_a_scheme_that_runs(source: str) -> None:
    html = markdown.render(source)
    for url in _urls(html):
        assert url_allowed(url, schemes=LINK_SCHEMES, relative=True), (source, html)
    assert "<script" not in html


class _Urls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [v or "" for k, v in attrs if k in {"href", "src"}]


def _urls(html: str) -> list[str]:
    """Every href and src as the browser reads it (entities decoded)."""
    parser = _Urls()
    parser.feed(html)
    return parser.found


def test_markdown_keeps_web_mail_and_local_links() -> None:
    html = markdown.render(
        "[a](https://example.org/a) [b](mailto:b@example.org) [c](/stories/3) ![d](/static/d.png)"
    )
    assert 'href="https://example.org/a"' in html
    assert 'href="mailto:b@example.org"' in html
    assert 'href="/stories/3"' in html
    assert '<img src="/static/d.png" alt="d">' in html


def test_an_image_from_another_site_becomes_a_link() -> None:
    # The pages load images from this server only, and a remote image would
    # tell its site who reads the story.
    html = markdown.render("![the graph](https://example.org/graph.png)")
    assert "<img" not in html
    assert '<a href="https://example.org/graph.png"' in html
    assert ">the graph</a>" in html
