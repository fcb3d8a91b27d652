"""Contracted prices: the customers' standing prices, listed, and ended early by the owner
(asked for and decided as requests: ``request --contract``, ``approve``)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from pricing import results
from pricing.operations import Session, operation

if TYPE_CHECKING:
    import pricing.results.requests  # noqa: F401  (what ``results.requests`` is)


class Contracts(Session):
    @operation("contracts.list")
    def contracts(
        self, *, customer: str | None = None, expiring: int | None = None
    ) -> list[results.requests.ContractListed]:
        """The contracts, oldest first (of a customer; in force and ending within ``expiring``
        days), each with its state, its prices and the list prices in force today."""
        from pricing.access import authority
        from pricing.requests import contracts

        db = self.store()
        viewer = authority.acting(db, self.user)  # (a name not registered is refused)
        found = contracts.listing(db, customer=customer, expiring=expiring)
        return [results.requests.ContractListed.of(listed) for listed in found
                if authority.sees_contract(viewer, listed.contract,
                                           listed.state in ("in force", "upcoming"))]  # fmt: skip

    @operation("contracts.end", needs="contract.end")
    def end_contract(
        self, *, ident: str, on: date | None = None, note: str | None = None
    ) -> results.requests.RequestResult:
        """End an approved contract early: its last day becomes ``on`` (default today)."""
        from pricing.requests import contracts

        return results.requests.RequestResult.of(
            contracts.end(self.store(), ident, user=self.user, on=on, note=note)
        )
