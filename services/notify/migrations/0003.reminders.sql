-- depends: 0001.notify
-- Reminders (services/notify/reminders.py): each is a row with its due time, so a restart
-- loses none, and the unique (subject, kind) lets each fire once whatever redelivers the
-- event that scheduled it or however many notify copies sweep at once.

CREATE TABLE reminders (
    id          uuid        PRIMARY KEY,
    -- The one thing it is about: 'certification:<certification id>',
    -- 'booth-offer:<application id>@<hold expiry>', 'order-part:<order id>:<business id>'.
    subject     text        NOT NULL,
    -- certification_expiring_60d, certification_expiring_14d, booth_offer_expiring,
    -- order_unconfirmed.
    kind        text        NOT NULL,
    -- What settles it: 'certification:<business id>:<kind>' (a later certificate),
    -- 'application:<id>' (the offer answered or released), 'order-part:...' (confirmed).
    topic       text        NOT NULL,
    -- The notification template it becomes, and its recipient.
    template    text        NOT NULL,
    account_id  uuid        NOT NULL,
    due_at      timestamptz NOT NULL,
    -- When reminding becomes pointless (the certificate expired, the hold ended); NULL: never.
    deadline    timestamptz,
    -- What its message says, kept from the event (the parameters are made when it fires).
    facts       jsonb       NOT NULL,
    ref         jsonb       NOT NULL,
    -- pending: waits for due_at; sent: its notification is written; cancelled: settled
    -- first (or settled before its event arrived); lapsed: found due after its deadline.
    state       text        NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sent', 'cancelled', 'lapsed')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT one_reminder_per_subject_kind UNIQUE (subject, kind)
);
-- What the timer looks for: due pending rows, oldest first.
CREATE INDEX reminders_due ON reminders (due_at) WHERE state = 'pending';
CREATE INDEX reminders_by_topic ON reminders (topic, deadline);
