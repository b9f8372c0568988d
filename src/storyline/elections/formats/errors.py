"""The one error every ballot-file reader raises for malformed input."""

from __future__ import annotations

__all__ = ["BallotFileError"]


class BallotFileError(ValueError):
    """A ballot file could not be read; ``line`` is 1-based (0 when not line-specific)."""

    def __init__(self, message: str, *, line: int = 0, source: str | None = None) -> None:
        self.line = line
        self.source = source
        self.reason = message
        where = source or "ballot file"
        prefix = f"{where}, line {line}: " if line else f"{where}: "
        super().__init__(prefix + message)
