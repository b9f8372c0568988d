"""Text matching shared by the list filters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(column: Any, value: str) -> ColumnElement[bool]:
    """Case-insensitive substring match, StoryBoard's meaning of a string filter.

    Wildcards typed by the user are matched literally.
    """
    return column.ilike(f"%{escape_like(value)}%", escape="\\")  # type: ignore[no-any-return]
