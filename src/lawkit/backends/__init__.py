"""Numeric backends: SymPy expressions → array functions, by a table-driven tree walk."""
