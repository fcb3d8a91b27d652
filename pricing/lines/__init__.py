"""Closed deal lines: reading exports, matching them to list and policy, the columnar history."""
