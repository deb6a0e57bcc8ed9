-- depends: 0001.backbone-outbox-inbox
-- Idempotency-Key: the response a write gave, so a retry with the same key and body gets it
-- again instead of a second effect.

CREATE TABLE idempotency_keys (
    scope        text        NOT NULL,
    key          text        NOT NULL,
    fingerprint  text        NOT NULL,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
