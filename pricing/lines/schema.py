"""The deal-line schema: every column of a stored deal line, declared once.

A stored line is what its file said (the inputs and the keys made from them), what the import
added (bookkeeping), and what it matched on its date (the edition's references and money, and the
policy's verdict). Each column below says its name, its Arrow type as stored (one compressed blob
per column and segment, :mod:`pricing.lines.segments`), its role, whether it may be missing, and
what it holds (``micros``: whole millionths, for a reader of the stored data). What a segment
stores, what matching fills in and a rematch rewrites, and the Arrow schema are derived from this
declaration; what matching and the rules engine read of a line (``FACTS``, ``CLASSIFIED``) are
named here, once, beside it.

The order of ``DECLARED`` is the storage order of a segment's columns: append new columns at the
end. A segment stored before a column existed reads that column as nulls of its type.

Adding an input column: declare it here (role ``INPUT``) and map it in
:mod:`pricing.lines.headers` (its header names in ``DEAL_HEADERS``; a text column needs nothing
more, a number a conversion in :mod:`pricing.lines.numbers` and a place in ``reader._table``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa


class Role(Enum):
    """Where a column's values come from."""

    INPUT = "input"  # read from the deals file (money and quantities in millionths)
    KEY = "key"  # made from the file's values, to find the line or its SKU again
    BOOKKEEPING = "bookkeeping"  # added by the import: which import, which deal number
    MATCHED = "matched"  # the price book's edition and item in force on the line's date
    MONEY = "money"  # millionths the matching computed from the edition (and the line)
    VERDICT = "verdict"  # the policy in force on the line's date, and its decision


Kind = str  # "string", "date32", "int8", "int32", "int64"


@dataclass(frozen=True)
class Column:
    """One stored column: ``kind`` is its Arrow type by name; ``micros`` that it holds whole
    millionths (of money, a quantity or a percentage); ``nullable`` that a line may lack it."""

    name: str
    kind: Kind
    role: Role
    nullable: bool
    description: str
    micros: bool = False

    def arrow_type(self) -> pa.DataType:
        import pyarrow as pa

        kinds: dict[str, pa.DataType] = {
            "string": pa.string(),
            "date32": pa.date32(),
            "int8": pa.int8(),
            "int32": pa.int32(),
            "int64": pa.int64(),
        }
        return kinds[self.kind]


_I, _K, _B, _M, _Y, _V = (
    Role.INPUT, Role.KEY, Role.BOOKKEEPING, Role.MATCHED, Role.MONEY, Role.VERDICT,
)  # fmt: skip

DECLARED: tuple[Column, ...] = (
    Column("line_key", "string", _K, False,
           "the line's identity across imports: L:<line id>, N:<length of the deal id>:<deal "
           "id>#<line number in the deal>, D:<deal id>#<position in the deal>, or H:<content "
           "hash>#<repeat> in a file without ids"),
    Column("deal_id", "string", _K, False,
           "the deal (order, invoice) the line belongs to; the line key in a file without ids"),
    Column("deal_no", "int32", _B, False,
           "a number per deal across the whole history (deals are counted fast by it)"),
    Column("deal_first", "int8", _B, False,
           "1 on the deal's first stored line: summing it counts deals across groups"),
    Column("date", "date32", _I, False, "the line's date (order, invoice or close date)"),
    Column("customer", "string", _I, True, "the customer as the file names it"),
    Column("rep", "string", _I, True, "the sales rep as the file names them"),
    Column("sku", "string", _I, False, "the SKU as the file spells it"),
    Column("sku_key", "string", _K, False, "the SKU case folded: what it is matched on"),
    Column("qty", "int64", _I, False, "the quantity (negative for returns)", micros=True),
    Column("amount", "int64", _I, True, "the line amount, when the file gives one",
           micros=True),
    Column("unit_price", "int64", _I, True,
           "the net unit price, when the file gives one and no line amount", micros=True),
    Column("discount_pct", "int64", _I, True,
           "the discount off list in percent, when the file gives neither an amount nor a price",
           micros=True),
    Column("request_id", "int64", _I, True,
           "the request the line was sold under: from the file, or linked to a won request"),
    Column("currency", "string", _I, True, "the currency the file names, upper case"),
    Column("import_id", "int32", _B, True, "the import that stored the line"),
    Column("edition_id", "int32", _M, True,
           "the price book edition in force on the date that lists the SKU (null: unmatched)"),
    Column("family", "string", _M, True, "the item's family in that edition"),
    Column("list_price", "int64", _Y, True, "the item's list price", micros=True),
    Column("standard_price", "int64", _Y, True,
           "the list price after the edition's tiers for the line's quantity", micros=True),
    Column("net_amount", "int64", _Y, True,
           "what the line sold for: amount, else price x qty, else list less discount",
           micros=True),
    Column("list_revenue", "int64", _Y, True, "list price x qty", micros=True),
    Column("standard_revenue", "int64", _Y, True, "standard price x qty", micros=True),
    Column("cost_amount", "int64", _Y, True, "unit cost x qty (null: no cost)", micros=True),
    Column("unit_cost", "int64", _Y, True, "the item's unit cost", micros=True),
    Column("item_floor", "int64", _Y, True, "the item's own floor price", micros=True),
    Column("item_currency", "string", _M, True, "the currency of the item's prices"),
    Column("hard_floor", "int64", _V, True,
           "the lowest unit price the policy allows (null: none)", micros=True),
    Column("policy_version", "int32", _V, True, "the policy version in force on the date"),
    Column("level_rank", "int8", _V, True,
           "the approval level needed: 0 the first level, 1 the second, and so on; -1 rejected"),
    Column("level", "string", _V, True, "that level's name, or rejected"),
    Column("below_floor", "int8", _V, True, "1 when the net unit price is below the hard floor"),
)  # fmt: skip

BY_NAME: dict[str, Column] = {column.name: column for column in DECLARED}
NAMES: tuple[str, ...] = tuple(BY_NAME)  # every stored column, in storage order


def names(*roles: Role) -> tuple[str, ...]:
    """The stored columns of the given roles (all when none), in storage order."""
    return tuple(c.name for c in DECLARED if not roles or c.role in roles)


def arrow(columns: Iterable[str] = NAMES) -> pa.Schema:
    """The Arrow schema of the named stored columns, as scans return them."""
    import pyarrow as pa

    return pa.schema([(name, BY_NAME[name].arrow_type()) for name in columns])


def arrow_type(name: str) -> pa.DataType:
    return BY_NAME[name].arrow_type()


# What matching fills in (and a rematch rewrites): the edition, its money, the policy's verdict.
MATCHED: tuple[str, ...] = names(Role.MATCHED, Role.MONEY, Role.VERDICT)
# What matching reads of a line: its date, SKU, quantity and the money the file gave.
FACTS: tuple[str, ...] = ("date", "sku", "sku_key", "qty", "amount", "unit_price", "discount_pct")
# What the policy engine reads of a matched line (the SKU, quantity, the item and its money).
CLASSIFIED: tuple[str, ...] = (
    "sku", "sku_key", "family", "qty", "standard_price", "net_amount", "list_price", "unit_cost",
    "item_floor", "item_currency",
)  # fmt: skip
