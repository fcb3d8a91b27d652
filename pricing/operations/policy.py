"""The owner's operations on the guardrails: check, load, show and simulate a policy."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pricing import api, documents
from pricing.operations import Document, Session, operation
from pricing.results.policy import (
    PolicyCheck,
    PolicyLoaded,
    PolicyLoadRefused,
    PolicyRefused,
    PolicyVersionShown,
    ValidPolicy,
)


class Policies(Session):
    """The owner's methods on the guardrails: methods of :class:`pricing.Pricing`."""

    @operation("policy.check", files=("file",))
    def check_policy(self, file: Path) -> PolicyCheck | ValidPolicy:
        """Validate a policy file without storing it: valid or not, and every problem."""
        return PolicyCheck.of(api.check_policy(file))

    @operation("policy.load", files=("file",), needs="policy.load")
    def load_policy(self, file: Path) -> PolicyLoaded | PolicyLoadRefused:
        """Store a valid policy file as the newest version (the database is opened, and made if
        new, only for a valid one); an invalid one is refused with its problems (``version``
        None)."""
        parsed = api.check_policy(file)
        if parsed.policy is None:
            return PolicyLoadRefused.of(parsed)
        db = self.store(create=True)
        version = api.load_policy(db, parsed, user=self.user)
        return PolicyLoaded.of(version, api.unjudged_lines(db))

    @operation("policy.show")
    def policy(self, *, version: int | None = None) -> PolicyVersionShown:
        """A policy version and its whole policy: the one asked for, else the one in force."""
        return PolicyVersionShown.of(api.show_policy(self.store(), version))

    @operation("policy.simulate", files=("file",), output=True, needs="policy.simulate")
    def simulate(
        self,
        file: Path,
        *,
        start: date | None = None,
        end: date | None = None,
        output: Path | None = None,
    ) -> Document:
        """Replay the stored deals under the policy in force and under the policy file, side by
        side (written to ``output`` too: .xlsx, .html, .csv or .json); an invalid file is refused
        with its problems."""
        parsed = api.check_policy(file)
        if parsed.policy is None:
            return PolicyRefused.of(parsed).model_dump(mode="json")
        result = api.simulate_policy(
            self.store(),
            parsed.policy,
            start=start,
            end=end,
            user=self.user,
        )
        currency = parsed.policy.currency
        document = documents.simulation(result, currency)
        if output is not None:
            api.write_simulation(result, output, currency=currency, document=document)
        return document
