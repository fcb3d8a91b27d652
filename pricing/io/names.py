"""File names as text: a name that is not UTF-8 is still a file people import.

On Linux a file name is bytes: one made on a system with another encoding (``deals-\\xff.csv``,
Latin-1 from an old share, a zip from Windows) reaches Python with the bad bytes as lone
surrogates (``'deals-\\udcff.csv'``). Python opens it, but the libraries beneath the importers do
not (Arrow and calamine take a UTF-8 path, and refuse or miss such a file), nor can it be
stored (SQLite and PostgreSQL text is UTF-8) or printed to a UTF-8 stdout. :func:`shown_name` is
the name as text, each bad byte written as ``\\xNN``; :func:`openable` gives every importer a
path under that name, so each of them reads, stores and shows the file as it would any other.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


def shown_name(path: Path) -> str:
    """The file's name as text that can be stored and shown: bytes that are not UTF-8 are
    written as ``\\xNN`` (``deals-\\xff.csv``); any other name is itself."""
    return os.fsencode(path.name).decode("utf-8", "backslashreplace")


def is_text(path: Path) -> bool:
    """Whether the whole path is UTF-8 text (what Arrow, calamine and the databases take)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@contextmanager
def openable(files: Mapping[str, Path]) -> Iterator[dict[str, Path]]:
    """The files, each under a path every library can open: as they are when their path is
    UTF-8 text, else a symbolic link named :func:`shown_name` (in a folder of its own, removed
    afterwards) to the file itself, so that the file is read in place and known by the name
    people see. A file that does not exist is left as it is (its importer says so)."""
    usable = dict(files)
    folder: str | None = None
    try:
        for key, path in files.items():
            target = os.path.abspath(os.fsencode(path))
            if is_text(path) or not os.path.exists(target):
                continue
            folder = folder or tempfile.mkdtemp(prefix="pricing-file-")
            link = Path(folder) / key / shown_name(path)
            link.parent.mkdir()
            try:
                os.symlink(target, os.fsencode(link))
            except OSError:  # no symbolic links here: the importer says what it can
                continue
            usable[key] = link
        yield usable
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
