"""Deviation requests: pricing and judging lines, the lifecycle of decisions, quotes and guidance."""

from typing import Literal

# A contract's state on a day: its period's once approved (upcoming, in force, ended), else its
# request's status. Declared here, apart from the lifecycle, so that a result naming it
# (pricing.results.requests) loads none of it; a test holds it to what the listing names.
ContractState = Literal["upcoming", "in force", "ended", "pending", "rejected", "won", "lost",
                        "withdrawn"]  # fmt: skip
