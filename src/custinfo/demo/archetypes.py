"""Customer archetypes: behaviour patterns that put demo customers in every class of REQUIREMENTS §2.1a.

Every archetype builds a `Plan` of day offsets counted back from `as_of`
(1 = yesterday; negative = in the future) for the orders, contracts and
interactions that define its class. Offsets keep a margin from every window
edge of §2.1a (30 / 90 / 180 / 182-183 / 365 days), so the class holds
whichever way a boundary is counted. "Filler" orders that only pad the history
to the requested average are placed where they cannot change the class: before
`filler_after` days ago, which is always more than 365 days back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from random import Random
from typing import TypeVar

T = TypeVar("T")

YUAN = 100  # fen per yuan


class FastRandom(Random):
    """Random with randint/randrange/choice built on random(): ~3x faster; bias n/2**53, negligible here."""

    def randint(self, a: int, b: int) -> int:
        """An integer in [a, b]."""
        return a + int(self.random() * (b - a + 1))

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        """An integer in range(start, stop, step) (or range(start))."""
        if stop is None:
            start, stop = 0, start
        return start + step * int(self.random() * ((stop - start + step - 1) // step))

    def choice(self, seq: Sequence[T]) -> T:  # type: ignore[override]
        """One element of a non-empty sequence."""
        return seq[int(self.random() * len(seq))]


@dataclass(frozen=True)
class Archetype:
    """A behaviour pattern, its kind, its share of all demo customers, and the classes it stands for."""

    code: str
    kind: str  # individual | company
    weight: float
    classes: tuple[str, ...]


ARCHETYPES: tuple[Archetype, ...] = (
    Archetype("ind_new", "individual", 0.06, ("lifecycle:new",)),
    Archetype("co_high_value", "company", 0.03, ("value:high", "stage:active")),
    Archetype("ind_frequent", "individual", 0.05, ("frequency:high", "lifecycle:active", "amount:low")),
    Archetype("co_potential_growth", "company", 0.04, ("value:potential", "stage:active")),
    Archetype("ind_regular", "individual", 0.12, ("frequency:medium", "lifecycle:active", "amount:low")),
    Archetype("co_potential_flat", "company", 0.04, ("value:ordinary_band_no_growth", "stage:active")),
    Archetype("ind_occasional", "individual", 0.08, ("frequency:low", "lifecycle:active")),
    Archetype("co_ordinary", "company", 0.10, ("value:ordinary", "stage:active")),
    Archetype("ind_big_spender", "individual", 0.03, ("amount:high", "lifecycle:active")),
    Archetype("co_frequent_buyer", "company", 0.03, ("frequency:high", "stage:active")),
    Archetype("ind_mid_spender", "individual", 0.06, ("amount:medium", "lifecycle:active")),
    Archetype("co_renewed", "company", 0.04, ("contract:renewed", "stage:active")),
    Archetype("ind_dormant", "individual", 0.07, ("lifecycle:dormant", "frequency:low")),
    Archetype("co_negotiating", "company", 0.04, ("contract:negotiating", "stage:intent")),
    Archetype("ind_churned", "individual", 0.07, ("lifecycle:churned", "frequency:low")),
    Archetype("co_churned", "company", 0.025, ("contract:terminated", "stage:churned")),
    Archetype("ind_prospect", "individual", 0.04, ("lifecycle:potential",)),
    Archetype("co_prospect", "company", 0.03, ("stage:potential",)),
    Archetype("ind_complainer", "individual", 0.02, ("risk:complaint_heavy", "lifecycle:active")),
    Archetype("co_complainer", "company", 0.01, ("risk:complaint_heavy", "stage:active")),
    Archetype("co_lapsed", "company", 0.015, ("contract:active", "stage:churned")),
)
BY_CODE = {archetype.code: archetype for archetype in ARCHETYPES}
COMPLAINT_HEAVY_MIN = 3  # complaints in the last 90 days that the complainer archetypes always reach
NO_FILLER = None
Touch = tuple[int, str, int | None]  # an interaction: (day offset, kind, satisfaction score)


@dataclass(frozen=True)
class ContractPlan:
    """One contract: status and day offsets (None where the date is not set), amount in fen."""

    status: str
    signed: int | None
    starts: int | None
    ends: int | None
    terminated: int | None
    amount: int


@dataclass
class Plan:
    """What an archetype fixes for one customer; the generator adds names, filler and random contacts."""

    orders: list[tuple[int, int]] = field(default_factory=list)  # (day offset, amount in fen)
    filler_after: int | None = 375  # filler orders only before this many days ago; None: no filler
    contracts: list[ContractPlan] = field(default_factory=list)
    interactions: list[Touch] = field(default_factory=list)
    quiet_days: int = 0  # no random visit/consultation more recent than this (keeps "potential" stage)
    complaints_ok: bool = True  # may random interactions include (at most one) complaint
    needs: int = 0  # entries in the needs log
    big_orders: bool = False  # order sizes of a business customer


def split(rng: Random, total: int, parts: int) -> list[int]:
    """`total` fen cut into `parts` positive amounts of similar size that add up exactly."""
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    scale = total / sum(weights)
    amounts = [max(1, int(w * scale)) for w in weights[:-1]]
    amounts.append(total - sum(amounts))
    return amounts


def days(rng: Random, count: int, newest: int, oldest: int) -> list[int]:
    """`count` day offsets between `newest` and `oldest` days ago (inclusive)."""
    return [rng.randint(newest, oldest) for _ in range(count)]


def small_amount(rng: Random) -> int:
    """A consumer order (a few hundred to ~3,300 yuan), in fen."""
    price = rng.choice((3_990, 8_990, 12_990, 29_900, 39_900, 89_900, 169_900, 189_900, 249_900, 329_900))
    quantity = 2 if price < 50_000 and rng.random() < 0.3 else 1
    return price * quantity * rng.choice((100, 100, 95, 90, 88)) // 100


def _orders(offsets: list[int], amounts: list[int]) -> list[tuple[int, int]]:
    return list(zip(offsets, amounts, strict=True))


def _active_contract(rng: Random, amount: int, status: str = "active") -> ContractPlan:
    # Signed more than a year ago, so counting contracts into the annual amount (§2.1a, optional)
    # cannot move a customer to another value class.
    signed = rng.randint(380, 900) if status == "active" else rng.randint(400, 1000)
    return ContractPlan(status, signed, signed - rng.randint(3, 20), -rng.randint(60, 500), None, amount)


def _small_orders(rng: Random, offsets: list[int]) -> list[tuple[int, int]]:
    return [(offset, small_amount(rng)) for offset in offsets]


def ind_new(rng: Random) -> Plan:
    """First orders all within the last 80 days: a new individual."""
    offsets = days(rng, rng.randint(1, 3), 2, 80)
    return Plan(orders=_small_orders(rng, offsets), filler_after=NO_FILLER)


def ind_frequent(rng: Random) -> Plan:
    """3-5 orders in the last 26 days plus older ones: high frequency, active."""
    offsets = days(rng, rng.randint(3, 5), 1, 26) + days(rng, rng.randint(1, 3), 100, 355)
    return Plan(orders=_small_orders(rng, offsets))


def ind_regular(rng: Random) -> Plan:
    """1-2 orders in the last 26 days plus older ones: medium frequency, active."""
    offsets = days(rng, rng.randint(1, 2), 1, 26) + days(rng, rng.randint(1, 4), 100, 355)
    return Plan(orders=_small_orders(rng, offsets))


def ind_occasional(rng: Random) -> Plan:
    """One order 35-85 days ago, the rest older than 100 days: low frequency yet active."""
    offsets = days(rng, 1, 35, 85) + days(rng, rng.randint(1, 4), 100, 355)
    return Plan(orders=_small_orders(rng, offsets))


def _spender(rng: Random, low: int, high: int, count: tuple[int, int]) -> Plan:
    total = rng.randint(low, high) * YUAN
    n = rng.randint(*count)
    offsets = days(rng, 1, 5, 80) + days(rng, n - 1, 95, 350)
    return Plan(orders=_orders(offsets, split(rng, total, n)))


def ind_big_spender(rng: Random) -> Plan:
    """110,000-300,000 yuan in the last year: the high purchase-amount tier."""
    return _spender(rng, 110_000, 300_000, (4, 8))


def ind_mid_spender(rng: Random) -> Plan:
    """35,000-90,000 yuan in the last year: the medium purchase-amount tier."""
    return _spender(rng, 35_000, 90_000, (3, 6))


def ind_dormant(rng: Random) -> Plan:
    """Last order 95-175 days ago: dormant."""
    offsets = days(rng, 1, 95, 175) + days(rng, rng.randint(0, 3), 180, 355)
    return Plan(orders=_small_orders(rng, offsets))


def ind_churned(rng: Random) -> Plan:
    """Last order 190-330 days ago: churned."""
    offsets = days(rng, 1, 190, 330) + days(rng, rng.randint(0, 2), 335, 700)
    return Plan(orders=_small_orders(rng, offsets))


def ind_prospect(rng: Random) -> Plan:
    """Never ordered, with a needs log: potential."""
    return Plan(filler_after=NO_FILLER, needs=rng.randint(1, 3))


def ind_complainer(rng: Random) -> Plan:
    """An active buyer with 3-5 complaints in the last 80 days."""
    offsets = days(rng, rng.randint(1, 2), 5, 60) + days(rng, rng.randint(1, 3), 100, 355)
    complaints: list[Touch] = [
        (o, "complaint", rng.randint(1, 2)) for o in days(rng, rng.randint(3, 5), 1, 80)
    ]
    return Plan(orders=_small_orders(rng, offsets), interactions=complaints, complaints_ok=False)


def _value_plan(rng: Random, low: int, high: int, recent_share: tuple[float, float] | None) -> Plan:
    total = rng.randint(low, high) * YUAN
    if recent_share is None:
        n = rng.randint(6, 14)
        orders = _orders(days(rng, n, 1, 355), split(rng, total, n))
    else:
        recent = int(total * rng.uniform(*recent_share))
        n_recent, n_earlier = rng.randint(3, 7), rng.randint(2, 6)
        orders = _orders(days(rng, n_recent, 1, 175), split(rng, recent, n_recent))
        orders += _orders(days(rng, n_earlier, 190, 355), split(rng, total - recent, n_earlier))
    status = "renewed" if rng.random() < 0.25 else "active"
    contract = _active_contract(rng, int(total * rng.uniform(0.8, 1.5)) // YUAN * YUAN, status)
    return Plan(orders=orders, contracts=[contract], big_orders=True, needs=int(rng.random() < 0.2))


def co_high_value(rng: Random) -> Plan:
    """520,000-2,400,000 yuan in the last year under a running contract: high value."""
    return _value_plan(rng, 520_000, 2_400_000, None)


def co_potential_growth(rng: Random) -> Plan:
    """100,000-500,000 yuan band with at least 63% growth: potential."""
    # 62-80% of the year's amount in the recent half: growth = share / (1 - share) - 1 ≥ 63%.
    return _value_plan(rng, 150_000, 450_000, (0.62, 0.80))


def co_potential_flat(rng: Random) -> Plan:
    """100,000-500,000 yuan band, shrinking: ordinary by default."""
    # 30-45% in the recent half: the amount shrank, so no growth.
    return _value_plan(rng, 120_000, 450_000, (0.30, 0.45))


def co_ordinary(rng: Random) -> Plan:
    """5,000-90,000 yuan in the last year under a running contract: ordinary."""
    total = rng.randint(5_000, 90_000) * YUAN
    n = rng.randint(2, 6)
    status = "renewed" if rng.random() < 0.3 else "active"
    contract = _active_contract(rng, rng.randint(20_000, 120_000) * YUAN, status)
    return Plan(
        orders=_orders(days(rng, n, 1, 355), split(rng, total, n)), contracts=[contract], big_orders=True
    )


def co_frequent_buyer(rng: Random) -> Plan:
    """A distributor-like buyer with 3-6 orders in the last 26 days."""
    n_recent, n_older = rng.randint(3, 6), rng.randint(2, 6)
    offsets = days(rng, n_recent, 1, 26) + days(rng, n_older, 35, 355)
    amounts = [rng.randint(2_000, 30_000) * YUAN for _ in offsets]
    contract = _active_contract(rng, rng.randint(100_000, 400_000) * YUAN)
    return Plan(orders=_orders(offsets, amounts), contracts=[contract], big_orders=True)


def co_renewed(rng: Random) -> Plan:
    """A renewed contract still running."""
    n = rng.randint(2, 6)
    amounts = [rng.randint(5_000, 60_000) * YUAN for _ in range(n)]
    contract = _active_contract(rng, rng.randint(50_000, 300_000) * YUAN, "renewed")
    return Plan(orders=_orders(days(rng, n, 1, 355), amounts), contracts=[contract], big_orders=True)


def co_negotiating(rng: Random) -> Plan:
    """A contract under negotiation and recent visits or consultations: intent."""
    proposed = rng.randint(50_000, 800_000) * YUAN
    contract = ContractPlan("negotiating", None, None, None, None, proposed)
    talks: list[Touch] = [
        (o, rng.choice(("visit", "consultation")), rng.randint(3, 5))
        for o in days(rng, rng.randint(1, 3), 1, 80)
    ]
    trial = _orders(days(rng, 1, 10, 80), [rng.randint(2_000, 20_000) * YUAN]) if rng.random() < 0.3 else []
    return Plan(
        orders=trial,
        contracts=[contract],
        interactions=talks,
        filler_after=NO_FILLER,
        needs=rng.randint(1, 3),
    )


def _churned(rng: Random, terminated: bool) -> Plan:
    if terminated:
        ended = rng.randint(120, 500)
        signed = ended + rng.randint(200, 700)
        contract = ContractPlan(
            "terminated", signed, signed - 7, signed - 7 - 730, ended, rng.randint(50_000, 500_000) * YUAN
        )
    else:  # the term ran out more than 90 days ago and nobody renewed it
        ended = rng.randint(100, 500)
        signed = ended + rng.randint(365, 740)
        contract = ContractPlan(
            "active", signed, signed - 7, ended, None, rng.randint(50_000, 500_000) * YUAN
        )
    n = rng.randint(2, 6)
    offsets = days(rng, n, ended + 10, ended + 300)
    amounts = [rng.randint(3_000, 80_000) * YUAN for _ in range(n)]
    return Plan(
        orders=_orders(offsets, amounts),
        contracts=[contract],
        filler_after=max(375, ended + 310),
        big_orders=True,
    )


def co_churned(rng: Random) -> Plan:
    """Contract terminated 120-500 days ago, no orders since: churned."""
    return _churned(rng, terminated=True)


def co_lapsed(rng: Random) -> Plan:
    """Contract term ended 100-500 days ago without renewal: churned."""
    return _churned(rng, terminated=False)


def co_prospect(rng: Random) -> Plan:
    """No contract, no orders, a needs log, no recent visit: potential."""
    return Plan(filler_after=NO_FILLER, needs=rng.randint(1, 3), quiet_days=95, big_orders=True)


def co_complainer(rng: Random) -> Plan:
    """A company under contract with 4-6 complaints in the last 80 days."""
    n = rng.randint(3, 8)
    amounts = [rng.randint(3_000, 50_000) * YUAN for _ in range(n)]
    complaints: list[Touch] = [
        (o, "complaint", rng.randint(1, 2)) for o in days(rng, rng.randint(4, 6), 1, 80)
    ]
    contract = _active_contract(rng, rng.randint(50_000, 300_000) * YUAN)
    return Plan(
        orders=_orders(days(rng, n, 1, 355), amounts),
        contracts=[contract],
        interactions=complaints,
        complaints_ok=False,
        big_orders=True,
    )


PLANS: dict[str, Callable[[Random], Plan]] = {
    "ind_new": ind_new,
    "ind_frequent": ind_frequent,
    "ind_regular": ind_regular,
    "ind_occasional": ind_occasional,
    "ind_big_spender": ind_big_spender,
    "ind_mid_spender": ind_mid_spender,
    "ind_dormant": ind_dormant,
    "ind_churned": ind_churned,
    "ind_prospect": ind_prospect,
    "ind_complainer": ind_complainer,
    "co_high_value": co_high_value,
    "co_potential_growth": co_potential_growth,
    "co_potential_flat": co_potential_flat,
    "co_ordinary": co_ordinary,
    "co_frequent_buyer": co_frequent_buyer,
    "co_renewed": co_renewed,
    "co_negotiating": co_negotiating,
    "co_churned": co_churned,
    "co_prospect": co_prospect,
    "co_complainer": co_complainer,
    "co_lapsed": co_lapsed,
}
