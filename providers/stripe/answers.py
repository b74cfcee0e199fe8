"""What the Stripe emulator answers with: Stripe's error object, the call being served, the
parameters each emulated endpoint accepts, and which ``Stripe-Version`` values exist (shared by
``emulator`` and ``handlers``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from providers.stripe import objects
from providers.stripe.store import ApiKey, Tenant

_TERMINAL = frozenset({"canceled", "incomplete_expired"})
_SUB_STATUSES = ("active", "all", "canceled", "ended", "incomplete", "incomplete_expired", "past_due", "paused", "trialing", "unpaid")
_INVOICE_STATUSES = ("draft", "open", "paid", "uncollectible", "void")
_FEEDBACK = ("", "customer_service", "low_quality", "missing_features", "other", "switched_service", "too_complex", "too_expensive", "unused")

# Parameters Stripe's spec defines for these endpoints that the sandbox does not model.
_NOT_EMULATED = {
    "list_subscriptions": {"automatic_tax", "created", "current_period_end", "current_period_start", "test_clock"},
    "update_subscription": {
        "add_invoice_items", "application_fee_percent", "automatic_tax", "billing_cycle_anchor", "billing_thresholds",
        "collection_method", "coupon", "days_until_due", "default_payment_method", "default_source", "default_tax_rates",
        "items", "off_session", "on_behalf_of", "pause_collection", "payment_behavior", "payment_settings",
        "pending_invoice_item_interval", "promotion_code", "proration_date", "transfer_data", "trial_end",
        "trial_from_plan", "trial_settings", "discounts", "invoice_settings", "billing_mode",
    },
    "list_invoices": {"created", "due_date", "test_clock"},
    "list_customers": {"created", "test_clock"},
}
_ACCEPTED = {
    "list_subscriptions": {"limit", "starting_after", "ending_before", "status", "customer", "price", "collection_method", "expand"},
    "retrieve": {"expand"},
    "update_subscription": {"cancel_at_period_end", "cancel_at", "cancellation_details", "metadata", "description", "expand", "proration_behavior"},
    "cancel_subscription": {"invoice_now", "prorate", "cancellation_details", "expand"},
    "list_invoices": {"limit", "starting_after", "ending_before", "subscription", "customer", "status", "collection_method", "expand"},
    "list_customers": {"limit", "starting_after", "ending_before", "email", "expand"},
}


class ApiError(Exception):
    """A Stripe error response: status, ``error`` object, extra headers."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error: dict[str, Any] = {"type": error_type, "message": message}
        if code:
            self.error["code"] = code
            self.error["doc_url"] = "https://stripe.com/docs/error-codes/" + code.replace("_", "-")
        if param:
            self.error["param"] = param
        self.headers = dict(headers or {})


def missing(kind: str, object_id: str, param: str = "id") -> ApiError:
    return ApiError(404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


@dataclass
class Call:
    """What one request needs to be answered."""

    key: ApiKey
    tenant: Tenant
    version: str
    params: dict[str, Any]
    request_id: str
    now: int

    @property
    def legacy(self) -> bool:
        return objects.is_legacy(self.version)
