"""python-storyboardclient 0.2.0, the official StoryBoard client, talking to
the app through the test client instead of a network socket.

The client sends every request through `requests.Session.request`; a small
bridge with the same method hands them to the (OpenAPI-checking) TestClient,
whose responses have everything the client reads (status_code,
headers, json(), content).
"""

from __future__ import annotations

import os
from typing import Any

from fastapi.testclient import TestClient

BASE_URL = "http://testserver/v1"


class _Bridge:
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def request(
        self,
        method: str,
        url: str,
        data: str | None = None,
        headers: dict[str, str] | None = None,
        **_ignored: Any,
    ) -> Any:
        return self.client.request(method, url, content=data, headers=headers)


def storyboard_client(client: TestClient, token: str | None = None) -> Any:
    # The package asks pbr for the version of "storyboardclient", but the
    # distribution is "python-storyboardclient"; pbr accepts an override.
    os.environ.setdefault("PBR_VERSION", "0.2.0")
    from storyboardclient.v1 import client as sb_client

    sb = sb_client.Client(BASE_URL, token)
    sb.http_client.http = _Bridge(client)
    return sb
