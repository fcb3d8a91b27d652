"""The docs cannot drift from the tool: generated references are current, examples run."""

from __future__ import annotations

from pricing.cli.reference import DOCS, GENERATED


def test_generated_references_are_current() -> None:
    import difflib

    for name, render in GENERATED.items():
        committed, current = (DOCS / name).read_text(encoding="utf-8"), render()
        diff = "".join(
            list(difflib.unified_diff(committed.splitlines(True), current.splitlines(True)))[:20]
        )
        assert committed == current, f"docs/{name} is stale: run `make docs` and commit it\n{diff}"


import re  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from pricing.cli import main  # noqa: E402
from tests.conftest import SAMPLE_DATA  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GUIDES = [
    "README.md",
    "docs/getting-started.md",
    "docs/marketer.md",
    "docs/salesperson.md",
    "docs/owner.md",
]
_BLOCK = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)
_EXITS = re.compile(r"#\s*exits?\s+(\d+)")


def console_commands(text: str) -> list[tuple[list[str], int, list[str]]]:
    """The `$ pricing …` lines of a guide's console blocks: arguments, the exit code expected,
    and the output lines shown under it that are prose (tables are laid out per terminal)."""
    found: list[tuple[list[str], int, list[str]]] = []
    for block in _BLOCK.findall(text):
        for line in block.splitlines():
            if line.startswith("$ "):
                expected = _EXITS.search(line)
                words = shlex.split(line[2:], comments=True)
                if words and words[0] == "pricing":
                    found.append((words[1:], int(expected.group(1)) if expected else 0, []))
                continue
            if found and line.strip() and not re.search(r"[─│]|\S {3,}\S", line):
                found[-1][2].append(line.strip())
    return found


@pytest.mark.parametrize("guide", GUIDES)
def test_every_console_example_in_the_guides_runs(
    guide: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands = console_commands((ROOT / guide).read_text(encoding="utf-8"))
    assert commands, f"{guide} has no console examples"
    shutil.copytree(SAMPLE_DATA, tmp_path / "sample_data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PRICING_DATABASE_URL", raising=False)
    monkeypatch.setenv("PRICING_USER", "mia")
    runner = CliRunner()
    for args, expected, shown in commands:
        result = runner.invoke(main, args, catch_exceptions=False)
        assert result.exit_code == expected, f"{guide}: pricing {shlex.join(args)}\n{result.output}"
        for line in shown:
            assert line in result.output, (
                f"{guide}: pricing {shlex.join(args)} no longer prints: {line}"
            )


_PYTHON = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_the_library_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Given the sample files under the names docs/library.md uses, when its example runs as
    written, then it imports, reports, and the report's totals are Decimals."""
    shutil.copy(SAMPLE_DATA / "price-book-2026.xlsx", tmp_path / "book.xlsx")
    shutil.copy(SAMPLE_DATA / "guardrails.toml", tmp_path / "guardrails.toml")
    shutil.copy(SAMPLE_DATA / "deals-2025-2026.csv", tmp_path / "deals.csv")
    monkeypatch.chdir(tmp_path)
    example = _PYTHON.findall((ROOT / "docs" / "library.md").read_text(encoding="utf-8"))[0]
    names: dict[str, object] = {}
    exec(compile(example, "docs/library.md", "exec"), names)  # our own docs, run as written
    from decimal import Decimal

    rep = names["rep"]
    assert isinstance(rep.totals.net_revenue, Decimal)  # type: ignore[attr-defined]
    assert (tmp_path / "shop.db").exists()
