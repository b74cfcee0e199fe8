"""The rights tether reasons about for Stripe, and Stripe's own names for them.

Stripe secret keys (``sk_``) can do everything on their account. Restricted keys (``rk_``) carry
permissions chosen in the Dashboard (``rak_subscription_write`` ...), which the API never reports.
Both the client (``options.key_permissions``) and the emulator (a scenario's ``api_keys``) accept
either spelling, so a user can paste what the Dashboard shows.
"""

from __future__ import annotations

from collections.abc import Iterable

SUBSCRIPTIONS_READ = "subscriptions:read"
SUBSCRIPTIONS_WRITE = "subscriptions:write"
INVOICES_READ = "invoices:read"
INVOICES_WRITE = "invoices:write"
CUSTOMERS_READ = "customers:read"
CUSTOMERS_WRITE = "customers:write"

ALL_RIGHTS = frozenset({SUBSCRIPTIONS_READ, SUBSCRIPTIONS_WRITE, INVOICES_READ, INVOICES_WRITE, CUSTOMERS_READ, CUSTOMERS_WRITE})

STRIPE_NAMES = {
    SUBSCRIPTIONS_READ: "rak_subscription_read",
    SUBSCRIPTIONS_WRITE: "rak_subscription_write",
    INVOICES_READ: "rak_invoice_read",
    INVOICES_WRITE: "rak_invoice_write",
    CUSTOMERS_READ: "rak_customer_read",
    CUSTOMERS_WRITE: "rak_customer_write",
}
_FROM_STRIPE = {stripe: ours for ours, stripe in STRIPE_NAMES.items()}


def normalize(names: Iterable[str]) -> frozenset[str]:
    """tether rights for a list in either spelling; write implies read, as in the Dashboard.

    Raises ValueError naming the first permission it does not know.
    """
    out: set[str] = set()
    for raw in names:
        name = str(raw).strip()
        right = name if name in ALL_RIGHTS else _FROM_STRIPE.get(name)
        if right is None:
            known = ", ".join(sorted(ALL_RIGHTS | set(_FROM_STRIPE)))
            raise ValueError(f"unknown Stripe permission {name!r} (known: {known})")
        out.add(right)
        if right.endswith(":write"):
            out.add(right.replace(":write", ":read"))
    return frozenset(out)
