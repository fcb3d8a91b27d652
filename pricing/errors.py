"""Exceptions for operations that fail as a whole.

Problems with the content of a file (a bad cell, a duplicate SKU) are not exceptions: they are
:class:`pricing.problems.Problem` records, collected and returned. Exceptions are kept for the
cases where there is nothing to collect::

    PricingError
    ├── InputError        a file cannot be read at all, or an argument is unusable
    ├── NotFoundError     something asked for by name or number does not exist
    ├── StoreError        the database cannot be opened or used
    │   ├── StoreBusy     another writer held it longer than the wait allowed
    │   ├── SchemaError   the database was written by a newer version of pricing
    │   └── DamagedError  something stored no longer reads as it was written
    ├── ConfigError       the configuration (file, secret, login) cannot be used
    ├── ServerError       client mode: the server cannot be reached or refused the sign-in
    │   └── NotSignedIn   the server's 401: no token, a wrong or revoked one, a row changed behind its back
    │   └── Unsealed      a sign-in whose person's row does not hold against its audit seal
    └── Refused           a business "no" (exit code 1), e.g. an approval one may not give
"""


class PricingError(Exception):
    """Base of every error pricing raises on purpose."""


class InputError(PricingError):
    """A file or argument given by the user cannot be used as it is.

    An error about one input names its ``field`` (``customer``, ``qty``) apart from what is
    wrong with it (``detail``, which starts with its own separator: ``": say why"``,
    ``" must be 1 or more"``), so that each front end names the input its own way (the CLI's
    ``--customer``) without any of the user's text being read as a template.
    """

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field

    def for_input(self, name: str) -> str:
        """The message with the input named as a front end calls it."""
        return name + self.detail

    def __str__(self) -> str:
        return self.for_input(self.field) if self.field else self.detail


class NotFoundError(PricingError):
    """A SKU, edition or other named thing does not exist in the store."""


class StoreError(PricingError):
    """The database cannot be opened, migrated or written."""


class StoreBusy(StoreError):
    """Another writer held the database longer than the lock timeout; nothing was changed."""


class SchemaError(StoreError):
    """The database schema is newer than this version of pricing understands."""


class DamagedError(StoreError):
    """Stored data no longer reads as it was written (a failing disk, a bad restore, an edit by
    hand): the message names what it belongs to and how to recover; ``pricing db check`` lists
    every such place."""


class ConfigError(PricingError):
    """The configuration file, the audit's secret or a kept login cannot be used."""


class ServerError(PricingError):
    """Client mode: the server is down, or the token is wrong, revoked or not for this name."""


class NotSignedIn(ServerError):
    """The server refused the call's sign-in: no token, or one that signs nobody in (401)."""


class Unsealed(NotSignedIn):
    """A sign-in refused: the person's row (role, token hash, the row itself) was changed in
    the database behind the server's back (it differs from its newest audit entry)."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(
            "sign-in refused: your person's record in the database was changed outside pricing "
            "(it does not match the audit); ask the owner to look into it (`pricing audit "
            "verify` names the change)"
        )
        self.name = name
        self.why = why


class Refused(PricingError):
    """A business "no": an approval refused, an outcome that cannot be recorded (exit code 1)."""
