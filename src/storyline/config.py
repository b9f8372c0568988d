"""Settings, built once from the environment by the composition root.

Nothing here is read at import time: `Settings.from_env()` is called by the
server, the worker and the CLI when they start, and tests build their own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from storyline.errors import ConfigurationError


def _bool(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigurationError(f"{name} must be true or false, not {value!r}")


def _int(value: str, name: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, not {number}")
    return number


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the server, the worker and the CLI need to know."""

    database_url: str
    data_dir: Path = Path("var")
    # Paging mirrors StoryBoard's defaults so that clients that never send a
    # limit get the page size they were written against.
    page_size_default: int = 100
    page_size_maximum: int = 500
    enable_editable_comments: bool = True
    # SQLAlchemy echo, for debugging only.
    echo_sql: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("STORYLINE_DATA_DIR", "var"))
        default_url = f"sqlite:///{data_dir / 'storyline.db'}"
        url = env.get("STORYLINE_DATABASE_URL", "").strip() or default_url
        if url.startswith("postgresql://"):
            # psycopg 3 is the only PostgreSQL driver we ship.
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        if not (url.startswith(("sqlite", "postgresql+psycopg"))):
            raise ConfigurationError(
                "STORYLINE_DATABASE_URL must be a sqlite:/// or postgresql:// URL, "
                f"not {url.split(':', 1)[0]!r}"
            )
        return cls(
            database_url=url,
            data_dir=data_dir,
            page_size_default=_int(
                env.get("STORYLINE_PAGE_SIZE_DEFAULT", "100"), "STORYLINE_PAGE_SIZE_DEFAULT", 1
            ),
            page_size_maximum=_int(
                env.get("STORYLINE_PAGE_SIZE_MAXIMUM", "500"), "STORYLINE_PAGE_SIZE_MAXIMUM", 1
            ),
            enable_editable_comments=_bool(
                env.get("STORYLINE_EDITABLE_COMMENTS", "true"), "STORYLINE_EDITABLE_COMMENTS"
            ),
            echo_sql=_bool(env.get("STORYLINE_ECHO_SQL", "false"), "STORYLINE_ECHO_SQL"),
        )
