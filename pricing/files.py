"""Files people name: only a regular file is read, and that is decided before it is opened.

A named pipe (FIFO) blocks whoever opens it until something writes to it; a device such as
``/dev/zero`` never ends; a folder or a socket is no file at all. Every importer (deals, price
book, policy, a request's lines) and client mode's uploads call :func:`open_regular` (or
:func:`regular_file` when a library opens the path itself), so that such an input is refused,
named and said for what it is (exit 2), before anything waits on it or reads it. Whatever is
swapped in between the look and the open is caught too: the file is opened without waiting
(``O_NONBLOCK``) and looked at again through the open handle.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from pricing.errors import InputError

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def regular_file(path: Path) -> os.stat_result:
    """The status of ``path`` when it is a regular file (through any symbolic link), found
    without opening it; else an InputError naming it and what it is."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied; check the file's permissions") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or "not a usable file name"
        raise InputError(f"{path}: cannot be read ({reason})") from None
    _refuse_unless_regular(path, status.st_mode)
    return status


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading when it is a regular file (see :func:`regular_file`); the
    caller closes it."""
    regular_file(path)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied; check the file's permissions") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        _refuse_unless_regular(path, os.fstat(descriptor).st_mode)  # swapped since the look
        os.set_blocking(descriptor, True)
    except BaseException:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, "rb")


def _refuse_unless_regular(path: Path, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    what = next((name for test, name in _KINDS if test(mode)), "not a file")
    if stat.S_ISDIR(mode):
        raise InputError(f"{path}: is a folder, not a file")
    through = " (through a symbolic link)" if os.path.islink(path) else ""
    raise InputError(
        f"{path}: is {what}{through}, not a regular file; nothing was read: save what it "
        "holds to a file and give that file"
    )
