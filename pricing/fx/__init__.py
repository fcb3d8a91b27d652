"""Exchange rates: dated rates imported from a file, and the rate on a day.

A rate says how many units of a currency one unit of a *base* currency buys on a day (the
European Central Bank's reference rates: 1 EUR = 1.1172 USD on 2026-10-30). The rate on a date
is the last one published on or before it (weekends and holidays have none); one older than
the owner allows is said to be old. A rate between two currencies neither of which is the base
is derived through it (GBP in USD: USD per EUR over GBP per EUR), and says so.

:mod:`pricing.fx.file` reads a rates file, :mod:`pricing.fx.rates` stores and finds them.
"""
