"""What the HTTP edges need from the composition root, as a protocol.

The app keeps the container in `app.state.container`; the API and page kits
read it through this shape, so that neither imports the composition root
(which imports every subsystem).
"""

from __future__ import annotations

from typing import Protocol

from starlette.requests import Request

from storyline.config import Settings
from storyline.kernel.db import Database


class Runtime(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def db(self) -> Database: ...

    @property
    def web_secret(self) -> str: ...


def runtime(request: Request) -> Runtime:
    found: Runtime = request.app.state.container
    return found
