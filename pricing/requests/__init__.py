"""Deviation requests: pricing and judging lines, the lifecycle of decisions, quotes and guidance."""
