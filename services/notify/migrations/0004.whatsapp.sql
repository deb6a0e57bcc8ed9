-- depends: 0001.notify
-- WhatsApp (docs/whatsapp.md): who opted in with which number, the template message each
-- notification becomes, and the statuses the Cloud API reports back.

CREATE TABLE whatsapp_numbers (
    account_id    uuid        PRIMARY KEY,
    -- E.164 without the plus, as the Cloud API addresses it: 6281234567890.
    phone         text        NOT NULL CHECK (phone ~ '^62[0-9]{8,13}$'),
    opted_in_at   timestamptz NOT NULL DEFAULT now()
);

-- Written with the notification (its parameters exist only then): what the WhatsApp
-- channel sends for it, whenever it is sent.
CREATE TABLE whatsapp_messages (
    notification_id  uuid        PRIMARY KEY REFERENCES notifications (id),
    template         text        NOT NULL,
    language         text        NOT NULL CHECK (language IN ('id', 'en')),
    parameters       jsonb       NOT NULL
);

-- The latest status the Cloud API reported of a message we sent, by its wamid. Statuses
-- only move forward: sent < delivered < read; failed is final.
CREATE TABLE whatsapp_statuses (
    provider_id   text        PRIMARY KEY,
    status        text        NOT NULL CHECK (status IN ('sent', 'delivered', 'read', 'failed')),
    reported_at   timestamptz NOT NULL,
    error         text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
