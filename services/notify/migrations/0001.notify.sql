-- depends: 0003.backbone-aggregate-versions
-- The read models notify keeps (accounts and business owners, newest fact applied, see
-- docs/messaging.md "Versioned facts") and the notifications themselves.

CREATE TABLE accounts (
    id          uuid        PRIMARY KEY,
    email       text        NOT NULL,
    name        text        NOT NULL,
    phone       text,
    locale      text        NOT NULL DEFAULT 'id',
    role        text        NOT NULL,
    version     integer     NOT NULL CHECK (version >= 1),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE businesses (
    id                uuid        PRIMARY KEY,
    owner_account_id  uuid        NOT NULL,
    name              text        NOT NULL,
    status            text        NOT NULL,
    version           integer     NOT NULL CHECK (version >= 1),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notifications (
    id          uuid        PRIMARY KEY,
    account_id  uuid        NOT NULL,
    -- The event type that caused it (order.placed, business.verified...).
    kind        text        NOT NULL,
    subject     text        NOT NULL,
    body        text        NOT NULL,
    -- What it is about: {"type": "order", "id": "..."}.
    ref         jsonb       NOT NULL,
    event_id    uuid        NOT NULL,
    channel     text        NOT NULL CHECK (channel IN ('inbox')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz,
    -- Exactly one notification per (event, recipient, channel), whatever redelivers the
    -- event or however many consumers race on it.
    CONSTRAINT one_per_event_recipient_channel UNIQUE (event_id, account_id, channel)
);
CREATE INDEX notifications_inbox ON notifications (account_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread ON notifications (account_id) WHERE read_at IS NULL;
