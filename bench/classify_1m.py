"""Time :func:`pricing.lines.matching.classify` over 1,000,000 random deal lines.

``python bench/classify_1m.py``: the best of five runs, in CPU seconds of this process (the
engine's own cost, steady when other work shares the cores, without the import around it)."""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa

from pricing.lines.matching import classify
from pricing.lines.schema import CLASSIFIED
from pricing.policy.file import parse_policy

POLICY = """\
currency = "USD"
levels = ["rep", "manager", "owner"]
[limits]
rep = 10.0
manager = 20.0
owner = 30.0
[[rule]]
family = "Services"
limits = { rep = 5.0, manager = 10.0, owner = 15.0 }
min_margin_pct = 25.0
[[rule]]
sku = "HW-1*"
min_qty = 50
limits = { rep = 15.0, manager = 25.0, owner = 35.0 }
floor_price = 40.00
[[rule]]
sku = "HW-100"
limits = { rep = 2.0 }
[[rule]]
min_deal_value = 10000
limits = { owner = 32.0 }
"""


def lines(n: int = 1_000_000, seed: int = 1, *, plain: bool = False) -> pa.Table:
    """Random deal lines; ``plain``: every item with a cost, in the policy's currency (no floor
    that cannot be checked)."""
    rng = np.random.default_rng(seed)
    skus = np.array([f"HW-{k}" for k in range(100, 400)] + [f"SV-{k}" for k in range(100)])
    pick = rng.integers(0, len(skus), n)
    sku = skus[pick]
    family = np.where(np.char.startswith(sku, "HW"), "Hardware", "Services")
    qty = rng.choice([1, 2, 5, 10, 50, 60, 100], n) * 1_000_000
    fractional = rng.random(n) < 0.01
    qty = np.where(fractional, rng.integers(1, 10_000, n) * 1000, qty)
    standard = rng.integers(1_000, 100_000, n) * 10_000
    price = (standard * rng.uniform(0.6, 1.1, n)).astype(np.int64) // 10_000 * 10_000
    net = price * qty // 1_000_000
    cost = np.where(plain | (rng.random(n) < 0.8), standard * 6 // 10, 0)
    currency = np.where(~plain & (rng.random(n) < 0.05), "EUR", "USD")
    columns = {
        "sku": pa.array(sku), "sku_key": pa.array(np.char.lower(sku)), "family": pa.array(family),
        "qty": pa.array(qty), "standard_price": pa.array(standard), "net_amount": pa.array(net),
        "list_price": pa.array(standard), "unit_cost": pa.array(cost, mask=cost == 0),
        "item_floor": pa.array(standard // 2, mask=rng.random(n) < 0.9),
        "item_currency": pa.array(currency),
    }  # fmt: skip
    return pa.table({name: columns[name] for name in CLASSIFIED})


def main() -> None:
    parsed = parse_policy(POLICY, "bench.toml")
    assert parsed.policy is not None
    for plain in (False, True):
        table = lines(plain=plain)
        times = []
        for _ in range(5):
            start = time.process_time()
            classify(parsed.policy, table)
            times.append(time.process_time() - start)
        label = "every floor checkable" if plain else "5 % foreign currency, 20 % without cost"
        print(f"classify, 1,000,000 lines ({label}): {min(times):.3f} s")


if __name__ == "__main__":
    main()
