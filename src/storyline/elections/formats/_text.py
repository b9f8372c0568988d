"""Reading a ballot file's text from a path, a string or an open file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

__all__ = ["Source", "read_text"]

#: Something a reader accepts: a path, or the file's text, or an open text file.
Source = str | os.PathLike[str] | TextIO


def read_text(source: Source) -> tuple[str, str | None]:
    """The text of ``source`` and a name to use in error messages.

    A ``str`` containing a newline is taken as the file's content, any other
    ``str`` as a path: ballot files always have more than one line.
    """
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source):
        path = Path(source)
        # utf-8-sig drops the byte-order mark some spreadsheet tools add.
        return path.read_text(encoding="utf-8-sig"), str(path)
    if isinstance(source, str):
        return source.removeprefix("\ufeff"), None
    return source.read().removeprefix("\ufeff"), getattr(source, "name", None)
