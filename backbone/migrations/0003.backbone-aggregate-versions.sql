-- depends: 0001.backbone-outbox-inbox
-- The newest version of each aggregate a read-model handler applied ("apply if newer"), so a
-- late or redelivered older fact is skipped instead of overwriting a newer one. One row per
-- (handler, aggregate): each handler keeps its own read model. Never purged: forgetting a
-- version would let an older fact back in.

CREATE TABLE aggregate_versions (
    handler         text        NOT NULL,
    aggregate_type  text        NOT NULL,
    aggregate_id    text        NOT NULL,
    version         integer     NOT NULL CHECK (version >= 1),
    event_id        uuid        NOT NULL,
    applied_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (handler, aggregate_type, aggregate_id)
);
