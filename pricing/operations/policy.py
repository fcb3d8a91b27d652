"""The owner's operations on the guardrails: check, load, show and simulate a policy."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pricing import results
from pricing.operations import Session, lazy_module, operation

if TYPE_CHECKING:
    import pricing.results.policy  # noqa: F401  (what ``results.policy`` is)
    from pricing import api
else:
    api = lazy_module("pricing.api")  # the core's entry points: loaded when a method runs here

# The result types are named through ``results`` (pricing.results.policy, loaded on first use):
# a client validates a server's answer into them, and other commands never load them.


class Policies(Session):
    """The owner's methods on the guardrails: methods of :class:`pricing.Pricing`."""

    @operation("policy.check", files=("file",))
    def check_policy(self, file: Path) -> results.policy.PolicyCheck | results.policy.ValidPolicy:
        """Validate a policy file without storing it: valid or not, and every problem."""
        return results.policy.PolicyCheck.of(api.check_policy(file))

    @operation("policy.load", files=("file",), needs="policy.load")
    def load_policy(
        self, file: Path
    ) -> results.policy.PolicyLoaded | results.policy.PolicyLoadRefused:
        """Store a valid policy file as the newest version (the database is opened, and made if
        new, only for a valid one); an invalid one is refused with its problems (``version``
        None)."""
        parsed = api.check_policy(file)
        if parsed.policy is None:
            return results.policy.PolicyLoadRefused.of(parsed)
        db = self.store(create=True)
        version = api.load_policy(db, parsed, user=self.user)
        from pricing.analysis.report_judged import unjudged

        return results.policy.PolicyLoaded.of(version, unjudged(db))

    @operation("policy.show")
    def policy(self, *, version: int | None = None) -> results.policy.PolicyVersionShown:
        """A policy version and its whole policy: the one asked for, else the one in force."""
        return results.policy.PolicyVersionShown.of(api.show_policy(self.store(), version))

    @operation("policy.simulate", files=("file",), output=True, needs="policy.simulate")
    def simulate(
        self,
        file: Path,
        *,
        start: date | None = None,
        end: date | None = None,
        output: Path | None = None,
    ) -> results.simulation.PolicySimulation | results.policy.PolicyRefused:
        """Replay the stored deals under the policy in force and under the policy file, side by
        side (written to ``output`` too: .xlsx, .html, .csv or .json); an invalid file is refused
        with its problems."""
        from pricing.results.simulation import PolicySimulation

        parsed = api.check_policy(file)
        if parsed.policy is None:
            return results.policy.PolicyRefused.of(parsed)
        result = api.simulate_policy(
            self.store(),
            parsed.policy,
            start=start,
            end=end,
            user=self.user,
        )
        currency = parsed.policy.currency
        simulated = PolicySimulation.of(result, currency)
        if output is not None:
            document = simulated.model_dump(mode="json")
            api.write_simulation(result, output, currency=currency, document=document)
        return simulated
