"""The owner's guardrails: the policy as data and its rules engine (model), the TOML file, stored versions."""
