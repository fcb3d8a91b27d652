"""Sending the outbox: the server's thread that hands each queued mail to the SMTP server.

Mail is queued with the change it tells of (:mod:`pricing.requests.notices`); this thread looks
at the outbox every ``PRICING_MAIL_INTERVAL`` seconds (10), takes what is due, sends it and marks
it sent. A mail server that is down or refuses costs no request anything: the mail stays queued
and is tried again after ``PRICING_MAIL_RETRY`` seconds (30), doubling up to an hour, its error
kept for ``pricing db status``. Each mail is taken for fifteen minutes before it is sent, so that
several server processes never send one twice; a mail marked sent is never sent again, after
any restart. (A process killed in the instant between the mail server taking a mail and the
mark being written sends that mail again when the fifteen minutes are over: its Message-ID is the
same, which mail systems use to drop the copy.) A queued row whose seal does not hold (written
into the database by hand) is never sent, and the log says so.
"""

from __future__ import annotations

import hmac
import logging
import smtplib
import ssl
import threading
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate

from sqlalchemy.engine import Connection

from pricing import config
from pricing.errors import ConfigError, PricingError
from pricing.storage import outbox, store
from pricing.storage.outbox import Queued
from pricing.storage.store import Store

log = logging.getLogger("pricing.mail")
INTERVAL = "PRICING_MAIL_INTERVAL"  # seconds between looks at the outbox
RETRY = "PRICING_MAIL_RETRY"  # seconds before the first retry (then doubling, up to an hour)
LEASE = timedelta(minutes=15)  # longer than a batch can take (20 mails, 20 s each at worst)
LONGEST_WAIT = 3600.0
OLDEST = timedelta(days=7)  # mail not sent in a week is no longer news: left unsent


def _stale(conn: Connection, queued: Queued, now: datetime) -> str | None:
    """Why a queued mail is no longer worth sending (None: it is): a request it asks someone
    to decide was decided meanwhile, or it waited longer than :data:`OLDEST` (mail switched
    on long after, a mail server down for a week)."""
    number = queued.mail.request_id
    if queued.mail.kind == "decision_needed" and number is not None:
        status = outbox.request_status(conn, number)
        if status != "pending":
            return f"not sent: the request is {status or 'gone'}, no longer waiting for a decision"
    if now - queued.created_at > OLDEST:
        return f"not sent: queued {queued.created_at:%Y-%m-%d}, more than {OLDEST.days} days ago"
    return None


class Mailer:
    """The outbox's sender for one server process."""

    def __init__(self, db: Store) -> None:
        self.db = db
        self.interval = config.seconds(INTERVAL, 10.0)
        self.retry = config.seconds(RETRY, 30.0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._said: set[str] = set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pricing-mailer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.send_due()
            except (PricingError, OSError) as exc:  # the store is down: try again later
                self._once(f"the outbox cannot be read now: {exc}")
            except Exception:  # a bug must not stop the sending for the server's life
                log.exception("sending the outbox failed")
            self._stop.wait(self.interval)

    def _once(self, said: str) -> None:
        if said not in self._said:
            self._said.add(said)
            log.warning("%s", said)

    def send_due(self, now: datetime | None = None) -> int:
        """Send what is due now; how many were sent."""
        try:
            settings = config.mail_settings()
        except ConfigError as exc:
            self._once(f"mail is not sent: {exc}")
            return 0
        if settings is None:
            return 0
        now = now or store.utcnow()
        taken = []
        with self.db.write() as conn:
            for queued in outbox.due(conn, now):
                stale = _stale(conn, queued, now)
                if stale is not None:
                    outbox.mark_failed(conn, queued.id, attempts=queued.attempts,
                                       retry_at=outbox.NEVER, why=stale)  # fmt: skip
                elif outbox.claim(conn, queued, now + LEASE):
                    taken.append(queued)
        if not taken:
            return 0
        keys = config.token_keys()
        sent = 0
        try:
            with _connected(settings) as smtp:
                for queued in taken:
                    if not any(hmac.compare_digest(queued.seal,
                                                   outbox.seal(queued.mail, queued.created_at, k))
                               for k in keys):  # fmt: skip
                        self._refuse(queued)
                        continue
                    try:
                        smtp.send_message(self._message(settings, queued))
                    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
                            smtplib.SMTPSenderRefused, ValueError) as exc:  # fmt: skip
                        self._failed(queued, now, f"{type(exc).__name__}: {exc}")
                        continue
                    with self.db.write() as conn:
                        outbox.mark_sent(conn, queued.id, store.utcnow())
                    sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            why = f"the mail server {settings.host}:{settings.port}: {type(exc).__name__}: {exc}"
            self._once(f"mail waits in the outbox: {why}")
            with self.db.write() as conn:
                for queued in taken:
                    if outbox.still_queued(conn, queued.id):
                        self._fail_in(conn, queued, now, why)
            return sent
        if self._said:
            log.info("mail goes out again: %d sent", sent)
        self._said.clear()
        return sent

    def _message(self, settings: config.MailSettings, queued: Queued) -> EmailMessage:
        mail = queued.mail
        message = EmailMessage()
        message["From"] = settings.sender
        message["To"] = mail.recipient
        message["Subject"] = " ".join(mail.subject.split())[:300]
        message["Date"] = formatdate(usegmt=True)
        domain = settings.sender.rpartition("@")[2] or "pricing"
        message["Message-ID"] = f"<pricing-{queued.seal[:32]}@{domain}>"  # a copy's is the same
        base = config.base_url()
        link = ""
        if mail.link:
            link = (f"\n{base.rstrip('/')}{mail.link}\n" if base else
                    f"\n{mail.link} on the pricing server (its base_url is not configured)\n")  # fmt: skip
        message.set_content(f"{mail.body}{link}\n-- \npricing\n")
        return message

    def _refuse(self, queued: Queued) -> None:
        log.warning("outbox mail %d to %r is not sent: its seal does not hold (written into the "
                    "database behind the tool's back)", queued.id, queued.mail.recipient[:100])  # fmt: skip
        with self.db.write() as conn:
            outbox.mark_failed(conn, queued.id, attempts=queued.attempts + 1, retry_at=outbox.NEVER,
                               why="its seal does not hold: written behind the tool's back; never sent")  # fmt: skip

    def _failed(self, queued: Queued, now: datetime, why: str) -> None:
        with self.db.write() as conn:
            self._fail_in(conn, queued, now, why)

    def _fail_in(self, conn: Connection, queued: Queued, now: datetime, why: str) -> None:
        wait = min(self.retry * 2**queued.attempts, LONGEST_WAIT)
        outbox.mark_failed(conn, queued.id, attempts=queued.attempts + 1,
                           retry_at=now + timedelta(seconds=wait), why=why)  # fmt: skip


class _connected:
    """An SMTP session as the settings say (STARTTLS, sign-in), closed on leaving."""

    def __init__(self, settings: config.MailSettings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> smtplib.SMTP:
        s = self.settings
        smtp = smtplib.SMTP(s.host, s.port, timeout=20)
        self.smtp = smtp
        if s.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if s.user:
            password = (
                s.password_file.read_text(encoding="utf-8").strip() if s.password_file else ""
            )
            smtp.login(s.user, password)
        return smtp

    def __exit__(self, *_: object) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
