"""Marketing's price book: items and tiers (model), the workbook reader and export (file), editions in the store."""
