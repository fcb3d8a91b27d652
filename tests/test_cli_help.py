"""Everything a command can be asked is in its --help, with an example; help starts fast."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pricing.cli import main


def all_commands(group: click.Group = main, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None
        path = (*prefix, name)
        if isinstance(command, click.Group):
            found.extend(all_commands(command, path))
        else:
            found.append(path)
    return found


@pytest.mark.parametrize("path", all_commands(), ids=" ".join)
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.stdout
    assert f"pricing {' '.join(path)}" in result.stdout.split("Examples:")[1]


def test_top_level_help_lines_are_the_commands_own() -> None:
    from pricing.cli import COMMANDS

    context = click.Context(main)
    for name, (_, _, line) in COMMANDS.items():
        command = main.get_command(context, name)
        assert command is not None and command.help is not None
        assert command.help.split("\n")[0].strip() == line, name


def test_help_does_not_import_spreadsheet_or_database_libraries() -> None:
    code = (
        "import sys; from pricing.cli import main\n"
        "try: main(['--help'])\nexcept SystemExit: pass\n"
        "heavy = {'pandas', 'openpyxl', 'python_calamine', 'sqlalchemy', 'pydantic', 'rich', 'pricing.cli.requests'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_python_dash_m_pricing_works() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pricing", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "pricing" in out.stdout


def test_usage_errors_exit_2() -> None:
    result = CliRunner().invoke(main, ["pricebook", "show", "--as-of", "yesterday"])
    assert result.exit_code == 2


def test_a_request_check_does_not_import_pydantic_or_spreadsheet_libraries(tmp_path) -> None:
    code = (
        "import sys; from pricing.cli import main\n"
        f"try: main(['--db', {str(tmp_path / 'p.db')!r}, 'request', '--customer', 'A', '--reason', 'r',"
        " 'X-1', '--qty', '1', '--price', '1', '--check', '--json'])\n"
        "except SystemExit: pass\n"
        "print(sorted({'pandas', 'openpyxl', 'python_calamine', 'pydantic', 'alembic'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"  # a missing database is refused first


def test_commands_that_read_no_spreadsheet_do_not_import_spreadsheet_libraries(tmp_path) -> None:
    db = tmp_path / "p.db"
    code = (
        "import sys; from pricing.cli import main\n"
        f"for args in (['--db', {str(db)!r}, 'pricebook', 'editions'],\n"
        f"             ['--db', {str(db)!r}, 'pricebook', 'diff']):\n"
        "    try: main(args)\n"
        "    except SystemExit: pass\n"
        "print(sorted({'pandas', 'openpyxl', 'python_calamine'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_price_book_import_without_deals_does_not_import_pandas(tmp_path, workbook) -> None:
    """Its result is a typed model (pydantic, issue 24): pydantic is loaded for it, and no
    other command's results, nor pandas, nor matplotlib."""
    book = workbook([["SKU", "Price"], ["A-1", 10]])
    code = (
        "import sys; from pricing.cli import main\n"
        f"try: main(['--db', {str(tmp_path / 'p.db')!r}, 'pricebook', 'import', {str(book)!r}])\n"
        "except SystemExit: pass\n"
        "print(sorted({'pandas', 'matplotlib'} & set(sys.modules)))\n"
        "print(sorted(m for m in sys.modules if m.startswith('pricing.results.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-2:] == [
        "[]",
        "['pricing.results.common', 'pricing.results.pricebook']",
    ]


def test_a_request_check_and_a_quote_judge_without_numpy(tmp_path) -> None:
    # Request lines are judged by the rules engine's pure-Python backend: a check imports no
    # array library. A quote reads the deal history (Arrow) for its guidance, but its floors
    # and limits come from the same pure-Python backend, never the numpy one.
    db = f"sqlite:///{tmp_path / 'p.db'}"
    samples = Path(__file__).resolve().parent.parent / "sample_data"
    book, policy = samples / "price-book-2025.xlsx", samples / "guardrails.toml"
    setup = [
        ["pricebook", "import", str(book), "--effective", "2025-01-01"],
        ["policy", "load", str(policy)],
    ]
    for args in setup:
        done = subprocess.run(
            [sys.executable, "-m", "pricing", "--db", db, "--user", "priya", *args],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    commands = {
        ("request", "'request', '--check', '--customer', 'A', '--reason', 'r', 'HW-1018', "
         "'--qty', '4', '--discount', '12'"): "pending (manager)",
        ("quote", "'quote', 'HW-1018', '--qty', '4'"): "manager           15.00      5,949.15",
    }  # fmt: skip
    heavy = {
        "request": "{'numpy', 'pyarrow', 'pandas', 'pricing.policy.arrays_numpy'}",
        "quote": "{'pricing.policy.arrays_numpy'}",
    }
    for (name, args), expected in commands.items():
        code = (
            "import sys; from pricing.cli import main\n"
            f"try: main(['--db', {db!r}, '--user', 'priya', {args}])\n"
            "except SystemExit as exit: print('exit', exit.code)\n"
            f"print(sorted({heavy[name]} & set(sys.modules)))"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        lines = out.stdout.strip().splitlines()
        assert expected in out.stdout, out.stdout + out.stderr
        assert lines[-2:] == ["exit 0", "[]"], (name, out.stdout, out.stderr)
