"""Failed sign-ins, counted and slowed: tokens on the API, passwords on the pages, each with
guards of their own (a person mistyping a password on a page does not stop anyone's command
line from the same address)."""

from __future__ import annotations

import logging
import time

from pricing import config

log = logging.getLogger("pricing.server")
SIGNIN_FAILURES = "PRICING_SIGNIN_FAILURES"  # failed sign-ins an address may make in a minute


class SignInGuard:
    """Failed sign-ins (a token that signs nobody in), per address: each is logged (the
    address and the name it claimed, never the token), and once :attr:`most` failed within
    :attr:`window` seconds (``PRICING_SIGNIN_FAILURES``, default 10 a minute) every call from
    that address is refused (429) until the window has passed, without its token being looked
    at: guessing is slowed to that pace. Kept in memory, per server process."""

    window = 60.0

    def __init__(self) -> None:
        self.failures: dict[str, list[float]] = {}
        self.most = int(config.seconds(SIGNIN_FAILURES, 10))

    def _recent(self, address: str, now: float) -> list[float]:
        kept = [t for t in self.failures.get(address, ()) if now - t < self.window]
        if kept:
            self.failures[address] = kept
        else:
            self.failures.pop(address, None)
        return kept

    def locked(self, address: str) -> int:
        """Seconds until ``address`` may try again (0: now)."""
        if address not in self.failures:
            return 0
        now = time.monotonic()
        recent = self._recent(address, now)
        if len(recent) < self.most:
            return 0
        return max(1, int(self.window - (now - recent[-self.most]) + 0.999))

    def failed(self, address: str, claimed: str, *, logged: bool = True) -> None:
        """One failed sign-in from ``address`` (or of another key: the pages count failures
        per name too, not logged again) claiming the name ``claimed``."""
        now = time.monotonic()
        if len(self.failures) > 10_000:  # many addresses: forget the ones that are quiet
            for known in list(self.failures):
                self._recent(known, now)
        recent = self._recent(address, now)
        recent.append(now)
        self.failures[address] = recent
        if not logged:
            return
        named = f" claiming to be {claimed[:60]!r}" if claimed else ""
        log.warning("failed sign-in from %s%s (%d in %g s)", address, named, len(recent),
                    self.window)  # fmt: skip
        if len(recent) == self.most:
            log.warning("sign-ins from %s refused for %g s: %d failed", address, self.window,
                        self.most)  # fmt: skip
