"""What a human does when SP-API refuses a cancel that only Amazon's support can carry out.

Some notification subscriptions cannot be deleted by the application (``deleteSubscriptionById``
answers 403 for them). Only Selling Partner API Developer Support can remove those; the contact
page is the one the Notifications model names in ``info.contact``.
"""

from __future__ import annotations

from providers.sdk.model import Kind, Runbook
from providers.sdk.provider import Authority

from .operations import SELLER_CENTRAL

SUPPORT_CONTACT = "https://sellercentral.amazon.com/gp/mws/contactus.html"


def undeletable_subscription(
    *,
    account: str,
    region: str,
    notification_type: str,
    subscription_id: str,
    destination_id: str,
    vendor_message: str,
    request_id: str | None,
) -> Runbook:
    seller_central = SELLER_CENTRAL.get(region, SELLER_CENTRAL["eu"])
    rid = request_id or "n/a"
    en = (
        "Hello Selling Partner API Developer Support,\n\n"
        f"please delete the notification subscription {subscription_id} (notification type "
        f"{notification_type}, destination {destination_id}) of our application, for the selling "
        f'partner account "{account}" in the {region.upper()} region. The deleteSubscriptionById '
        f"operation answered 403 ({vendor_message}; x-amzn-RequestId {rid}), so we cannot remove "
        "it ourselves.\n\nPlease confirm when it has been deleted. Thank you."
    )
    zh = (
        "您好，Selling Partner API 开发者支持团队：\n\n"
        f"请删除我们应用的通知订阅 {subscription_id}（通知类型 {notification_type}，目标 "
        f"{destination_id}），对应卖家账户“{account}”，区域 {region.upper()}。调用 "
        f"deleteSubscriptionById 时返回 403（{vendor_message}；x-amzn-RequestId {rid}），"
        "我们无法自行删除。\n\n删除完成后请告知我们。谢谢。"
    )
    return Runbook(
        navigation=(
            f"Seller Central ({seller_central}), signed in with the developer account that owns the app",
            "Apps and Services > Develop Apps",
            f"Contact us ({SUPPORT_CONTACT})",
            "Selling Partner API > Notifications: open a case with the support message",
        ),
        support_message={"en": en, "zh": zh},
        contact=SUPPORT_CONTACT,
    )


# Sources for the authority table (docs/vendors.md).
SRC_DELETE_SUBSCRIPTION = "https://developer-docs.amazon.com/sp-api/reference/deletesubscriptionbyid"
SRC_NOTIFICATIONS_GUIDE = "https://developer-docs.amazon.com/sp-api/docs/notifications-api-v1-use-case-guide"
SRC_GRANTLESS = "https://developer-docs.amazon.com/sp-api/docs/grantless-operations"
SRC_SHIPPING = "https://github.com/amzn/selling-partner-api-models/blob/main/models/shipping-api-model/shippingV2.json"

MANAGE_YOUR_APPS = "Seller Central > Apps and Services > Manage Your Apps"


def how_to_see(application: str) -> str:
    """What a blind spot on notification subscriptions tells the user to do."""
    return (
        f"SP-API shows an application only the notification subscriptions and destinations it "
        f"created; this account sees those of {application}. Add each other application's LWA "
        f"credentials as another amazon-sp account to list its own, or end them by removing that "
        f"application's authorization: {MANAGE_YOUR_APPS}"
    )


def remove_authorization(*, account: str, region: str, what: str) -> Runbook:
    """The seller's own way to stop an application's notifications: revoke its authorization."""
    seller_central = SELLER_CENTRAL.get(region, SELLER_CENTRAL["eu"])
    return Runbook(
        navigation=(
            f"Seller Central ({seller_central}), signed in as the selling partner of {account}",
            "Apps and Services > Manage Your Apps",
            f"find the application that owns {what} and choose Remove (revokes its authorization)",
        ),
        support_message={
            "en": f"Please stop the notifications delivered by {what} for our selling account {account}.",
            "zh": f"请停止为我们的卖家账户 {account} 投递 {what} 的通知。",
        },
        contact=SUPPORT_CONTACT,
    )


AUTHORITY: tuple[Authority, ...] = (
    Authority(
        resource="carrierAccounts",
        kind=Kind.CARRIER,
        who_sees="the selling partner's carrier accounts, through any application it authorized "
        "with the shipping role (getCarrierAccounts)",
        who_cancels="any such application (unlinkCarrierAccount)",
        otherwise="Seller Central: the carrier account settings of Buy Shipping",
        source=SRC_SHIPPING,
    ),
    Authority(
        resource="subscriptions",
        kind=Kind.WEBHOOK,
        who_sees="only the application that created them (getSubscription, with the selling "
        "partner's authorization of that application)",
        who_cancels="that application (deleteSubscriptionById, grantless): any subscription "
        "associated with your application",
        otherwise=f"remove the owning application's authorization: {MANAGE_YOUR_APPS}",
        source=SRC_DELETE_SUBSCRIPTION,
    ),
    Authority(
        resource="destinations",
        kind=Kind.WEBHOOK,
        who_sees="only the application that created them (getDestinations, grantless)",
        who_cancels="that application (deleteDestination, grantless), once no subscription "
        "delivers to it",
        otherwise="the owning application's developer; they hold no seller data themselves",
        source=SRC_GRANTLESS,
    ),
)
