-- depends: 0001.notify
-- Outbound deliveries of notifications (e-mail, webhooks, later WhatsApp), the webhooks
-- vendors register, and each account's preferences. The state of every send lives here and
-- nowhere else, so a restarted (or second) notify picks up where the first left off.

CREATE TABLE webhooks (
    id          uuid        PRIMARY KEY,
    account_id  uuid        NOT NULL,
    url         text        NOT NULL,
    -- The event kinds it wants (order.placed, ...).
    events      text[]      NOT NULL CHECK (cardinality(events) >= 1),
    -- "whsec_" + base64 of the HMAC key: shown to its owner once, kept to sign with.
    secret      text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_of_account ON webhooks (account_id, created_at DESC, id DESC);

CREATE TABLE deliveries (
    id               uuid        PRIMARY KEY,
    notification_id  uuid        NOT NULL REFERENCES notifications (id),
    account_id       uuid        NOT NULL,
    channel          text        NOT NULL CHECK (channel IN ('email', 'webhook', 'whatsapp')),
    -- Which of the recipient's destinations on that channel: the webhook's id; '' where a
    -- channel has one address per account (resolved when sent, never copied here, so a
    -- changed e-mail address is the one used).
    destination      text        NOT NULL DEFAULT '',
    -- pending: waits for next_attempt_at; sending: claimed by a worker until lease_until;
    -- sent; failed: dead-lettered after the last try (or a refusal not worth retrying);
    -- cancelled: its destination was removed before it went.
    status           text        NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
    attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    -- A claim: whoever holds claim_id may record the outcome until lease_until; after it, a
    -- killed worker's claim is taken again.
    claim_id         uuid,
    lease_until      timestamptz,
    last_error       text,
    provider_id      text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    -- Exactly one delivery per (notification, channel, destination): a notification is one
    -- per (event, recipient), so this is one send per (event, recipient, channel, webhook).
    CONSTRAINT one_per_notification_channel_destination
        UNIQUE (notification_id, channel, destination)
);
-- What the workers look for: due work, oldest first.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at)
    WHERE status IN ('pending', 'sending');
CREATE INDEX deliveries_by_status ON deliveries (status, created_at DESC, id DESC);

CREATE TABLE preferences (
    account_id        uuid        PRIMARY KEY,
    -- {"order.placed": ["email", "webhook"], ...}: the channels wanted per kind; a kind not
    -- named gets every channel. The inbox is always on and never listed.
    channels          jsonb       NOT NULL DEFAULT '{}',
    -- Quiet hours in WIB (e.g. 21:00 to 07:00, across midnight): WhatsApp waits until they
    -- end; the inbox and e-mail go at once. Both NULL: no quiet hours.
    quiet_start       time,
    quiet_end         time,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);
