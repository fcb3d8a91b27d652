"""The environment and the configuration file: every variable pricing reads is read here, and
nowhere else (so is the login name, the acting user's default).

PRICING_DATABASE_URL   the database when none is given (default: the configuration file's
                       ``database_url``, else pricing.db here)
PRICING_USER           who is acting when nobody is named (default: the login name)
PRICING_LOCK_TIMEOUT   seconds to wait for another writer (default 30)
PRICING_CONFIG         the configuration file (TOML) of a team's server: ``database_url``,
                       ``secret_file`` (or ``secret``), ``previous_secret_files``, ``base_url``
PRICING_SECRET         the audit's secret itself (instead of a file; for tests and containers)
PRICING_AUDIT_WITNESS  the file the audit's head is appended to after every change (default:
                       the configuration's ``witness_file``, else ``audit-witness`` beside the
                       secret's file, else in this user's configuration folder), or a database
                       URL (``postgresql://…``: the configuration's ``witness_url``) for the
                       servers of several hosts
PRICING_SERVER         client mode: every command goes through this server …
PRICING_TOKEN          … signed in with this personal token (else the one `pricing login` kept)
PRICING_ABOVE_STANDARD_FLAG  a sale above this multiple of its standard price is flagged by deals
                       import and the report, to check its price or quantity (default 3)

Without a configuration file the secret is kept in this user's configuration folder (created
on first use, mode 0600): enough for a one-person file and for trying the server out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from pricing.errors import ConfigError

if TYPE_CHECKING:
    from decimal import Decimal

DATABASE_URL = "PRICING_DATABASE_URL"
USER = "PRICING_USER"
LOCK_TIMEOUT = "PRICING_LOCK_TIMEOUT"
CONFIG = "PRICING_CONFIG"
SECRET = "PRICING_SECRET"
WITNESS = "PRICING_AUDIT_WITNESS"
SERVER = "PRICING_SERVER"
TOKEN = "PRICING_TOKEN"
INSECURE = "PRICING_INSECURE"  # 1: send the token over plain http to a host not this one
ABOVE_STANDARD_FLAG = "PRICING_ABOVE_STANDARD_FLAG"


def database_url() -> str | None:
    """The database URL of the environment, else of the configuration file (None if neither)."""
    return os.environ.get(DATABASE_URL) or settings().database_url or None


def database_url_origin() -> str:
    """Where :func:`database_url` came from, as a message names it."""
    if os.environ.get(DATABASE_URL):
        return DATABASE_URL
    return f"database_url in {settings().file}"


def user() -> str | None:
    """Who the environment says is acting (None when unset or empty)."""
    return os.environ.get(USER) or None


def acting_user(explicit: str | None = None) -> str:
    """Who is acting: ``explicit`` (``--user``), else ``PRICING_USER``, else the login name."""
    if explicit:
        return explicit
    from_environment = user()
    if from_environment:
        return from_environment
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def limit_override(variable: str) -> str:
    """The environment's value for one of :mod:`pricing.limits`' bounds (``""`` when unset)."""
    return os.environ.get(variable, "").strip()


def above_standard_flag() -> Decimal:
    """The multiple of its standard price above which a sale is flagged (a price or a quantity
    to check): ``PRICING_ABOVE_STANDARD_FLAG``, a number above 1, default 3."""
    from decimal import Decimal, InvalidOperation

    raw = os.environ.get(ABOVE_STANDARD_FLAG, "").strip()
    if not raw:
        return Decimal(3)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal(0)
    if not value.is_finite() or value <= 1 or value > 1_000_000:
        raise ConfigError(
            f"{ABOVE_STANDARD_FLAG}={raw!r}: must be a number above 1 (a multiple of the "
            "standard price, such as 3)"
        )
    return value


def seconds(name: str, default: float) -> float:
    """A number of seconds set in the environment variable ``name`` (a server's setting), or
    ``default`` when it is unset or not a positive number."""
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        return default
    return value if value > 0 else default


def lock_timeout() -> str:
    """The lock wait as written in the environment (blank when unset); the store parses it."""
    return os.environ.get(LOCK_TIMEOUT, "").strip()


# The configuration folder and file -----------------------------------------------------------


def folder() -> Path:
    """This user's configuration folder for pricing (e.g. ~/.config/pricing)."""
    from platformdirs import user_config_path

    return user_config_path("pricing", appauthor=False)


@dataclass(frozen=True)
class Settings:
    """What the configuration file says (every field optional)."""

    file: Path | None = None
    database_url: str | None = None
    secret: str | None = None
    secret_file: Path | None = None
    previous_secret_files: list[Path] = field(default_factory=list)
    base_url: str | None = None
    witness_file: Path | None = None
    witness_url: str | None = None
    mail: dict[str, object] = field(default_factory=dict)  # the [mail] table (mail_settings)


_FIELDS = ("database_url", "secret", "secret_file", "previous_secret_files", "base_url",
           "witness_file", "witness_url", "mail")  # fmt: skip


@cache
def settings(file: str | None = None) -> Settings:
    """The configuration file named by ``file`` or ``PRICING_CONFIG`` (none: empty settings)."""
    path = file or os.environ.get(CONFIG)
    if not path:
        return Settings()
    import tomllib

    where = Path(path).expanduser()
    try:
        data = tomllib.loads(where.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration file {where}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: not a valid TOML file: {exc}") from None
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise ConfigError(f"{where}: unknown setting {unknown[0]!r}; known: {', '.join(_FIELDS)}")
    for name in ("database_url", "secret", "secret_file", "base_url", "witness_file",
                 "witness_url"):  # fmt: skip
        if name in data and not isinstance(data[name], str):
            raise ConfigError(f"{where}: {name} must be text")
    if "witness_file" in data and "witness_url" in data:
        raise ConfigError(f"{where}: name one witness: witness_file or witness_url, not both")
    if "witness_url" in data and not _is_url(data["witness_url"]):
        raise ConfigError(f"{where}: witness_url must be a database URL (postgresql://…)")
    previous = data.get("previous_secret_files", [])
    if not isinstance(previous, list) or not all(isinstance(p, str) for p in previous):
        raise ConfigError(f"{where}: previous_secret_files must be a list of file names")
    mail = data.get("mail", {})
    if not isinstance(mail, dict):
        raise ConfigError(f"{where}: mail must be a table ([mail])")
    unknown = sorted(set(mail) - set(MAIL_ENV))
    if unknown:
        raise ConfigError(
            f"{where}: unknown mail setting {unknown[0]!r}; known: {', '.join(MAIL_ENV)}"
        )
    base = where.parent
    if isinstance(mail.get("password_file"), str):
        mail["password_file"] = str(base / mail["password_file"])
    return Settings(
        file=where,
        database_url=data.get("database_url"),
        secret=data.get("secret"),
        secret_file=base / data["secret_file"] if "secret_file" in data else None,
        previous_secret_files=[base / p for p in previous],
        base_url=data.get("base_url"),
        witness_file=base / data["witness_file"] if "witness_file" in data else None,
        witness_url=data.get("witness_url"),
        mail=mail,
    )


# Mail ----------------------------------------------------------------------------------------

# Each [mail] setting of the configuration file, and the variable that overrides it.
MAIL_ENV = {
    "host": "PRICING_SMTP_HOST",
    "port": "PRICING_SMTP_PORT",
    "sender": "PRICING_SMTP_SENDER",
    "starttls": "PRICING_SMTP_STARTTLS",
    "user": "PRICING_SMTP_USER",
    "password_file": "PRICING_SMTP_PASSWORD_FILE",
}
BASE_URL = "PRICING_BASE_URL"


@dataclass(frozen=True)
class MailSettings:
    """How the server sends mail: the SMTP server, the sender's address, STARTTLS, and the
    account (its password in a file of its own, never in the configuration)."""

    host: str
    port: int
    sender: str
    starttls: bool
    user: str | None
    password_file: Path | None


def mail_settings() -> MailSettings | None:
    """The [mail] table of the configuration, each setting overridden by its ``PRICING_SMTP_*``
    variable; None when no host is set (mail waits in the outbox). A setting that cannot be is a
    :class:`ConfigError` naming it."""
    given: dict[str, object] = dict(settings().mail)
    for name, variable in MAIL_ENV.items():
        if os.environ.get(variable, "").strip():
            given[name] = os.environ[variable].strip()
    host = given.get("host")
    if not host:
        return None
    sender = given.get("sender")
    if not isinstance(sender, str) or "@" not in sender:
        raise ConfigError("mail: give the sender's address (sender, or PRICING_SMTP_SENDER)")
    starttls = given.get("starttls", False)
    if isinstance(starttls, str):
        starttls = starttls.lower() in ("1", "true", "yes", "on")
    try:
        port = int(str(given.get("port", 587 if starttls else 25)))
    except ValueError:
        raise ConfigError(f"mail: port {given.get('port')!r} is not a number") from None
    user, password_file = given.get("user"), given.get("password_file")
    if user and not starttls:
        raise ConfigError(
            "mail: a user signs in to the mail server only over STARTTLS (else the password "
            "crosses the network readable): set starttls = true (PRICING_SMTP_STARTTLS=1)"
        )
    return MailSettings(
        host=str(host), port=port, sender=sender, starttls=bool(starttls),
        user=str(user) if user else None,
        password_file=Path(str(password_file)) if password_file else None,
    )  # fmt: skip


def base_url() -> str | None:
    """The address people reach the server's pages at (links in mail): ``PRICING_BASE_URL``,
    else the configuration's ``base_url``."""
    given = os.environ.get(BASE_URL, "").strip()
    return given or settings().base_url


def use_settings(file: str | None) -> None:
    """Make ``file`` the configuration of this process (``pricing serve --config FILE``)."""
    if file:
        os.environ[CONFIG] = str(Path(file).expanduser().resolve())
        settings.cache_clear()
        audit_keys.cache_clear()


# The audit's secret ---------------------------------------------------------------------------


MIN_SECRET = 32


def key_id(key: bytes) -> str:
    """A short name of a secret that says nothing about it (entries name the key they used):
    keyed with the secret itself, so it is no faster a test of a guess than an entry's MAC."""
    import hashlib
    import hmac

    return hmac.new(key, b"pricing audit key id", hashlib.sha256).hexdigest()[:12]


def _strong(text: str, where: str) -> bytes:
    text = text.strip()
    if len(text) < MIN_SECRET:
        raise ConfigError(
            f"the audit secret in {where} is too short: use {MIN_SECRET} or more random "
            "characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
        )
    return text.encode("utf-8")


def _read_secret(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the audit secret {path}: {exc.strerror}") from None
    return _strong(text, str(path))


def local_secret_file(*, create: bool = True) -> Path:
    """The secret of a store without a configuration file, made on first use (mode 0600)."""
    path = folder() / "secret"
    if not path.exists() and not create:
        raise ConfigError(
            f"this machine holds no audit secret ({path}, nor PRICING_SECRET or PRICING_CONFIG): "
            "verify where the store's changes were made, or point PRICING_CONFIG at the "
            "server's configuration"
        )
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        import secrets

        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
    return path


@cache
def audit_keys(*, create: bool = False) -> dict[str, bytes]:
    """Every secret the audit may meet, by key id: the current one first, then previous ones
    (kept after a rotation so that older entries still verify). A configuration file must
    name one; without one, the local secret is made only by a change (``create``), never by a
    verification."""
    config = settings()
    if os.environ.get(SECRET):
        current = _strong(os.environ[SECRET], SECRET)
    elif config.secret:
        current = _strong(config.secret, f"{config.file} (secret)")
    elif config.secret_file:
        current = _read_secret(config.secret_file)
    elif config.file is not None:
        raise ConfigError(
            f'{config.file} names no audit secret: add secret_file = "…" (a file of 32 or more '
            "random characters, readable by the server only)"
        )
    else:
        current = _read_secret(local_secret_file(create=create))
    keys = {key_id(current): current}
    for path in config.previous_secret_files:
        previous = _read_secret(path)
        keys.setdefault(key_id(previous), previous)
    return keys


def audit_secret_configured() -> bool:
    """Whether the secret comes from the environment or a configuration file (not the
    local trial's own file)."""
    config = settings()
    return bool(os.environ.get(SECRET) or config.secret or config.secret_file)


def audit_key() -> tuple[str, bytes]:
    """The secret new entries are keyed with, and its id."""
    return next(iter(audit_keys(create=True).items()))


TOKEN_PURPOSE = b"pricing token v1"


def token_keys(*, create: bool = False) -> list[bytes]:
    """The keys tokens are stored under: one per audit secret (the current one first),
    derived from it for this purpose only (the secret itself never keys anything else). A
    token hash keyed with one of these cannot be written by someone who holds the database but
    not the secret."""
    import hashlib
    import hmac

    secrets = audit_keys(create=create).values()
    return [hmac.new(secret, TOKEN_PURPOSE, hashlib.sha256).digest() for secret in secrets]


def _is_url(text: str) -> bool:
    """Whether a witness is named by a database URL (``scheme://…``) rather than a file."""
    scheme, found, _ = text.strip().partition("://")
    return bool(found) and scheme.replace("+", "").replace("-", "").isalnum()


def witness_url() -> str | None:
    """The audit's witness when it is a database (several hosts' servers share it):
    ``PRICING_AUDIT_WITNESS`` given as a URL, else the configuration's ``witness_url`` (None:
    the witness is a file, :func:`witness_file`)."""
    given = os.environ.get(WITNESS, "").strip()
    if given:
        return given if _is_url(given) else None
    return settings().witness_url


def witness_file() -> Path:
    """The audit's witness: a file outside the database the chain's head is appended to after
    every change (:mod:`pricing.storage.audit`). ``PRICING_AUDIT_WITNESS``, else the
    configuration's ``witness_file``, else ``audit-witness`` beside the secret's file, else in
    this user's configuration folder (beside the local secret). Unused when the witness is a
    database (:func:`witness_url`)."""
    given = os.environ.get(WITNESS, "").strip()
    if given and not _is_url(given):
        return Path(given).expanduser()
    config = settings()
    if config.witness_file is not None:
        return config.witness_file
    if config.secret_file is not None and not os.environ.get(SECRET) and not config.secret:
        return config.secret_file.parent / "audit-witness"
    return folder() / "audit-witness"


# Client mode ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    """Where the server is, the token to sign in with, and whether the token may go over plain
    http to another host (``insecure``: `pricing login --insecure` or ``PRICING_INSECURE=1``)."""

    server: str
    token: str
    insecure: bool = False


def login_file() -> Path:
    return folder() / "login.toml"


def token() -> str:
    """The token of the environment (blank when unset)."""
    return os.environ.get(TOKEN, "").strip()


def login() -> Login | None:
    """Client mode: ``PRICING_SERVER`` (with ``PRICING_TOKEN`` or the kept login's token), or
    the login `pricing login` kept; None means embedded mode."""
    server = os.environ.get(SERVER, "").strip()
    given = token()
    insecure = insecure_allowed()
    if server and given:
        return Login(server, given, insecure)  # the environment says it all: no file is read
    kept = _kept_login()
    if server:
        same = kept is not None and kept.server == server
        if not given and kept is not None and same:
            given = kept.token
        return Login(server, given, insecure or (same and kept is not None and kept.insecure))
    if kept is not None and given:
        return Login(kept.server, given, insecure or kept.insecure)  # the environment's token
    if kept is not None and insecure:
        return Login(kept.server, kept.token, True)
    return kept


def insecure_allowed() -> bool:
    """``PRICING_INSECURE=1``: the token may go over plain http to a host other than this one."""
    return os.environ.get(INSECURE, "").strip().lower() in ("1", "true", "yes")


def _kept_login() -> Login | None:
    import tomllib

    path = login_file()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read your login {path}: {exc}; sign in again with "
                          "`pricing login --server URL`") from None  # fmt: skip
    server, token = data.get("server"), data.get("token")
    if not isinstance(server, str) or not isinstance(token, str):
        raise ConfigError(f"{path} is not a login; sign in again with `pricing login --server URL`")
    return Login(server, token, data.get("insecure") is True)


def keep_login(server: str, token: str, insecure: bool = False) -> Path:
    """Keep a login for later commands, readable by this user only (mode 0600)."""
    path = login_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(f"server = {_toml_string(server)}\ntoken = {_toml_string(token)}\n")
        if insecure:
            out.write(
                "insecure = true  # the token goes over plain http: pricing login --insecure\n"
            )
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return path


def forget_login() -> bool:
    try:
        login_file().unlink()
    except FileNotFoundError:
        return False
    return True


def _toml_string(text: str) -> str:
    import json

    return json.dumps(text)  # a JSON string is a valid TOML basic string
