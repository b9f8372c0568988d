"""The page kit: what every subsystem's pages share (rendering, sign-in
sessions and CSRF, the theme, paging, panels, front-end libraries, the
layout templates and static files). It knows no subsystem: the HTTP edge
hands it their routes, panels and folders (`install`)."""

from storyline.web.mount import install

__all__ = ["install"]
