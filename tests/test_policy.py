"""The owner's guardrails: the file, its problems, scopes, limits and floors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pricing.policy.engine import judge_lines, lowest_prices
from pricing.policy.file import parse_policy
from pricing.policy.model import LineFacts

POLICY = """\
currency = "USD"
approval_valid_days = 30
levels = ["rep", "manager", "owner"]        # lowest to highest authority

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

[[person]]
name = "dana"
role = "owner"
"""


def policy(text: str = POLICY):
    parsed = parse_policy(text, "guardrails.toml")
    assert parsed.problems == [], [p.render() for p in parsed.problems]
    assert parsed.policy is not None
    return parsed.policy


def line(sku="HW-200", family="Hardware", qty=10, standard="100", cost=None, floor=None):
    standard_price = Decimal(standard)
    return LineFacts(
        sku=sku,
        family=family,
        qty=qty,
        list_price=standard_price,
        standard_price=standard_price,
        currency="USD",
        unit_cost=None if cost is None else Decimal(cost),
        item_floor=None if floor is None else Decimal(floor),
    )


def decide(facts: LineFacts, price: str, text: str = POLICY) -> tuple[str, str | None]:
    result = judge_lines(policy(text), [(facts, Decimal(price))])[0]
    return result.decision, result.level


def test_the_products_example_policy_is_valid() -> None:
    p = policy()
    assert p.levels == ["rep", "manager", "owner"]
    assert p.role_of("Dana") == "owner"


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        ("100", ("approved", None)),
        ("90", ("approved", None)),  # exactly the rep limit is within it
        ("89.99", ("pending", "manager")),
        ("80", ("pending", "manager")),
        ("79.99", ("pending", "owner")),
        ("70", ("pending", "owner")),
        ("69.99", ("rejected", None)),  # beyond the top level: nobody can approve
        ("120", ("approved", None)),  # above standard: no discount
    ],
)
def test_default_limits_are_inclusive(price: str, expected: tuple[str, str | None]) -> None:
    assert decide(line(), price) == expected


def test_most_specific_rule_sets_limits_and_missing_levels_fall_back() -> None:
    # HW-100 exact SKU rule: rep 2; manager/owner from the pattern rule when qty >= 50
    big = line(sku="HW-100", qty=50)
    limits = {lv: pct for lv, pct, _ in lowest_prices(policy(), big)}
    assert limits == {"rep": Decimal("2.0"), "manager": Decimal("25.0"), "owner": Decimal("35.0")}
    small = line(sku="HW-100", qty=5)
    limits = {lv: pct for lv, pct, _ in lowest_prices(policy(), small)}
    assert limits == {"rep": Decimal("2.0"), "manager": Decimal("20.0"), "owner": Decimal("30.0")}


def test_sku_pattern_applies_from_its_quantity_up() -> None:
    assert decide(line(sku="HW-150", qty=49), "85") == ("pending", "manager")
    assert decide(line(sku="HW-150", qty=50), "85") == ("approved", None)
    assert decide(line(sku="hw-150", qty=50), "85") == ("approved", None)  # case does not matter


def test_deal_size_rule_is_least_specific_but_fills_a_level() -> None:
    """The deal's value is all its lines' at standard prices: 1,000 of this line and the rest
    of the deal's, at its standard price."""

    def in_deal_of(value: str) -> tuple[str, str | None]:
        rest = line(sku="SV-9", family="Services", qty=1, standard=str(Decimal(value) - 1000))
        first, _ = judge_lines(policy(), [(line(), Decimal(69)), (rest, rest.standard_price)])
        return first.decision, first.level

    assert in_deal_of("9999") == ("rejected", None)
    assert in_deal_of("10000") == ("pending", "owner")


def test_margin_floor_is_gross_margin_on_price_not_markup() -> None:
    services = line(sku="SV-1", family="services", cost="60", standard="100")
    result = judge_lines(policy(), [(services, Decimal("79.99"))])[0]
    assert result.hard_floor == Decimal("80.00")  # 60 / 0.75
    assert result.decision == "rejected"
    assert "below the hard floor 80.00" in result.reasons[0]
    assert decide(services, "85") == ("pending", "owner")  # 15 % off: within owner's 15
    assert decide(services, "80") == ("rejected", None)  # 20 % off: beyond owner's 15


def test_every_floor_applies_and_the_strictest_wins() -> None:
    facts = line(sku="HW-150", qty=60, standard="50", floor="42")
    result = judge_lines(policy(), [(facts, Decimal("41"))])[0]
    assert result.hard_floor == Decimal("42")
    assert result.decision == "rejected"
    assert judge_lines(policy(), [(facts, Decimal("42"))])[0].decision == "pending"


def test_margin_floor_without_a_cost_is_never_a_silent_pass() -> None:
    services = line(sku="SV-2", family="Services", cost=None, standard="100")
    result = judge_lines(policy(), [(services, Decimal("99"))])[0]
    assert (result.decision, result.level) == ("pending", "owner")
    assert "has no unit cost" in result.reasons[0]


def test_reasons_name_the_scope_and_the_numbers() -> None:
    result = judge_lines(
        policy(), [(line(family="Services", sku="SV-1", cost="10"), Decimal("92"))]
    )[0]
    assert (
        "Services: rep may grant up to 5.00%, manager up to 10.00%, owner up to 15.00%"
        in result.reasons
    )


def test_lowest_price_per_level_respects_the_floor() -> None:
    services = line(sku="SV-1", family="Services", cost="60", standard="100")
    assert lowest_prices(policy(), services) == [
        ("rep", Decimal("5.0"), Decimal("95.00")),
        ("manager", Decimal("10.0"), Decimal("90.00")),
        ("owner", Decimal("15.0"), Decimal("85.00")),
    ]
    tight = line(sku="SV-1", family="Services", cost="70", standard="100")  # floor 70/0.75
    assert [low for _, _, low in lowest_prices(policy(), tight)] == [
        Decimal("95.00"),
        Decimal("93.34"),
        Decimal("93.34"),
    ]


def test_problems_name_line_and_key_all_at_once() -> None:
    text = """\
levels = ["rep", "manager", "owner"]

[limits]
rep = 10.0
manager = 20.0

[[rule]]
family = "Services"
limits = { rep = 5.0, boss = 10.0 }

[[rule]]
name = "bulk hardware"
sku = "HW-1*"
limits = { rep = 150 }
colour = "red"

[[person]]
name = "dana"
role = "ceo"
"""
    parsed = parse_policy(text, "g.toml")
    assert parsed.policy is None
    found = {(p.line, p.message.split(":")[0]) for p in parsed.problems}
    assert found == {
        (3, "limits"),
        (9, "rule 1, limits.boss"),  # rules count from 1, as the owner counts them
        (14, "rule 2 ('bulk hardware'), limits"),
        (15, "rule 2 ('bulk hardware'), colour"),
        (19, "person 1 ('dana'), role"),
    }
    assert all(p.file == "g.toml" for p in parsed.problems)


def test_a_toml_syntax_error_names_its_line() -> None:
    parsed = parse_policy('levels = ["rep"\n[limits]\n', "g.toml")
    assert parsed.policy is None
    assert parsed.problems[0].line == 2
    assert "not valid TOML" in parsed.problems[0].message


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("[limits]\nrep = 10\nmanager = 5\nowner = 30\n", "manager may grant less"),
        (
            "[limits]\nrep = 10\nmanager = 20\nowner = 30\n[[rule]]\nlimits = { rep = 5 }\n",
            "a rule needs a condition",
        ),
        (
            '[limits]\nrep = 10\nmanager = 20\nowner = 30\n[[rule]]\nfamily = "X"\n',
            "must set limits",
        ),
        (
            "approval_valid_days = 0\n[limits]\nrep = 10\nmanager = 20\nowner = 30\n",
            "approval_valid_days",
        ),
        ('currency = "dollars"\n[limits]\nrep = 10\nmanager = 20\nowner = 30\n', "3-letter ISO"),
    ],
)
def test_more_mistakes_are_caught(snippet: str, message: str) -> None:
    parsed = parse_policy('levels = ["rep", "manager", "owner"]\n' + snippet, "g.toml")
    assert parsed.policy is None
    assert any(message in p.message for p in parsed.problems), [p.render() for p in parsed.problems]


@pytest.mark.parametrize(
    "glob",
    ["hw-1*", "*.x?", "a[bc]d", "a[!b]d", "a[^b]d", "a[]]d", "[x", "a[a-c]d", "*", "sv-*-pro"],
)
def test_sku_patterns_match_in_bulk_exactly_what_fnmatch_matches(glob: str) -> None:
    """Over a million deal lines a SKU pattern is tested once per distinct SKU; the lines it
    covers in bulk are exactly the SKUs Python's fnmatch (the line-by-line judge) accepts."""
    import fnmatch

    import pyarrow as pa

    from pricing.lines.matching import classify
    from pricing.lines.schema import CLASSIFIED
    from pricing.policy.model import Policy, Rule

    skus = ["hw-100", "hw-1", "xhw-1", "a.xy", "abd", "acd", "a!d", "a^d", "a]d", "[x", "a-d",
            "sv-1-pro", "sv-1-pros", "hw-1\n", "", "ab", "abdd"]  # fmt: skip
    # 50 % off: only the rule's limit (rep 60 %) covers it; elsewhere it is beyond every level.
    wide = Policy(
        levels=["rep"],
        limits={"rep": Decimal(0)},
        rule=[Rule(sku=glob, limits={"rep": Decimal(60)})],
    )
    n = len(skus)
    columns = {"sku": skus, "sku_key": skus, "family": [None] * n, "item_currency": ["USD"] * n}
    table = pa.table(
        {
            name: pa.array(columns[name], pa.string())
            if name in columns
            else pa.array([None] * n if name in ("unit_cost", "item_floor") else
                          [1_000_000 if name == "qty" else 50_000_000 if name == "net_amount"
                           else 100_000_000] * n, pa.int64())
            for name in CLASSIFIED
        }
    )  # fmt: skip
    ranks, _, _ = classify(wide, table)
    assert [rank == 0 for rank in ranks] == [fnmatch.fnmatchcase(sku, glob) for sku in skus]


def test_policy_check__a_rule_is_named_by_its_number_from_1_and_its_name(cli, tmp_path) -> None:
    """Given a policy whose second rule (named) limits a level that does not exist, when the
    owner checks it, then the problem names "rule 2" and its name, never "rule.1"."""
    text = POLICY.replace(
        '[[rule]]\nsku = "HW-1*"', '[[rule]]\nname = "bulk hardware"\nsku = "HW-1*"'
    )
    text = text.replace(
        "limits = { rep = 15.0, manager = 25.0", "limits = { rep = 15.0, boss = 25.0"
    )
    file = tmp_path / "g.toml"
    file.write_text(text)
    result = cli("policy", "check", str(file))
    assert result.exit_code == 2
    assert "rule 2 ('bulk hardware'), limits.boss: 'boss' is not one of the levels" in result.stderr
    assert "rule.1" not in result.stderr
