"""Who sees and cancels what at eBay, with the page of eBay's documentation that says so, and the
runbook for what a credential cannot end itself.

- Fulfillment (business) policies are the seller's: getFulfillmentPolicies retrieves "all the
  fulfillment policies configured for the marketplace", with the sell.account (or
  sell.account.readonly) scope, whichever application the seller authorized.
- Notification subscriptions belong to an application: "Each application and topic-schema
  pairing to a subscription should have a 1:1 cardinality" (createSubscription), and
  getSubscriptions "allows applications to retrieve a list of all subscriptions", which are the
  calling application's. Another application's are neither listed nor deletable; the seller ends
  them by revoking that application's access.
"""

from __future__ import annotations

from providers.sdk import Authority, Kind, LiveBinding, Runbook

SRC_POLICIES = "https://developer.ebay.com/api-docs/sell/account/resources/fulfillment_policy/methods/getFulfillmentPolicy"
SRC_CREATE_SUBSCRIPTION = "https://developer.ebay.com/api-docs/commerce/notification/resources/subscription/methods/createSubscription"
SRC_DELETE_SUBSCRIPTION = "https://developer.ebay.com/api-docs/commerce/notification/resources/subscription/methods/deleteSubscription"

PERMISSIONS = "My eBay > Account > Permissions (Third-party app access)"

AUTHORITY: tuple[Authority, ...] = (
    Authority(
        resource="fulfillment_policy",
        kind=Kind.CARRIER,
        who_sees="the seller's policies per marketplace, to any application with sell.account "
        "or sell.account.readonly",
        who_cancels="any application with sell.account (deleteFulfillmentPolicy); a default "
        "policy must stop being the default first",
        otherwise="Seller Hub > Account > Business policies",
        source=SRC_POLICIES,
    ),
    Authority(
        resource="subscription",
        kind=Kind.WEBHOOK,
        who_sees="only the application that created them (one subscription per application, "
        "topic and schema)",
        who_cancels="that application (deleteSubscription, commerce.notification.subscription)",
        otherwise=f"revoke the owning application's access: {PERMISSIONS}",
        source=SRC_CREATE_SUBSCRIPTION,
    ),
)


def how_to_see(application: str) -> str:
    return (
        f"eBay shows an application only the notification subscriptions it created; this "
        f"account sees those of {application}. Add each other application's token as another "
        f"ebay account to list its own, or end them by revoking that application's access: "
        f"{PERMISSIONS}"
    )


def runbook(binding: LiveBinding, *, account: str) -> Runbook:
    owner = binding.app or "the application that created it"
    return Runbook(
        navigation=(
            "My eBay (signed in as the seller)",
            "Account > Permissions",
            f"Third-party app access: find {owner} and revoke its access",
        ),
        support_message={
            "en": f"Please delete the notification subscription {binding.id} ({binding.name}) your "
            f"application holds for our eBay account {account}.",
            "zh": f"请删除贵方应用为我们的 eBay 账户 {account} 保留的通知订阅 {binding.id}（{binding.name}）。",
        },
    )
