"""The Stripe emulator's endpoints: subscriptions (list, retrieve, update, cancel), invoices and
customers, with the parameter checks Stripe makes. Mixed into ``StripeEmulator``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.stripe import objects
from providers.stripe.answers import _ACCEPTED, _FEEDBACK, _INVOICE_STATUSES, _NOT_EMULATED, _SUB_STATUSES, _TERMINAL
from providers.stripe.answers import ApiError as _ApiError
from providers.stripe.answers import Call as _Call
from providers.stripe.answers import missing as _missing


class Handlers:
    @staticmethod
    def _check_params(params: Mapping[str, Any], operation: str) -> None:
        for name in params:
            if name in _ACCEPTED[operation]:
                continue
            if name in _NOT_EMULATED.get(operation, ()):
                raise _ApiError(400, f"The sandbox does not emulate the parameter {name!r} of this endpoint.", param=name)
            raise _ApiError(400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name)

    @staticmethod
    def _string(params: Mapping[str, Any], name: str) -> str | None:
        value = params.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise _ApiError(400, f"Invalid string: {name}", param=name)
        return value

    @staticmethod
    def _bool(params: Mapping[str, Any], name: str) -> bool | None:
        value = params.get(name)
        if value is None:
            return None
        if value not in ("true", "false"):
            raise _ApiError(400, f"Invalid boolean: {value}", param=name)
        return bool(value == "true")

    def _limit(self, params: Mapping[str, Any]) -> int:
        raw = self._string(params, "limit")
        if raw is None:
            return 10
        try:
            limit = int(raw)
        except ValueError:
            raise _ApiError(400, f"Invalid integer: {raw}", param="limit") from None
        if limit < 1:
            raise _ApiError(400, f"This value must be greater than or equal to 1 (it currently is '{limit}').", param="limit")
        if limit > 100:
            raise _ApiError(400, f"This value must be less than or equal to 100 (it currently is '{limit}').", param="limit")
        return limit

    def _cursors(self, params: Mapping[str, Any], collection: Any, kind: str) -> tuple[str | None, str | None]:
        after, before = self._string(params, "starting_after"), self._string(params, "ending_before")
        if after is not None and before is not None:
            raise _ApiError(400, "You may only specify one of these parameters: ending_before, starting_after.", param="ending_before")
        for name, cursor in (("starting_after", after), ("ending_before", before)):
            if cursor is not None and cursor not in collection:
                raise _missing(kind, cursor, param=name)
        return after, before

    @staticmethod
    def _enum(params: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> str | None:
        value = params.get(name)
        if value is None:
            return None
        if value not in allowed:
            listed = ", ".join(allowed[:-1]) + f", or {allowed[-1]}"
            raise _ApiError(400, f"Invalid {name}: must be one of {listed}", param=name)
        return str(value)

    # -- subscriptions ------------------------------------------------------------------------

    def _settle(self, sub: dict[str, Any], now: int) -> dict[str, Any]:
        """Apply the passage of time: a scheduled cancel takes effect, periods roll over."""
        if sub["status"] in _TERMINAL:
            return sub
        cancel_at = sub.get("cancel_at")
        if cancel_at is not None and int(cancel_at) <= now:
            sub["status"] = "canceled"
            sub["ended_at"] = int(cancel_at)
            sub["canceled_at"] = sub.get("canceled_at") or int(cancel_at)
            return sub
        objects.roll_periods(sub, now)
        return sub

    def _render_sub(self, call: _Call, sub: dict[str, Any]) -> dict[str, Any]:
        self._settle(sub, call.now)
        return objects.legacy_subscription(sub) if call.legacy else sub

    def _render_invoice(self, call: _Call, invoice: dict[str, Any]) -> dict[str, Any]:
        return objects.legacy_invoice(invoice) if call.legacy else invoice

    @staticmethod
    def _list(data: list[dict[str, Any]], has_more: bool, url: str) -> dict[str, Any]:
        return {"object": "list", "data": data, "has_more": has_more, "url": url}

    def _list_subscriptions(self, call: _Call) -> tuple[int, dict[str, Any]]:
        params = call.params
        self._check_params(params, "list_subscriptions")
        limit = self._limit(params)
        status = self._enum(params, "status", _SUB_STATUSES)
        customer, price = self._string(params, "customer"), self._string(params, "price")
        collection_method = self._enum(params, "collection_method", ("charge_automatically", "send_invoice"))
        subs = call.tenant.subscriptions
        after, before = self._cursors(params, subs, "subscription")

        def keep(sub: dict[str, Any]) -> bool:
            self._settle(sub, call.now)
            state = sub["status"]
            if status is None and state == "canceled":
                return False
            if status == "ended" and state not in _TERMINAL:
                return False
            if status not in (None, "all", "ended") and state != status:
                return False
            if customer is not None and sub["customer"] != customer:
                return False
            if collection_method is not None and sub["collection_method"] != collection_method:
                return False
            return price is None or any(item["price"]["id"] == price for item in sub["items"]["data"])

        page, has_more = subs.page(keep, limit=limit, starting_after=after, ending_before=before)
        return 200, self._list([self._render_sub(call, sub) for sub in page], has_more, "/v1/subscriptions")

    def _subscription(self, call: _Call, sub_id: str) -> dict[str, Any]:
        sub = call.tenant.subscriptions.get(sub_id)
        if sub is None:
            raise _missing("subscription", sub_id)
        return self._settle(sub, call.now)

    def _retrieve_subscription(self, call: _Call, sub_id: str) -> tuple[int, dict[str, Any]]:
        self._check_params(call.params, "retrieve")
        return 200, self._render_sub(call, self._subscription(call, sub_id))

    def _update_subscription(self, call: _Call, sub_id: str) -> tuple[int, dict[str, Any]]:
        params = call.params
        self._check_params(params, "update_subscription")
        sub = self._subscription(call, sub_id)
        if sub["status"] in _TERMINAL and set(params) - {"metadata", "cancellation_details", "expand"}:
            raise _ApiError(400, "A canceled subscription can only update its cancellation_details and metadata.")
        at_period_end = self._bool(params, "cancel_at_period_end")
        cancel_at = params.get("cancel_at")
        if at_period_end is not None and cancel_at not in (None, ""):
            raise _ApiError(400, "You may only specify one of these parameters: cancel_at, cancel_at_period_end.", param="cancel_at")
        details = self._cancellation_details(params)
        metadata = self._metadata(sub, params)
        self._enum(params, "proration_behavior", ("always_invoice", "create_prorations", "none"))
        description = params.get("description")
        if description is not None and not isinstance(description, str):
            raise _ApiError(400, "Invalid string: description", param="description")
        scheduled_at = self._cancel_at(sub, cancel_at, call.now) if cancel_at is not None else None

        # Every check passed: apply.
        if metadata is not None:
            sub["metadata"] = metadata
        if description is not None:
            sub["description"] = description or None
        if at_period_end is True:
            self._schedule_cancel(sub, objects.period_end(sub), call.now)
            sub["cancel_at_period_end"] = True
        elif at_period_end is False:
            self._unschedule_cancel(sub)
        if cancel_at == "":
            self._unschedule_cancel(sub)
        elif scheduled_at is not None:
            self._schedule_cancel(sub, scheduled_at, call.now)
            sub["cancel_at_period_end"] = False
        if details is not None:
            sub["cancellation_details"] = {**(sub.get("cancellation_details") or {}), **details}
        return 200, self._render_sub(call, sub)

    def _cancel_at(self, sub: Mapping[str, Any], value: Any, now: int) -> int | None:
        if value == "":
            return None
        if value in ("min_period_end", "max_period_end"):
            ends = [int(item["current_period_end"]) for item in sub["items"]["data"]]
            return min(ends) if value == "min_period_end" else max(ends)
        try:
            stamp = int(value)
        except (TypeError, ValueError):
            raise _ApiError(400, f"Invalid integer: {value}", param="cancel_at") from None
        if stamp <= now:
            raise _ApiError(400, "cancel_at must be in the future.", param="cancel_at")
        return stamp

    @staticmethod
    def _schedule_cancel(sub: dict[str, Any], at: int, now: int) -> None:
        sub["cancel_at"] = at
        sub["canceled_at"] = now
        sub["cancellation_details"] = {**(sub.get("cancellation_details") or {}), "reason": "cancellation_requested"}

    @staticmethod
    def _unschedule_cancel(sub: dict[str, Any]) -> None:
        sub["cancel_at_period_end"] = False
        sub["cancel_at"] = None
        sub["canceled_at"] = None
        sub["cancellation_details"] = {"comment": None, "feedback": None, "reason": None}

    def _cancellation_details(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        details = params.get("cancellation_details")
        if details is None:
            return None
        if not isinstance(details, dict):
            raise _ApiError(400, "Invalid object", param="cancellation_details")
        unknown = set(details) - {"comment", "feedback"}
        if unknown:
            name = sorted(unknown)[0]
            raise _ApiError(400, f"Received unknown parameter: cancellation_details[{name}]", code="parameter_unknown", param=f"cancellation_details[{name}]")
        self._enum(details, "feedback", _FEEDBACK)
        return {key: (value or None) for key, value in details.items()}

    @staticmethod
    def _metadata(sub: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, str] | None:
        given = params.get("metadata")
        if given is None:
            return None
        if given == "":
            return {}
        if not isinstance(given, dict):
            raise _ApiError(400, "Invalid object", param="metadata")
        out = dict(sub.get("metadata") or {})
        for name, value in given.items():
            if not isinstance(value, str):
                raise _ApiError(400, f"Invalid string: metadata[{name}]", param=f"metadata[{name}]")
            if len(name) > 40:
                raise _ApiError(400, f"Metadata keys can have up to 40 characters: {name}", param=f"metadata[{name}]")
            if len(value) > 500:
                raise _ApiError(400, "Metadata values can have up to 500 characters", param=f"metadata[{name}]")
            if value == "":
                out.pop(name, None)
            else:
                out[name] = value
        if len(out) > 50:
            raise _ApiError(400, "Metadata can have up to 50 keys", param="metadata")
        return out

    def _cancel_subscription(self, call: _Call, sub_id: str) -> tuple[int, dict[str, Any]]:
        params = call.params
        self._check_params(params, "cancel_subscription")
        sub = self._subscription(call, sub_id)
        if sub["status"] in _TERMINAL:
            # Stripe treats a canceled subscription as deleted for a second cancel.
            raise _missing("subscription", sub_id)
        self._bool(params, "invoice_now")
        self._bool(params, "prorate")
        details = self._cancellation_details(params)
        sub["status"] = "canceled"
        sub["canceled_at"] = call.now
        sub["ended_at"] = call.now
        sub["cancellation_details"] = {**(sub.get("cancellation_details") or {}), **(details or {}), "reason": "cancellation_requested"}
        return 200, self._render_sub(call, sub)

    # -- invoices and customers ---------------------------------------------------------------

    def _list_invoices(self, call: _Call) -> tuple[int, dict[str, Any]]:
        params = call.params
        self._check_params(params, "list_invoices")
        limit = self._limit(params)
        status = self._enum(params, "status", _INVOICE_STATUSES)
        collection_method = self._enum(params, "collection_method", ("charge_automatically", "send_invoice"))
        sub_id, customer = self._string(params, "subscription"), self._string(params, "customer")
        invoices = call.tenant.invoices
        after, before = self._cursors(params, invoices, "invoice")

        def keep(invoice: dict[str, Any]) -> bool:
            return (
                (status is None or invoice["status"] == status)
                and (customer is None or invoice["customer"] == customer)
                and (collection_method is None or invoice["collection_method"] == collection_method)
            )

        subset = None if sub_id is None else call.tenant.invoices_by_subscription.get(sub_id, [])
        page, has_more = invoices.page(keep, limit=limit, starting_after=after, ending_before=before, ids=subset)
        return 200, self._list([self._render_invoice(call, invoice) for invoice in page], has_more, "/v1/invoices")

    def _retrieve_invoice(self, call: _Call, invoice_id: str) -> tuple[int, dict[str, Any]]:
        self._check_params(call.params, "retrieve")
        invoice = call.tenant.invoices.get(invoice_id)
        if invoice is None:
            raise _missing("invoice", invoice_id)
        return 200, self._render_invoice(call, invoice)

    def _list_customers(self, call: _Call) -> tuple[int, dict[str, Any]]:
        params = call.params
        self._check_params(params, "list_customers")
        limit = self._limit(params)
        email = self._string(params, "email")
        customers = call.tenant.customers
        after, before = self._cursors(params, customers, "customer")
        page, has_more = customers.page(
            lambda customer: email is None or customer.get("email") == email,
            limit=limit, starting_after=after, ending_before=before,
        )
        return 200, self._list(page, has_more, "/v1/customers")

    def _retrieve_customer(self, call: _Call, customer_id: str) -> tuple[int, dict[str, Any]]:
        self._check_params(call.params, "retrieve")
        customer = call.tenant.customers.get(customer_id)
        if customer is None:
            raise _missing("customer", customer_id)
        return 200, customer
