"""What a human does when SP-API refuses a cancel that only Amazon's support can carry out.

Some notification subscriptions cannot be deleted by the application (``deleteSubscriptionById``
answers 403 for them). Only Selling Partner API Developer Support can remove those; the contact
page is the one the Notifications model names in ``info.contact``.
"""

from __future__ import annotations

from providers.sdk.model import Runbook

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
