"""The web pages of the team server: sign in, the approver's inbox, a request and its decision,
one's own requests, one's password.

Server-rendered HTML (Jinja2, :mod:`pricing.server.templates`), readable without JavaScript and
on a 390-pixel phone, loading nothing from anywhere else. Each page calls the same library
object the CLI and the API do (:class:`pricing.Pricing`, as the signed-in person): a page
decides nothing itself, so every rule of who may see or decide what, and the audit, are the
ones the CLI is held to. A refusal (one's own request, a level too low, decided a moment ago)
is a message on the page, never a server error.

Signing in: name and password (:mod:`pricing.access.passwords`), then a session cookie
(:mod:`pricing.access.sessions`: HttpOnly, SameSite=Lax, Secure behind https, 12 hours). Every
form carries a token derived from the session (the sign-in form: one from a cookie of its own),
and a form posted without it changes nothing. Failed sign-ins (and wrong current passwords) are
logged and slowed per address and per name, by guards of the pages' own
(:class:`~pricing.server.guard.SignInGuard`: the API's tokens are counted apart).
"""

from __future__ import annotations

import logging
import secrets
import tempfile
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from anyio import CapacityLimiter, to_thread
from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pricing import config
from pricing.access import authority, passwords, sessions
from pricing.access.authority import key
from pricing.errors import (
    DamagedError,
    InputError,
    NotFoundError,
    PricingError,
    Refused,
    StoreError,
    Unsealed,
)
from pricing.keys import request_number
from pricing.operations.library import Pricing
from pricing.server.guard import SignInGuard
from pricing.storage import store as stored

if TYPE_CHECKING:
    from jinja2 import Environment

    from pricing.results.requests import RequestResult
    from pricing.storage.store import Store

log = logging.getLogger("pricing.server")
SESSION = "pricing_session"
SIGN_IN = "pricing_sign_in"  # the sign-in form's own token (no session yet)
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
FormText = Annotated[str, Form()]
OptionalText = Annotated[str | None, Form()]


def mount(app: FastAPI, store: Store) -> None:
    """Add the pages to the server ``app`` over ``store``."""
    templates = _templates()
    by_address, by_name = SignInGuard(), SignInGuard()  # the pages' own: not the API's

    def render(
        request: Request, template: str, status: int = 200, /, **values: Any
    ) -> HTMLResponse:
        values.setdefault("me", None)
        values["message"] = _said(values.get("message"))
        html = templates.get_template(template).render(money=_money, **values)
        return HTMLResponse(html, status_code=status, headers=_headers())

    def session(request: Request) -> sessions.SignedIn | None:
        try:
            return sessions.current(store, request.cookies.get(SESSION))
        except Unsealed as exc:
            log.warning("page sign-in refused for %r: their row in the database %s", exc.name,
                        exc.why)  # fmt: skip
            return None

    def to_sign_in(request: Request, page: str | None = None) -> RedirectResponse:
        wanted = page or request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return _redirect(f"/login?next={_quoted(wanted)}")

    def frame(me: sessions.SignedIn) -> dict[str, Any]:
        """What every signed-in page shows: who, the form token, which links."""
        return {
            "me": me.person,
            "csrf": me.form_token,
            "may_report": authority.allows(me.actor, "report"),
        }

    def refusal(request: Request, base: dict[str, Any], exc: PricingError) -> HTMLResponse:
        return render(request, "base.html", _status(exc), **base, message=_message(exc))

    def signed_page(
        request: Request, name: str, fill: Callable[[sessions.SignedIn, Pricing], dict[str, Any]]
    ) -> Response:
        me = session(request)
        if me is None:
            return to_sign_in(request)
        if me.initial:  # the printed password: the person chooses theirs before anything else
            wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return _redirect(f"/password?next={_quoted(wanted)}")
        base = frame(me)
        try:
            values = fill(me, Pricing(user=me.person.name, store=store))
        except PricingError as exc:
            return refusal(request, base, exc)
        return render(request, name, **base, **values)

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        return _redirect("/inbox")

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request, next: str = "/inbox", out: str | None = None) -> Response:
        token = request.cookies.get(SIGN_IN) or secrets.token_urlsafe(24)  # one for every tab
        said = {"message": "You are signed out.", "message_kind": "ok"} if out else {}
        page = render(request, "login.html", csrf=token, next=_safe_next(next), name="", **said)
        _set_cookie(page, request, SIGN_IN, token, max_age=3600)
        return page

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request, name: OptionalText = None, password: OptionalText = None,
        next: FormText = "/inbox", csrf: OptionalText = None,
    ) -> Response:  # fmt: skip
        name, password = name or "", password or ""
        address = request.client.host if request.client else "unknown"
        token = request.cookies.get(SIGN_IN) or secrets.token_urlsafe(24)
        again = {"csrf": token, "next": _safe_next(next), "name": name[:200]}

        def refused(message: str, status: int) -> Response:
            page = render(request, "login.html", status, message=message, **again)
            _set_cookie(page, request, SIGN_IN, token, max_age=3600)
            return page

        expected = request.cookies.get(SIGN_IN)
        if not expected or not sessions.same_token(csrf, expected):
            return refused("The sign-in form had expired: sign in again.", 400)
        wait = max(by_address.locked(address), by_name.locked(key(name)))
        if wait:
            return refused(f"Too many failed sign-ins: try again in {wait} s.", 429)
        try:
            found = passwords.check(store, name, password)
        except Unsealed as exc:
            log.warning("page sign-in refused for %r: their row in the database %s", exc.name,
                        exc.why)  # fmt: skip
            found = None
        if found is None:
            by_address.failed(address, name)
            by_name.failed(key(name), name, logged=False)
            return refused("That name and password do not match.", 401)
        person, initial = found
        signed = sessions.begin(store, person, address=address)
        wanted = _safe_next(next)
        done = _redirect(f"/password?next={_quoted(wanted)}" if initial else wanted)
        _set_cookie(
            done, request, SESSION, signed.cookie, max_age=int(sessions.LIFETIME.total_seconds())
        )
        done.delete_cookie(SIGN_IN, path="/")
        return done

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, csrf: OptionalText = None) -> Response:
        """Sign out: the session ends on the server. A post without the page's form token
        (another site's) changes nothing, not even the cookie."""
        me = session(request)
        if me is None or not sessions.same_token(csrf, me.form_token):
            return _redirect("/inbox")
        sessions.end(store, me.cookie)
        done = _redirect("/login?out=1")
        done.delete_cookie(SESSION, path="/")
        return done

    page_work = CapacityLimiter(PAGE_WORKERS)

    async def in_turn(page: Callable[[], Response]) -> Response:
        """An inbox's work in a thread of its own few: two at a time (not one thread per
        waiting browser, fighting for the one interpreter lock). Only the inbox, which never
        waits for the write lock: a page that may (a request's: it expires approvals first)
        would hold one of the few for as long."""
        return await to_thread.run_sync(page, limiter=page_work)

    @app.get("/inbox", include_in_schema=False)
    async def inbox(request: Request, after: str | None = None) -> Response:
        def fill(me: sessions.SignedIn, p: Pricing) -> dict[str, Any]:
            start = after if after and request_number(after) is not None else None
            waiting = p.inbox(limit=PAGE_ROWS + 1, after=start)  # one more: is there a next page
            shown = waiting[:PAGE_ROWS]
            more = shown[-1].id if len(waiting) > PAGE_ROWS else None
            return {"rows": _rows(shown), "more": more, "later": start is not None}

        return await in_turn(lambda: signed_page(request, "inbox.html", fill))

    @app.get("/mine", include_in_schema=False)
    def mine(request: Request) -> Response:
        def fill(me: sessions.SignedIn, p: Pricing) -> dict[str, Any]:
            own = p.requests(rep=me.person.name)
            return {"rows": _rows(reversed(own))}  # newest first

        return signed_page(request, "mine.html", fill)

    def request_values(p: Pricing, code: str) -> dict[str, Any]:
        shown = p.show_request(ident=code)
        decidable = p.decidable(ident=code) if shown.status == "pending" else None
        return {
            "r": shown,
            "value": _money(_at_standard(shown)),
            "asked": _money(sum((line.price * line.qty for line in shown.lines), Decimal(0))),
            "created": f"{shown.created_at:%Y-%m-%d %H:%M}",
            "decided": f"{shown.decided_at:%Y-%m-%d %H:%M}" if shown.decided_at else None,
            "expires": f"{shown.expires_at:%Y-%m-%d}" if shown.expires_at else None,
            "age": _age(shown.created_at),
            "decidable": decidable is not None and decidable.decidable,
            "why_not": decidable.why_not if decidable is not None else None,
        }

    @app.get("/requests/{code}", include_in_schema=False)
    def request_page(request: Request, code: str, decided: str | None = None) -> Response:
        def fill(me: sessions.SignedIn, p: Pricing) -> dict[str, Any]:
            values = request_values(p, code)
            if decided and values["r"].status != "pending":  # after the decision (its redirect)
                values.update(message=f"{values['r'].id} {values['r'].status}.",
                              message_kind="ok")  # fmt: skip
            return values

        return signed_page(request, "request.html", fill)

    @app.post("/requests/{code}/decide", include_in_schema=False)
    def decide(
        request: Request, code: str, outcome: OptionalText = None, note: OptionalText = None,
        csrf: OptionalText = None,
    ) -> Response:  # fmt: skip
        """Approve or reject as the signed-in person; then back to the request's page (a
        reload does not post again). A refusal is the request's page with the reason."""
        me = session(request)
        if me is None:
            return to_sign_in(request, f"/requests/{_quoted(code[:40])}")
        base = frame(me)
        p = Pricing(user=me.person.name, store=store)
        if not sessions.same_token(csrf, me.form_token):
            log.warning("a decision on %r for %s came without its form token: refused",
                        code[:40], me.person.name)  # fmt: skip
            return render(request, "base.html", 403, **base, message=(
                "This form did not come from this site's page (its form token is missing or "
                "old): nothing was decided. Open the request again and decide there."))  # fmt: skip
        note = (note or "").strip() or None
        try:
            p.show_request(ident=code)  # one may decide only what one may read
            if note is not None and len(note) > NOTE_LONGEST:
                raise InputError(f": a note of at most {NOTE_LONGEST:,} characters", field="note")
            if outcome == "approve":
                decided = p.approve(ident=code, note=note)
            elif outcome == "reject":
                decided = p.reject(ident=code, note=note or "")
            else:
                raise InputError(f" {(outcome or '')[:40]!r}: approve or reject", field="outcome")
        except PricingError as exc:
            try:
                values = request_values(p, code)
            except PricingError:
                return refusal(request, base, exc)
            return render(request, "request.html", _status(exc), **base, **values,
                          message=_message(exc))  # fmt: skip
        return _redirect(f"/requests/{decided.id}?decided=1")

    @app.get("/report", include_in_schema=False)
    def report(request: Request, by: str = "rep", start: Annotated[str, Query(alias="from")] = "",
               end: Annotated[str, Query(alias="to")] = "") -> Response:  # fmt: skip
        """The drift report (the file `pricing report -o report.html` writes) for the period
        and breakdown chosen on the page; those whose role may not read it get a message."""
        me = session(request)
        if me is None:
            return to_sign_in(request)
        base = frame(me)
        p = Pricing(user=me.person.name, store=store)
        try:
            if by not in REPORT_BREAKDOWNS:
                raise InputError(f" {by[:20]!r}: by {', '.join(REPORT_BREAKDOWNS)}", field="by")
            with tempfile.TemporaryDirectory(prefix="pricing-page-") as folder:
                written = Path(folder) / "report.html"
                p.report(start=_day(start, "from"), end=_day(end, "to"), by=[by], output=written)
                document = written.read_text(encoding="utf-8")
        except PricingError as exc:
            return refusal(request, base, exc)
        bar = templates.get_template("report_bar.html").render(
            start=start, end=end, by=by, choices=REPORT_BREAKDOWNS
        )
        return HTMLResponse(document.replace("<body>", "<body>" + bar, 1), headers=_headers())

    @app.get("/password", include_in_schema=False)
    def password_page(request: Request, next: str = "/inbox") -> Response:
        me = session(request)
        if me is None:
            return to_sign_in(request)
        return render(request, "password.html", **frame(me), shortest=passwords.SHORTEST,
                      initial=me.initial, next=_safe_next(next))  # fmt: skip

    @app.post("/password", include_in_schema=False)
    def change_password(
        request: Request, current: OptionalText = None, new: OptionalText = None,
        again: OptionalText = None, next: FormText = "/inbox", csrf: OptionalText = None,
    ) -> Response:  # fmt: skip
        """A person chooses their password: the current one checked as a sign-in is (failures
        counted and slowed, per address and per name), then on to the page they were going to."""
        current, new, again = current or "", new or "", again or ""
        me = session(request)
        if me is None:
            return to_sign_in(request)
        address = request.client.host if request.client else "unknown"
        base = {**frame(me), "shortest": passwords.SHORTEST, "initial": me.initial,
                "next": _safe_next(next)}  # fmt: skip
        if not sessions.same_token(csrf, me.form_token):
            return render(request, "password.html", 403, **base,
                          message="This form did not come from this site's page: nothing changed.")  # fmt: skip
        name_key = key(me.person.name)
        wait = max(by_address.locked(address), by_name.locked(name_key))
        if wait:
            return render(request, "password.html", 429, **base,
                          message=f"Too many wrong passwords: try again in {wait} s.")  # fmt: skip
        if new != again:
            return render(request, "password.html", 400, **base,
                          message="The two new passwords differ: nothing changed.")  # fmt: skip
        try:
            passwords.change(store, me.person.name, current, new,
                             keep_session=sessions.id_hash(me.cookie))  # fmt: skip
        except Refused as exc:
            by_address.failed(address, me.person.name)
            by_name.failed(name_key, me.person.name, logged=False)
            return render(request, "password.html", 403, **base, message=str(exc))
        except PricingError as exc:
            return render(request, "password.html", _status(exc), **base, message=_message(exc))
        return _redirect(base["next"])


NOTE_LONGEST = 2000  # characters of a decision's note on a page


def _status(exc: PricingError) -> int:
    """The page's status for a refusal: what was asked is wrong (400), not there (404), not
    allowed (403), or the store cannot answer now (503)."""
    if isinstance(exc, InputError):
        return 400
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, StoreError) and not isinstance(exc, DamagedError):
        return 503
    return 403


def _message(exc: PricingError) -> str:
    """A refusal as a sentence on the page (an input's detail starts with its first letter)."""
    if isinstance(exc, InputError):
        said = exc.detail.lstrip(": ").strip()
        return said[:1].upper() + said[1:]
    if isinstance(exc, StoreError) and not isinstance(exc, DamagedError):
        log.warning("a page could not be served: %s", exc)
        return "The store is unavailable or busy; try again in a moment (nothing was changed)."
    return str(exc)


def _said(message: str | None) -> str | None:
    """A message as a page shows it: at most 400 characters (a 60 kB id is not echoed)."""
    if message is None or len(message) <= 400:
        return message
    return message[:400] + "…"


REPORT_BREAKDOWNS = ("rep", "family", "sku", "customer", "month", "currency")
PAGE_WORKERS = 2  # inboxes worked on at once (the others wait their turn, not the lock)
PAGE_ROWS = 25  # requests an inbox page shows (the oldest first; a link to the next ones)


def _day(text: str, field: str) -> date | None:
    """A date the page's form gave (blank: none)."""
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f": {text[:20]!r} is not a date (YYYY-MM-DD)", field=field) from None


def _templates() -> Environment:
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("pricing.server", "templates"),
        autoescape=select_autoescape(default=True),
        auto_reload=False,  # the templates are the package's: never looked at again on disk
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _headers() -> dict[str, str]:
    """Every page: no script, no framing, nothing from elsewhere, never cached or referred."""
    return {
        "Content-Security-Policy": PAGE_POLICY,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


def _redirect(to: str) -> RedirectResponse:
    return RedirectResponse(to, status_code=303, headers=_headers())


def _secure(request: Request) -> bool:
    base = config.base_url() or ""
    return request.url.scheme == "https" or base.startswith("https://")


def _set_cookie(
    response: Response, request: Request, name: str, value: str, *, max_age: int
) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=_secure(request))  # fmt: skip


def _safe_next(wanted: str) -> str:
    """Where to go after signing in: a page of this site only (never ``//elsewhere``)."""
    if not wanted.startswith("/") or wanted.startswith("//") or "\\" in wanted or len(wanted) > 300:
        return "/inbox"
    return wanted


def _quoted(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


def _money(amount: Decimal) -> str:
    """An amount of a result (rounded to its currency's minor units there), thousands marked."""
    return f"{amount:,}"


def _at_standard(r: RequestResult) -> Decimal:
    return sum((line.standard_price * line.qty for line in r.lines), Decimal(0))


def _age(since: datetime) -> str:
    """How long ago, as a person says it: 40 min, 5 h, 3 d."""
    seconds = max(0, int((stored.utcnow() - since).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def _rows(found: Iterable[RequestResult]) -> list[dict[str, Any]]:
    """A list of requests as the pages' tables show them."""
    return [
        {
            "id": r.id,
            "customer": r.customer,
            "rep": r.rep,
            "currency": r.currency,
            "value": _money(_at_standard(r)),
            "deepest": f"{max((line.discount_pct for line in r.lines), default=Decimal(0)):.2f}",
            "level": r.level,
            "age": _age(r.created_at),
            "status": r.status,
            "reason": r.reason,
            "reasons": [(line.line, reason) for line in r.lines for reason in line.reasons],
            "contract": None
            if r.contract is None
            else f"contract {r.contract.starts} to {r.contract.ends}",
        }
        for r in found
    ]
