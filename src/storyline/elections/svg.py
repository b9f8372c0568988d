"""Charts made to sit inside a page.

The velocity charts (`storyline.releases`) and the election charts
(`storyline.voting`'s results page) are inlined in pages whose
Content-Security-Policy refuses inline styles; both go through here.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

__all__ = ["inline_svg"]

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_URL_REF = re.compile(r"url\(#([^)]+)\)")
# Attributes naming other elements by id, which must follow the ids' prefix
# (a chart's `<title>` and `<desc>`, see `storyline.elections.charts.label_svg`).
_ID_LISTS = ("aria-labelledby", "aria-describedby")


def inline_svg(svg: bytes | str, *, prefix: str) -> str:
    """A chart ready to sit inside a page: no XML prologue or metadata, no `<style>` or
    `style` attributes (the pages' Content-Security-Policy refuses inline
    styles, so they become SVG presentation attributes, which it allows),
    and every id prefixed, so two charts on a page do not clip each other."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    root = ET.fromstring(svg.encode() if isinstance(svg, str) else svg)
    href = f"{{{XLINK_NS}}}href"
    for parent in root.iter():
        dropped = {f"{{{SVG_NS}}}style", f"{{{SVG_NS}}}metadata"}
        for child in [c for c in parent if c.tag in dropped]:
            parent.remove(child)
        style = parent.attrib.pop("style", None)
        for declaration in (style or "").split(";"):
            name, _, value = declaration.partition(":")
            if name.strip() and value.strip():
                parent.set(name.strip(), value.strip())
        if "id" in parent.attrib:
            parent.set("id", prefix + parent.attrib["id"])
        for name, value in parent.attrib.items():
            if "url(#" in value:
                parent.set(name, _URL_REF.sub(lambda m: f"url(#{prefix}{m.group(1)})", value))
        for name in _ID_LISTS:
            if name in parent.attrib:
                parent.set(name, " ".join(prefix + i for i in parent.attrib[name].split()))
        if parent.attrib.get(href, "").startswith("#"):
            parent.set(href, "#" + prefix + parent.attrib[href][1:])
    return ET.tostring(root, encoding="unicode")
