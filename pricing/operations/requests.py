"""The salesperson's and the approver's operations: quote, request, requests, decisions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Literal,
    NotRequired,  # pydantic (the server) needs it before 3.12
)

from typing_extensions import TypedDict

from pricing import results
from pricing.errors import InputError
from pricing.operations import Session, operation

if TYPE_CHECKING:
    import pricing.results.requests  # noqa: F401  (what ``results.requests`` is)
    from pricing.requests.records import LineInput, Submission


class Line(TypedDict):
    """One line asked for: SKU, quantity, and the price or the discount (% off standard)."""

    sku: str
    qty: int
    price: NotRequired[str | None]
    discount: NotRequired[str | None]


def _inputs(
    lines: list[Line] | None, lines_file: Path | None
) -> tuple[list[LineInput], results.requests.LinesFileRefused | None]:
    """The lines as the core takes them, or the refusal of a lines file with problems."""
    from pricing.requests.records import LineInput

    if lines_file is not None:
        from pricing.requests.lines_file import read_lines_file

        inputs, problems = read_lines_file(lines_file)
        if problems:
            return [], results.requests.LinesFileRefused.of_file(problems, lines_file.name)
        return inputs, None
    return [
        LineInput(
            line["sku"],
            int(line["qty"]),
            _decimal(line.get("price"), "price"),
            _decimal(line.get("discount"), "discount"),
        )
        for line in lines or []
    ], None


def _decimal(text: str | None, field: str) -> Decimal | None:
    if text is None:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InputError(f" {text!r} is not a number", field=field) from None
    if not number.is_finite() or number.adjusted() > 15:  # beyond any price or percentage
        raise InputError(f" {text!r} is out of range", field=field)
    return number


def _answer(submitted: Submission) -> results.requests.Answer:

    if submitted.request is None:
        return results.requests.RequestRefused.of(submitted.problems)
    return results.requests.RequestResult.of(submitted.request)


class Requests(Session):
    """The salesperson's and the approver's methods of :class:`pricing.Pricing`: each calls
    :mod:`pricing.requests.lifecycle` as the acting person (who may read or decide what is
    :mod:`pricing.access.authority`'s, which the lifecycle asks)."""

    @operation("requests.quote")
    def quote(
        self,
        *,
        sku: str,
        qty: int,
        customer: str | None = None,
        as_of: date | None = None,
        window: int | None = None,
    ) -> results.requests.QuoteResult:
        """List, standard price and the lowest price each approval level may grant, as of a date,
        with guidance from a window of days before it."""
        from pricing.access.authority import acting
        from pricing.requests import quoting

        db = self.store()
        acting(db, self.user)  # an unregistered name is refused, once people are registered
        found = quoting.quote(db, sku, qty, on=as_of, window=window, customer=customer)
        return results.requests.QuoteResult.of(found, customer)

    @operation("requests.submit", files=("lines_file",), needs="request.submit")
    def request(
        self,
        *,
        customer: str,
        reason: str,
        lines: list[Line] | None = None,
        lines_file: Path | None = None,
        check: bool = False,
        contract: bool = False,
        starts: date | None = None,
        ends: date | None = None,
    ) -> results.requests.Answer:
        """Ask for a special price: judged under the policy in force, stored unless a check.
        ``contract``: standing prices for the customer from ``starts`` to ``ends``."""
        from pricing.requests import lifecycle

        if not contract and (starts is not None or ends is not None):
            raise InputError(": a period is for a contract (--contract)",
                             field="from" if starts is not None else "to")  # fmt: skip
        inputs, refused = _inputs(lines, lines_file)
        if refused is not None:
            return refused
        return _answer(
            lifecycle.submit(
                self.store(),
                customer=customer,
                reason=reason,
                inputs=inputs,
                user=self.user,
                check=check,
                contract=(starts, ends) if contract else None,
            )
        )

    @operation("requests.change", files=("lines_file",))
    def change_request(
        self,
        *,
        ident: str,
        lines: list[Line] | None = None,
        lines_file: Path | None = None,
        reason: str | None = None,
        check: bool = False,
    ) -> results.requests.Answer:
        """New lines for one's own pending or approved request, judged afresh."""
        from pricing.requests import lifecycle

        inputs, refused = _inputs(lines, lines_file)
        if refused is not None:
            return refused
        return _answer(
            lifecycle.change(
                self.store(), ident, inputs=inputs, user=self.user, reason=reason, check=check
            )
        )

    @operation("requests.list")
    def requests(
        self, *, status: str | None = None, rep: str | None = None
    ) -> list[results.requests.RequestResult]:
        """Requests, oldest first: one's own for a rep, everyone's for a manager or the owner."""
        from pricing.access import authority
        from pricing.requests import lifecycle

        db = self.store()
        viewer = authority.acting(db, self.user)
        found = lifecycle.list_requests(db, status=status, rep=authority.listed_rep(viewer, rep))
        return [results.requests.RequestResult.of(r) for r in found if authority.may_see(viewer, r)]

    @operation("requests.inbox")
    def inbox(
        self, *, limit: int | None = None, after: str | None = None
    ) -> list[results.requests.RequestResult]:
        """Pending requests waiting for my decision, oldest first (never my own): at most
        ``limit``, after request ``after`` (the last of the page before)."""
        from pricing.requests import inbox, records

        if limit is not None and limit < 1:
            raise InputError(f": {limit} requests? At least 1", field="limit")
        start = records.parse_id(after) if after else 0
        waiting = inbox.waiting_for(self.store(), self.user, limit=limit, after=start)
        return [results.requests.RequestResult.of(r) for r in waiting]

    @operation("requests.decidable")
    def decidable(self, *, ident: str) -> results.requests.Decidable:
        """Whether I may decide a request now, and if not, why (what a decision would be
        refused with)."""
        from pricing.access import authority
        from pricing.requests import inbox, lifecycle

        db = self.store()
        found = lifecycle.get(db, ident)
        authority.may_read(authority.acting(db, self.user), found)
        why = inbox.why_not_decide(db, found, self.user)
        return results.requests.Decidable(id=found.code, decidable=why is None, why_not=why)

    @operation("requests.show")
    def show_request(self, *, ident: str) -> results.requests.RequestShown:
        """One request with its lines and history."""
        from pricing.access import authority
        from pricing.requests import lifecycle

        db = self.store()
        found = lifecycle.get(db, ident)
        authority.may_read(authority.acting(db, self.user), found)
        return results.requests.RequestShown.of(found)

    @operation("requests.outcome")
    def record_outcome(
        self, *, ident: str, outcome: Literal["won", "lost"]
    ) -> results.requests.RequestResult:
        """Record that the deal of a request was won or lost."""
        from pricing.requests import lifecycle

        return results.requests.RequestResult.of(
            lifecycle.record_outcome(self.store(), ident, outcome=outcome, user=self.user)
        )

    @operation("requests.withdraw")
    def withdraw(self, *, ident: str, note: str | None = None) -> results.requests.RequestResult:
        """Take back my pending or approved request: it leaves the inboxes, covers no deal."""
        from pricing.requests import lifecycle

        return results.requests.RequestResult.of(
            lifecycle.withdraw(self.store(), ident, user=self.user, note=note)
        )

    @operation("requests.approve")
    def approve(self, *, ident: str, note: str | None = None) -> results.requests.RequestResult:
        """Approve a pending request (a role covering its level, never one's own)."""
        from pricing.requests import lifecycle

        return results.requests.RequestResult.of(
            lifecycle.approve(self.store(), ident, user=self.user, note=note)
        )

    @operation("requests.reject")
    def reject(self, *, ident: str, note: str) -> results.requests.RequestResult:
        """Reject a pending request, with a note saying why."""
        from pricing.requests import lifecycle

        return results.requests.RequestResult.of(
            lifecycle.reject(self.store(), ident, user=self.user, note=note)
        )
