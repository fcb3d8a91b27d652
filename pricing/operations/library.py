"""The one object of the library: :class:`Pricing`, every operation a method of it."""

from __future__ import annotations

from pricing.operations.audit import Audit
from pricing.operations.contracts import Contracts
from pricing.operations.db import Database
from pricing.operations.deals import Deals
from pricing.operations.demo import Demo
from pricing.operations.fx import Fx
from pricing.operations.people import People
from pricing.operations.policy import Policies
from pricing.operations.pricebook import PriceBooks
from pricing.operations.report import Reports
from pricing.operations.requests import Requests


class Pricing(
    PriceBooks, Policies, Deals, Reports, Requests, Contracts, Fx, People, Audit, Database, Demo
):
    """Standard list pricing, special prices held to guardrails, and the drift of deals closed:
    every command of the CLI as a method, on a database here or on the team's server.

    Open one with :func:`pricing.open`; each method takes keyword arguments (a file may be
    given first) and answers with its document: exactly what ``pricing --json COMMAND``
    prints, as JSON carries it. Errors are :class:`pricing.PricingError`."""


def open(
    target: str | None = None,
    *,
    user: str | None = None,
    token: str | None = None,
    insecure: bool = False,
) -> Pricing:
    """A :class:`Pricing` over the database at ``target`` (a SQLAlchemy URL; default: the
    configured one) acting as ``user``, or, when ``target`` is a server's ``https://``
    address, over that server signed in with ``token`` (``insecure``: plain http to another
    host is allowed)."""
    if target is not None and target.startswith(("http://", "https://")):
        from pricing.config import Login

        return Pricing(user=user, login=Login(target, token or "", insecure))
    return Pricing(target, user=user)


def open_configured(db: str | None = None, *, user: str | None = None) -> Pricing:
    """A :class:`Pricing` where the configuration says, as the command line opens one: over
    the database ``db`` when one is given (``--db``: this host's database, whatever else is
    configured); else over the team's server when client mode is on (``PRICING_SERVER`` with
    ``PRICING_TOKEN``, or the sign-in `pricing login` kept); else over the configured
    database. Whatever it is opened on, its methods are the same."""
    from pricing import config

    login = None if db else config.login()
    opened = Pricing(db, user=user, login=login)
    opened.keeps_login = login is not None and not config.token()  # the kept sign-in's token
    return opened
