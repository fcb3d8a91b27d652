"""The demo: the whole story on the sample data, in a database of its own."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pricing import results
from pricing.errors import InputError
from pricing.operations import Session, operation

if TYPE_CHECKING:
    import pricing.results.store  # noqa: F401  (what ``results.store`` is)

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"  # in a pricing checkout
# Why the demo runs only here: its database is a new one of its own, never the team's.
OWN_DATABASE = (
    "`pricing demo` runs on a database of its own, not on the team's server: run it with "
    "--db, or where client mode is off"
)


class Demo(Session):
    """The demo: methods of :class:`pricing.Pricing`."""

    @operation("demo.new", local=OWN_DATABASE)
    def new_demo(self, *, folder: Path) -> results.store.DemoStore:
        """A folder for the demo, made if need be, with the database of an earlier demo in it
        deleted (the demo's database is made anew there): where it is, and the sample data the
        demo tells its story on."""

        if not SAMPLE_DATA.is_dir():
            raise InputError(
                f"no sample data at {SAMPLE_DATA}: run the demo from a pricing checkout"
            )
        folder = Path(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"{folder}: cannot be the demo's folder ({exc.strerror})") from None
        database = folder / "pricing.db"
        for stale in folder.glob("pricing.db*"):
            stale.unlink()
        return results.store.DemoStore(
            folder=str(folder), database=str(database), sample_data=str(SAMPLE_DATA)
        )
