"""Exceptions for operations that fail as a whole.

Problems with the content of a file (a bad cell, a duplicate SKU) are not exceptions: they are
:class:`pricing.problems.Problem` records, collected and returned. Exceptions are kept for the
cases where there is nothing to collect::

    PricingError
    ├── InputError        a file cannot be read at all, or an argument is unusable
    ├── NotFoundError     something asked for by name or number does not exist
    └── StoreError        the database cannot be opened or used
        └── SchemaError   the database was written by a newer version of pricing
"""


class PricingError(Exception):
    """Base of every error pricing raises on purpose."""


class InputError(PricingError):
    """A file or argument given by the user cannot be used as it is.

    An error about one input names its ``field`` (``customer``, ``qty``): the message holds
    ``{field}`` where the input is named, which reads as the field here and as the front end's
    name for it (the CLI's ``--customer``) in :meth:`for_input`.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def for_input(self, name: str) -> str:
        """The message with the input named as a front end calls it."""
        return self.message.replace("{field}", name)

    def __str__(self) -> str:
        return self.for_input(self.field) if self.field else self.message


class NotFoundError(PricingError):
    """A SKU, edition or other named thing does not exist in the store."""


class StoreError(PricingError):
    """The database cannot be opened, migrated or written."""


class SchemaError(StoreError):
    """The database schema is newer than this version of pricing understands."""


class Refused(PricingError):
    """A business "no": an approval refused, an outcome that cannot be recorded (exit code 1)."""
