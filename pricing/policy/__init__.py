"""The owner's guardrails: the policy as data and its rules engine (model), the TOML file, stored versions."""

from typing import Literal

# A line's decision: declared here, apart from the rules engine (model), so that a result that
# names it (pricing.results.requests) loads no engine where it is only read back (a client).
Decision = Literal["approved", "pending", "rejected"]
