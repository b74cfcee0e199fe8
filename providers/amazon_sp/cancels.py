"""What SP-API's answer to a cancel means: unlinked, deleted, already gone, blocked, or a manual
step (a subscription type the application may not delete: Selling Partner API support removes
it). A lost answer never reaches here: it propagates as ``ResponseLostError`` and apply settles it
by reading the binding back."""

from __future__ import annotations

import httpx

from providers.sdk import CancelOutcome, CancelStatus, LiveBinding, ProviderError

from . import runbooks
from .responses import describe_sp_error, json_object


def unlinked(response: httpx.Response, *, account: str, binding: LiveBinding) -> CancelOutcome:
    request_id = response.headers.get("x-amzn-RequestId")
    if response.status_code == 404:
        return CancelOutcome(CancelStatus.ALREADY_GONE, request_id=request_id)
    if json_object(response).get("isUnlinked") is True:
        return CancelOutcome(CancelStatus.DONE, request_id=request_id)
    raise ProviderError(
        f"amazon-sp {account}: unlinkCarrierAccount for {binding.id} did not report "
        f"isUnlinked=true ({response.text[:200]})",
        status=response.status_code,
        request_id=request_id,
    )


def subscription_deleted(
    response: httpx.Response, *, account: str, region: str, binding: LiveBinding
) -> CancelOutcome:
    request_id = response.headers.get("x-amzn-RequestId")
    status = response.status_code
    if status == 404:
        return CancelOutcome(CancelStatus.ALREADY_GONE, request_id=request_id)
    if status == 403:
        reason = describe_sp_error(response)
        return CancelOutcome(
            CancelStatus.MANUAL,
            detail=f"Amazon refused to delete this {binding.name} subscription ({reason}); "
            "Selling Partner API support must remove it",
            request_id=request_id,
            runbook=runbooks.undeletable_subscription(
                account=account,
                region=region,
                notification_type=binding.name,
                subscription_id=binding.id,
                destination_id=str(binding.raw.get("destinationId", "")),
                vendor_message=reason,
                request_id=request_id,
            ),
        )
    if status == 409:
        return CancelOutcome(CancelStatus.BLOCKED, detail=describe_sp_error(response), request_id=request_id)
    return CancelOutcome(CancelStatus.DONE, request_id=request_id)


def destination_deleted(response: httpx.Response, *, binding: LiveBinding) -> CancelOutcome:
    request_id = response.headers.get("x-amzn-RequestId")
    if response.status_code == 404:
        return CancelOutcome(CancelStatus.ALREADY_GONE, request_id=request_id)
    if response.status_code == 409:
        return CancelOutcome(
            CancelStatus.BLOCKED,
            detail=f"Amazon keeps destination {binding.name!r} while subscriptions deliver to it "
            f"({describe_sp_error(response)}); cancel those subscriptions first",
            request_id=request_id,
        )
    return CancelOutcome(CancelStatus.DONE, request_id=request_id)
