"""Front-end libraries, served from node_modules under /vendor.

`npm ci` (run by `make run` and `make test`) installs them from the root
package.json; nothing of theirs is committed. Only the files listed here are
served, so node_modules is never browsable. When a library is missing (npm
was not available), pages leave out its script and keep working without it:
every page is usable without JavaScript.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from storyline.errors import NotFound

# The checkout's root: src/storyline/web/vendor.py -> four levels up.
NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"

# URL name -> (npm package, file inside it).
FILES: dict[str, tuple[str, str]] = {
    "htmx.min.js": ("htmx.org", "dist/htmx.min.js"),
    "Sortable.min.js": ("sortablejs", "Sortable.min.js"),
}


@dataclass(frozen=True)
class VendorFile:
    name: str
    path: Path
    version: str

    @property
    def url(self) -> str:
        # The version in the URL lets browsers cache the file for good.
        return f"/vendor/{self.name}?v={self.version}"


def available(root: Path = NODE_MODULES) -> dict[str, VendorFile]:
    """The whitelisted files that are installed, by URL name."""
    found: dict[str, VendorFile] = {}
    for name, (package, inside) in FILES.items():
        path = root / package / inside
        if not path.is_file():
            continue
        try:
            version = str(json.loads((root / package / "package.json").read_text())["version"])
        except (OSError, ValueError, KeyError):
            version = "0"
        found[name] = VendorFile(name=name, path=path, version=version)
    return found


def router_for(files: dict[str, VendorFile]) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/vendor/{name}")
    def vendor_file(name: str) -> FileResponse:
        found = files.get(name)
        if found is None:
            raise NotFound.of("file", name)
        return FileResponse(
            found.path,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=31536000, immutable"},
        )

    return router
