"""The guardrails' results: a policy file checked, refused, loaded, and a stored version shown.

Where one document's keys are another's with more in front, a model names its bases last
first: pydantic takes the fields of the bases in reverse method-resolution order, so
``class PolicyLoadRefused(PolicyRefused, Unversioned)`` has ``version`` before ``problems``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from pricing.money import round_money
from pricing.results.common import FoundProblem, ProblemCount, Result, problem_counts, problems

if TYPE_CHECKING:
    from pricing.analysis.report_judged import Unjudged
    from pricing.policy.file import PolicyFile
    from pricing.policy.model import Policy
    from pricing.policy.versions import PolicyVersion


class PolicyRefused(Result):
    """An invalid policy file refused: its problems, up to limits.PROBLEMS_PER_KIND of a kind
    listed, and how many of each kind in all (a file of twenty thousand bad lines is answered
    in a page)."""

    problems: list[FoundProblem]
    problem_counts: list[ProblemCount]

    @classmethod
    def of(cls, parsed: PolicyFile) -> PolicyRefused:
        from pricing.problems import Problems

        listed = Problems(parsed.problems)
        return cls(problems=problems(listed), problem_counts=problem_counts(listed))

    def found(self) -> int:
        """How many problems the file has, those only counted included."""
        return sum(c.count for c in self.problem_counts)


class Unversioned(Result):
    """What a refused load has before its problems: no version (``null``)."""

    version: None


class PolicyLoadRefused(PolicyRefused, Unversioned):
    """``policy load`` of an invalid file: nothing stored (``version`` null), and why."""

    @classmethod
    def of(cls, parsed: PolicyFile) -> PolicyLoadRefused:
        refused = PolicyRefused.of(parsed)
        return cls(version=None, problems=refused.problems, problem_counts=refused.problem_counts)


class Checked(Result):
    """What a check has before its problems: valid or not, and the file read."""

    valid: bool
    source: str


class PolicyCheck(PolicyRefused, Checked):
    """``policy check`` of an invalid file (``valid`` false): every problem."""

    @classmethod
    def of(cls, parsed: PolicyFile) -> PolicyCheck | ValidPolicy:
        """The check of a file: with the policy's counts when it is valid."""
        refused = PolicyRefused.of(parsed)
        checked = cls(valid=parsed.policy is not None, source=parsed.source,
                      problems=refused.problems, problem_counts=refused.problem_counts)  # fmt: skip
        if parsed.policy is None:
            return checked
        policy = parsed.policy
        counts = {"levels": len(policy.levels), "rules": len(policy.rule),
                  "people": len(policy.person)}  # fmt: skip
        return ValidPolicy.model_validate({**dict(checked), **counts})


class ValidPolicy(PolicyCheck):
    """``policy check`` of a valid file (``valid`` true): its warnings, and how many levels,
    rules and people the policy has."""

    levels: int
    rules: int
    people: int


# Stored versions ----------------------------------------------------------------------------


class RuleShown(Result):
    """A rule of a stored policy: its scope (SKU, family, quantity and deal-value bounds), its
    limits per level, its floor price and minimum margin."""

    name: str | None
    sku: str | None
    family: str | None
    min_qty: int | None
    max_qty: int | None
    min_deal_value: Decimal | None
    max_deal_value: Decimal | None
    limits: dict[str, Decimal]
    floor_price: Decimal | None
    min_margin_pct: Decimal | None


class PersonShown(Result):
    """A person of the team and the level they approve at."""

    name: str
    role: str


class PolicyShown(Result):
    """A whole policy as it was stored (amounts as the file wrote them)."""

    levels: list[str]
    limits: dict[str, Decimal]
    currency: str
    approval_valid_days: int
    rounding: Literal["half_even", "half_up"]
    effective_from: date | None
    rule: list[RuleShown]
    person: list[PersonShown]
    contract_max_days: int | None = None  # (None: the default, 366 days)
    contract_level: str | None = None  # (None: each contract line's own level)
    fx_max_age_days: int | None = None  # (None: the default, 7 days)

    @classmethod
    def of(cls, policy: Policy) -> PolicyShown:
        return cls.model_validate(policy, from_attributes=True)

    def as_policy(self) -> Policy:
        """The policy itself, to judge with or to render."""
        from pricing.policy.model import Policy

        return Policy.from_dict(self.model_dump(mode="json"))


class PolicyVersionInfo(Result):
    """A stored version of the policy: its number, from when it is in force, who loaded which
    file when (and the file's SHA-256)."""

    version: int
    effective_from: date
    loaded_at: datetime
    loaded_by: str
    source: str
    sha256: str

    @staticmethod
    def fields(version: PolicyVersion) -> dict[str, object]:
        return {
            "version": version.version,
            "effective_from": version.effective_from,
            "loaded_at": version.loaded_at,
            "loaded_by": version.loaded_by,
            "source": version.source,
            "sha256": version.sha256,
        }


class PolicyLoaded(PolicyVersionInfo):
    """``policy load``: the version stored (``unchanged``: the newest version's text again,
    nothing stored), and the stored deal lines no policy judges (none in force on their
    dates), with a warning that says how to back-date."""

    unchanged: bool
    unjudged_lines: int
    unjudged_net_revenue: Decimal
    warnings: list[str]

    @classmethod
    def of(cls, version: PolicyVersion, unjudged: Unjudged) -> PolicyLoaded:
        from pricing.money import display_money

        warnings = []
        if unjudged.lines and unjudged.first is not None:
            warnings.append(
                f"{unjudged.lines:,} stored deal lines (net "
                f"{display_money(unjudged.net_revenue, unjudged.currency)}, {unjudged.first} to "
                f"{unjudged.last}) have no policy in force on their dates and are not judged; to "
                f"judge them, back-date the policy: put `effective_from = {unjudged.first}` in "
                f"{version.source} and load it again"
            )
        return cls.model_validate({
            **PolicyVersionInfo.fields(version),
            "unchanged": version.unchanged,
            "unjudged_lines": unjudged.lines,
            "unjudged_net_revenue": round_money(unjudged.net_revenue, unjudged.currency),
            "warnings": warnings,
        })  # fmt: skip


class PolicyVersionShown(PolicyVersionInfo):
    """``policy show``: a stored version and its whole policy."""

    policy: PolicyShown

    @classmethod
    def of(cls, version: PolicyVersion) -> PolicyVersionShown:
        return cls.model_validate(
            {**PolicyVersionInfo.fields(version), "policy": PolicyShown.of(version.policy)}
        )
