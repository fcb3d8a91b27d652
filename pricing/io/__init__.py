"""Reading and writing files: workbooks and csv as grids of cells, and keeping bulk work fast."""
