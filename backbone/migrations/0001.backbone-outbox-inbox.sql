-- The transactional outbox and the consumers' inbox, in every service's own database.

CREATE TABLE outbox (
    seq           bigserial PRIMARY KEY,
    event_id      uuid        NOT NULL UNIQUE,
    event_type    text        NOT NULL,
    version       integer     NOT NULL,
    source        text        NOT NULL,
    body          jsonb       NOT NULL,
    request_id    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz,
    attempts      integer     NOT NULL DEFAULT 0,
    last_error    text
);

-- The relay only ever looks for unsent rows, in order.
CREATE INDEX outbox_unsent ON outbox (seq) WHERE published_at IS NULL;

CREATE TABLE inbox (
    event_id    uuid        NOT NULL,
    handler     text        NOT NULL,
    event_type  text        NOT NULL,
    handled_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, handler)
);
