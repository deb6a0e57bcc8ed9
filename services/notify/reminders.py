"""When notify reminds people of what they must still do: pure rules, no database.

Three reminders, each at most once (the schedule's unique key is (subject, kind)):

- a certification expiring: ``LARIS_REMINDER_CERTIFICATION_DAYS`` before it (60 and 14 days),
  at 09:00 WIB, to the business's owner, learnt from ``business.certification_confirmed``;
  cancelled when a later certificate of the same kind for the same business is confirmed;
- an unanswered booth offer: ``LARIS_REMINDER_OFFER_HOURS`` (12) before its hold expires, to
  the applicant, from ``expo.booth_offered``; cancelled when the application's booth is
  allocated (accepted) or released (declined, expired, withdrawn);
- an order part still unconfirmed ``LARIS_REMINDER_ORDER_HOURS`` (24) after it was placed, to
  its vendor, from ``order.placed``; cancelled when that part moves on from ``placed``.

A reminder keeps the facts its message needs (``facts``); the message's parameters are made
from them when it fires (``draft``), so "in 14 days" is counted on the day it is sent.
"""
import dataclasses
import datetime as dt

from backbone.clock import WIB
from services.notify import domain

# A certificate reminder is sent in the morning, when people deal with paperwork.
CERTIFICATION_REMINDER_TIME = dt.time(9, 0)
CERTIFICATION_EXPIRING = "certification_expiring"
BOOTH_OFFER_EXPIRING = "booth_offer_expiring"
ORDER_UNCONFIRMED = "order_unconfirmed"
# The kind of the inbox notification a reminder becomes (notifications.kind).
NOTIFICATION_KINDS = {
    CERTIFICATION_EXPIRING: "reminder.certification_expiring",
    BOOTH_OFFER_EXPIRING: "reminder.booth_offer_expiring",
    ORDER_UNCONFIRMED: "reminder.order_unconfirmed",
}


@dataclasses.dataclass(frozen=True)
class Reminder:
    """One scheduled reminder. ``subject`` names the one thing it is about (a certificate, one
    hold of a booth offer, an order part); ``topic`` what settles it (the business's
    certification of a kind, the application, the order part); ``deadline`` when reminding
    becomes pointless (the certificate expired, the hold ended), or None."""
    subject: str
    kind: str
    topic: str
    template: str
    account_id: str
    due_at: dt.datetime
    deadline: dt.datetime | None
    facts: dict
    ref: dict


def lead_days(setting):
    """``"60,14"`` -> (60, 14), most distant first."""
    return tuple(sorted({int(part) for part in setting.split(",") if part.strip()},
                        reverse=True))


# --- certifications -------------------------------------------------------------------------

def certification_topic(business_id, kind):
    return f"certification:{business_id}:{kind.lower()}"


def certification_deadline(valid_until):
    """A certificate valid until a day is valid through that day, in WIB."""
    return dt.datetime.combine(valid_until + dt.timedelta(days=1), dt.time(0), tzinfo=WIB)


def certification_due(valid_until, days):
    return dt.datetime.combine(valid_until - dt.timedelta(days=days),
                               CERTIFICATION_REMINDER_TIME, tzinfo=WIB)


def certification_reminders(payload, now, leads):
    """The reminders of a confirmed certificate: one per lead still ahead of ``now``. When
    some are already past (a certificate confirmed late in its life), only the nearest of them
    is kept, due at once: one "expires soon" message, not a burst of stale ones. None once
    the certificate has expired."""
    valid_until = payload["valid_until"]
    deadline = certification_deadline(valid_until)
    if now >= deadline:
        return []
    business = payload["business"]
    dues = [(days, certification_due(valid_until, days)) for days in leads]
    ahead = [(days, due) for days, due in dues if due > now]
    past = [(days, due) for days, due in dues if due <= now]
    kept = ahead + past[-1:]
    facts = {"business": business["name"], "kind": payload["kind"].upper(),
             "number": payload["number"], "valid_until": valid_until.isoformat()}
    return [Reminder(
        subject=f"certification:{payload['certification_id']}",
        kind=f"{CERTIFICATION_EXPIRING}_{days}d",
        topic=certification_topic(payload["business_id"], payload["kind"]),
        template=CERTIFICATION_EXPIRING, account_id=business["owner_account_id"],
        due_at=due, deadline=deadline, facts=facts,
        ref={"type": "business", "id": payload["business_id"]}) for days, due in kept]


# --- booth offers ---------------------------------------------------------------------------

def application_topic(application_id):
    return f"application:{application_id}"


def offer_reminders(payload, offered_at, lead_hours):
    """One reminder ``lead_hours`` before the hold expires; none when the hold is shorter
    than that (the offer itself is then the fresh news)."""
    expires = payload["hold_expires_at"]
    due = expires - dt.timedelta(hours=lead_hours)
    if due <= offered_at:
        return []
    return [Reminder(
        subject=f"booth-offer:{payload['application_id']}@{expires.isoformat()}",
        kind=BOOTH_OFFER_EXPIRING, topic=application_topic(payload["application_id"]),
        template=BOOTH_OFFER_EXPIRING, account_id=payload["owner_account_id"], due_at=due,
        deadline=expires,
        facts={"booth": payload["booth_code"], "expo": payload["expo_name"],
               "expires": expires.isoformat()},
        ref={"type": "application", "id": payload["application_id"]})]


# --- order parts ----------------------------------------------------------------------------

def order_part_topic(order_id, business_id):
    return f"order-part:{order_id}:{business_id}"


def order_part_reminder(order_id, part, placed_at, after_hours):
    topic = order_part_topic(order_id, part["business_id"])
    return Reminder(
        subject=topic, kind=ORDER_UNCONFIRMED, topic=topic, template=ORDER_UNCONFIRMED,
        account_id=part["account_id"], due_at=placed_at + dt.timedelta(hours=after_hours),
        deadline=None,
        facts={"order": domain.order_reference(order_id),
               "lines": domain.order_lines(part["lines"]),
               "total": domain.rupiah(part["total_idr"]), "hours": _hours(after_hours)},
        ref={"type": "order", "id": order_id})


def order_reminders(payload, placed_at, after_hours):
    return [order_part_reminder(payload["order_id"], part, placed_at, after_hours)
            for part in payload["parts"]]


def settles_order_part(payload):
    """Whether an ``order.status_changed`` settles its part's reminder: any move on from
    ``placed`` (confirmed, and also cancelled or further)."""
    return payload["to_status"] != "placed"


def _hours(hours):
    return int(hours) if float(hours).is_integer() else hours


# --- firing ---------------------------------------------------------------------------------

def lapsed(deadline, now):
    """Whether a reminder found due at ``now`` is pointless: what it is about is over."""
    return deadline is not None and now >= deadline


def draft(template, account_id, facts, ref, now):
    """The notification a reminder becomes when it fires at ``now``."""
    if template == CERTIFICATION_EXPIRING:
        valid_until = dt.date.fromisoformat(facts["valid_until"])
        days = (valid_until - now.astimezone(WIB).date()).days
        params = facts | {"valid_until": domain.wib_date(valid_until), "days": days}
    elif template == BOOTH_OFFER_EXPIRING:
        params = facts | {"expires": domain.wib_time(dt.datetime.fromisoformat(
            facts["expires"]))}
    else:
        params = facts
    return domain.Draft(account_id, template, params, ref)
