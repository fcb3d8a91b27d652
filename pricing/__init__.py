"""pricing: standard list pricing kept apart from deal-level special pricing.

The package is a library first: every command of the ``pricing`` CLI is a call into these
modules, which never print, never exit and never import click.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
