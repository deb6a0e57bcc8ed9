"""What notify consumes; it publishes nothing yet.

Read models (apply if newer): account.created and account.updated (e-mail, name, phone,
locale, role) and every business.* fact (the business's owner and name). Turned into
notifications (apply once, one per event, recipient and channel): the events of
``NOTIFIED`` below, by the rules of ``domain.drafts_for``.
"""

ACCOUNT_FACTS = ("account.created", "account.updated")
NOTIFIED = {
    "registry": ("business.verified", "business.rejected", "business.certification_confirmed",
                 "business.certification_refused"),
    "expo": ("expo.booth_allocated", "expo.application_waitlisted", "expo.booth_offered",
             "expo.booth_released"),
    "marketplace": ("order.placed", "order.status_changed", "order.part_paid", "product.hidden",
                    "stock.depleted"),
}
