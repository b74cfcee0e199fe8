"""One emulated Stripe account: its keys and its collections, indexed for cursor paging.

Stripe lists newest first and pages by object id (``starting_after``/``ending_before``). Each
collection keeps that order once, plus a position index, so a page costs the objects it scans,
not the whole collection.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.sdk.errors import ConfigError, Diagnostic
from providers.stripe import objects
from providers.stripe.rights import ALL_RIGHTS, normalize

_LIVE_PREFIXES = ("sk_live_", "rk_live_")


def scenario_error(message: str) -> ConfigError:
    """A scenario problem, named as such rather than as a tether.yaml one."""
    return ConfigError(Diagnostic(file="sandbox scenario, stripe section", line=None, message=message))


@dataclass(frozen=True)
class ApiKey:
    secret: str
    account: str
    rights: frozenset[str]
    restricted: bool

    @property
    def livemode(self) -> bool:
        return self.secret.startswith(_LIVE_PREFIXES)


class Collection:
    """Objects by id, in Stripe's list order (newest first, ties in scenario order)."""

    def __init__(self, items: Iterable[dict[str, Any]]) -> None:
        listed = list(items)
        ranked = sorted(enumerate(listed), key=lambda pair: (-int(pair[1].get("created") or 0), pair[0]))
        self.by_id: dict[str, dict[str, Any]] = {}
        for _, obj in ranked:
            self.by_id[str(obj["id"])] = obj
        self.order: list[str] = list(self.by_id)
        self.position: dict[str, int] = {object_id: index for index, object_id in enumerate(self.order)}

    def get(self, object_id: str) -> dict[str, Any] | None:
        return self.by_id.get(object_id)

    def __contains__(self, object_id: str) -> bool:
        return object_id in self.by_id

    def values(self) -> list[dict[str, Any]]:
        return [self.by_id[object_id] for object_id in self.order]

    def page(
        self,
        keep: Callable[[dict[str, Any]], bool],
        *,
        limit: int,
        starting_after: str | None,
        ending_before: str | None,
        ids: list[str] | None = None,
    ) -> tuple[list[dict[str, Any]], bool]:
        """One page of matching objects and ``has_more``; the cursor must be a known id.

        ``ids`` restricts the scan to a pre-indexed subset that is already in list order.
        """
        order = self.order if ids is None else ids
        position = self.position if ids is None else {object_id: index for index, object_id in enumerate(ids)}
        if ending_before is not None:
            step, start = -1, position[ending_before] - 1 if ending_before in position else self._nearest(ending_before, order, before=True)
        elif starting_after is not None:
            step, start = 1, position[starting_after] + 1 if starting_after in position else self._nearest(starting_after, order, before=False)
        else:
            step, start = 1, 0
        found: list[dict[str, Any]] = []
        index = start
        while 0 <= index < len(order) and len(found) <= limit:
            obj = self.by_id[order[index]]
            if keep(obj):
                found.append(obj)
            index += step
        has_more = len(found) > limit
        found = found[:limit]
        if step < 0:
            found.reverse()
        return found, has_more

    def _nearest(self, cursor: str, order: list[str], *, before: bool) -> int:
        """Where a cursor that is not in a filtered subset sits, by the full list's order."""
        anchor = self.position[cursor]
        for index, object_id in enumerate(order):
            if self.position[object_id] > anchor:
                return index - 1 if before else index
        return len(order) - 1 if before else len(order)


@dataclass
class Tenant:
    account: str
    keys_given: Any
    subscriptions: Collection
    invoices: Collection
    customers: Collection
    invoices_by_subscription: dict[str, list[str]]
    extra: dict[str, Any] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], Any] = field(default_factory=dict)

    @property
    def api_version(self) -> str:
        return str(self.extra.get("api_version") or objects.CURRENT_VERSION)

    @property
    def connected_accounts(self) -> frozenset[str]:
        return frozenset(str(a) for a in self.extra.get("connected_accounts") or ())

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api_keys": copy.deepcopy(self.keys_given)}
        out.update(copy.deepcopy(self.extra))
        out["customers"] = copy.deepcopy(self.customers.values())
        out["subscriptions"] = copy.deepcopy(self.subscriptions.values())
        out["invoices"] = copy.deepcopy(self.invoices.values())
        return out


def _keys(account: str, given: Any) -> list[ApiKey]:
    if isinstance(given, Mapping):
        pairs = list(given.items())
    elif isinstance(given, (list, tuple)):
        pairs = [(secret, None) for secret in given]
    else:
        raise scenario_error(f"{account}.api_keys must be a list of keys or a mapping key -> permissions")
    keys = []
    for secret, permissions in pairs:
        secret = str(secret)
        restricted = secret.startswith("rk_")
        if restricted:
            try:
                rights = normalize(permissions or ())
            except ValueError as exc:
                raise scenario_error(f"{account}.api_keys: {exc}") from None
        else:
            rights = ALL_RIGHTS
        keys.append(ApiKey(secret, account, rights, restricted))
    return keys


def build_tenant(account: str, section: Mapping[str, Any], *, now: int) -> tuple[Tenant, list[ApiKey]]:
    """A tenant from its scenario section; every object completed with the API's defaults."""
    if not isinstance(section, Mapping):
        raise scenario_error(f"account {account!r} must be a mapping")
    given_keys = section.get("api_keys", [])
    keys = _keys(account, given_keys)
    livemode = bool(keys) and all(key.livemode for key in keys)
    known = {"api_keys", "subscriptions", "invoices", "customers", "api_version", "connected_accounts"}
    unknown = sorted(set(section) - known)
    if unknown:
        raise scenario_error(f"{account} has unknown collection(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")

    customers: dict[str, dict[str, Any]] = {}
    for partial in _listed(section, "customers", account):
        customers[str(partial["id"])] = objects.build_customer(partial, now=now, livemode=livemode)
    default_customer = next(iter(customers), None) or "cus_" + account.removeprefix("acct_")

    subs: list[dict[str, Any]] = []
    for partial in _listed(section, "subscriptions", account):
        customer = str(partial.get("customer") or default_customer)
        if customer not in customers:
            customers[customer] = objects.build_customer({"id": customer}, now=now, livemode=livemode)
        subs.append(objects.build_subscription(partial, now=now, customer=customer, livemode=livemode))
    subs_by_id = {sub["id"]: sub for sub in subs}

    invoice_partials = _listed(section, "invoices", account)
    remaining: dict[str, int] = {}
    for partial in invoice_partials:
        sub_id = partial.get("subscription")
        if sub_id:
            remaining[str(sub_id)] = remaining.get(str(sub_id), 0) + 1
    invoices = []
    for partial in invoice_partials:
        sub_id = str(partial["subscription"]) if partial.get("subscription") else None
        sub = subs_by_id.get(sub_id) if sub_id else None
        if sub_id and sub is None:
            raise scenario_error(f"invoice {partial['id']} names subscription {sub_id}, which {account} does not have")
        if sub is not None:
            # Listed oldest first: the last one opened the current period, each earlier one a period before.
            remaining[sub_id] -= 1  # type: ignore[index]
            recurring = sub["items"]["data"][0]["price"].get("recurring") or {}
            created = objects.shift(objects.period_start(sub), recurring.get("interval", "month"),
                                    int(recurring.get("interval_count") or 1), -remaining[sub_id])  # type: ignore[index]
            customer = str(sub["customer"])
        else:
            created = now - objects.DAY
            customer = str(partial.get("customer") or default_customer)
        created = int(partial.get("created") or created)
        if customer not in customers:
            customers[customer] = objects.build_customer({"id": customer}, now=now, livemode=livemode)
        owner = customers[customer]
        number = str(partial.get("number") or "")
        if not number:
            sequence = int(owner.get("next_invoice_sequence") or 1)
            owner["next_invoice_sequence"] = sequence + 1
            number = f"{owner.get('invoice_prefix') or 'INV'}-{sequence:04d}"
        invoices.append(objects.build_invoice(partial, subscription=sub, customer=customer, created=created, livemode=livemode, number=number))

    invoice_collection = Collection(invoices)
    by_sub: dict[str, list[str]] = {}
    for invoice_id in invoice_collection.order:
        sub_id = invoice_collection.by_id[invoice_id].get("subscription")
        if sub_id:
            by_sub.setdefault(str(sub_id), []).append(invoice_id)
    for sub in subs:
        if sub.get("latest_invoice") is None and by_sub.get(sub["id"]):
            sub["latest_invoice"] = by_sub[sub["id"]][0]

    extra = {key: copy.deepcopy(section[key]) for key in ("api_version", "connected_accounts") if key in section}
    tenant = Tenant(
        account=account,
        keys_given=copy.deepcopy(given_keys),
        subscriptions=Collection(subs),
        invoices=invoice_collection,
        customers=Collection(customers.values()),
        invoices_by_subscription=by_sub,
        extra=extra,
    )
    return tenant, keys


def _listed(section: Mapping[str, Any], name: str, account: str) -> list[Mapping[str, Any]]:
    items = section.get(name) or []
    if not isinstance(items, list):
        raise scenario_error(f"{account}.{name} must be a list")
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, Mapping) or not item.get("id"):
            raise scenario_error(f"every object in {account}.{name} needs an id")
        if str(item["id"]) in seen:
            raise scenario_error(f"{account}.{name} lists {item['id']} twice")
        seen.add(str(item["id"]))
    return items
