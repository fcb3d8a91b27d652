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
    """A file or argument given by the user cannot be used as it is."""


class NotFoundError(PricingError):
    """A SKU, edition or other named thing does not exist in the store."""


class StoreError(PricingError):
    """The database cannot be opened, migrated or written."""


class SchemaError(StoreError):
    """The database schema is newer than this version of pricing understands."""


class Refused(PricingError):
    """A business "no": an approval refused, an outcome that cannot be recorded (exit code 1)."""
