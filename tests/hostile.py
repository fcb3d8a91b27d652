"""Running pricing on hostile files: a fresh process per command, its peak memory measured.

Hostile files (gigabyte sparse files, zip bombs, millions of rows) are made by each test in its
own temporary folder; what is measured is the command's own peak resident memory, read from
``/proc/self/status`` (``VmHWM``) just before it exits. ``ru_maxrss`` of a child would start
from the parent's peak (a forked child inherits it), i.e. that of the test run so far.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PEAK_WRAPPER = (
    "import sys\nfrom pricing.cli import main\n"
    "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
    "    status = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)\n"
    "else:\n    status = 0\n"
    "sys.stdout.flush()\n"
    "hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
    "print('\\npeak', int(hwm.split()[1]) // 1024, status)"
)  # runs pricing, then prints "peak MB EXIT" as the last line of stdout


@dataclass(frozen=True)
class Measured:
    """One command run in a fresh process: exit code, output and peak memory in MB."""

    exit_code: int
    stdout: str
    stderr: str
    peak_mb: int


def measured(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Measured:
    """Run ``pricing ARGS`` in a fresh Python process and measure its peak memory."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK_WRAPPER, *args],
        capture_output=True,
        text=True,
        errors="backslashreplace",
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    found = re.findall(r"peak (\d+) (-?\d+)", done.stdout)
    assert found, f"the command did not finish normally: {done.stderr[-2000:]}"
    peak, status = found[-1]
    stdout = done.stdout[: done.stdout.rfind("\npeak ")]
    return Measured(int(status), stdout, done.stderr, int(peak))


def peak_of(*args: str) -> tuple[int, str, int]:
    """Exit code, stderr and peak memory (MB) of one pricing command in a fresh process."""
    run = measured(*args)
    return run.exit_code, run.stderr, run.peak_mb


def sparse_file(path: Path, size: int, start: bytes = b"") -> Path:
    """A file of ``size`` bytes that takes no disk: ``start``, then zeros (a hole)."""
    with path.open("wb") as handle:
        handle.write(start)
        handle.truncate(size)
    return path
