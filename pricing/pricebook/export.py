"""A clean workbook of one edition, for marketing to edit and import as the next one."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from pricing.errors import InputError
from pricing.io.sheets import column_letter
from pricing.money import excel_format
from pricing.pricebook.model import Edition, PriceBook, Tier

EXPORT_COLUMNS = (
    ("SKU", "sku", 16),
    ("Name", "name", 40),
    ("Family", "family", 18),
    ("List Price", "list_price", 13),
    ("Currency", "currency", 10),
    ("Unit Cost", "unit_cost", 13),
    ("Floor Price", "floor_price", 13),
    ("Status", "status", 12),
)


def export_price_book(path: Path, edition: Edition, book: PriceBook) -> None:
    """A clean workbook of one edition: title block, one header row, money formatted, Tiers.

    Text a spreadsheet would take for a formula (``=…``, ``+…``, ``@…``) is written as text.
    The file re-imports as "unchanged" against the same edition.
    """
    from openpyxl import Workbook as XlsxWorkbook

    workbook = XlsxWorkbook(write_only=True)
    sheet = _export_items(workbook, edition, book)
    if book.tiers:
        _export_tiers(workbook, sheet, book)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        workbook.save(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the workbook ({exc.strerror})") from None


def _text_cell(sheet: Any, value: str | None, font: Any = None) -> Any:
    """A write-only cell for text: never a live formula."""
    from openpyxl.cell import WriteOnlyCell

    from pricing.text import FORMULA_START, xlsx_safe

    value = xlsx_safe(value) if value is not None else None
    cell = WriteOnlyCell(sheet, value=value)
    if value is not None and value.startswith(FORMULA_START):
        cell.data_type = "s"  # never a live formula
    if font is not None:
        cell.font = font
    return cell


def _export_items(workbook: Any, edition: Edition, book: PriceBook) -> Any:
    """The "Price Book" sheet: title block, header row, one row per item."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill

    sheet = workbook.create_sheet("Price Book")
    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDE4EE")
    for letter_index, (_, _, width) in enumerate(EXPORT_COLUMNS):
        sheet.column_dimensions[column_letter(letter_index)].width = width
    sheet.freeze_panes = "A5"
    title = _text_cell(sheet, f"Price book, edition {edition.number}", Font(bold=True, size=14))
    sheet.append([title])
    sheet.append(
        [
            _text_cell(
                sheet,
                f"Effective from {edition.effective_from.isoformat()}; imported from "
                f"{edition.source} by {edition.imported_by}",
            )
        ]
    )
    sheet.append([])
    headers = []
    for header, _, _ in EXPORT_COLUMNS:
        cell = _text_cell(sheet, header, bold)
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center")
        headers.append(cell)
    sheet.append(headers)
    formats: dict[str, str] = {}
    for item in book.items.values():
        number_format = formats.setdefault(item.currency, excel_format(item.currency))
        row = []
        for _, attribute, _ in EXPORT_COLUMNS:
            value = getattr(item, attribute)
            if isinstance(value, Decimal):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = number_format
            else:
                cell = _text_cell(sheet, value)
            row.append(cell)
        sheet.append(row)
    last_row = 4 + len(book.items)
    sheet.auto_filter.ref = f"A4:{column_letter(len(EXPORT_COLUMNS) - 1)}{last_row}"
    return sheet


def _export_tiers(workbook: Any, sheet: Any, book: PriceBook) -> None:
    """The "Tiers" sheet (its text cells made as the price sheet's, as they always were)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    bold = Font(bold=True)
    tiers = workbook.create_sheet("Tiers")
    for letter, width in zip("ABCDE", (16, 18, 10, 13, 12), strict=True):
        tiers.column_dimensions[letter].width = width
    tiers.append(
        [_text_cell(sheet, h, bold) for h in ("SKU", "Family", "Min Qty", "Price", "Discount %")]
    )
    for tier in book.tiers:
        price = WriteOnlyCell(tiers, value=tier.price)
        price.number_format = excel_format(_tier_currency(book, tier))
        tiers.append(
            [
                _text_cell(sheet, tier.sku),
                _text_cell(sheet, tier.family),
                tier.min_qty,
                price,
                tier.discount_pct,
            ]
        )


def _tier_currency(book: PriceBook, tier: Tier) -> str:
    """The currency of a tier's price: its SKU's, or the first of its family's items', else
    the book's most common."""
    item = book.get(tier.sku) if tier.sku else None
    if item is None and tier.family:
        family = tier.family.casefold()
        item = next((i for i in book.items.values() if (i.family or "").casefold() == family), None)
    if item is not None:
        return item.currency
    counted = Counter(i.currency for i in book.items.values())
    return counted.most_common(1)[0][0] if counted else "USD"
