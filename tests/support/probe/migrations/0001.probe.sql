-- depends: 0001.backbone-outbox-inbox
CREATE TABLE probe_effects (
    event_id    uuid PRIMARY KEY,
    event_type  text    NOT NULL,
    subject_id  text,
    request_id  text,
    -- 1 when the effect happened once; more would mean the inbox let a duplicate through.
    applied     integer NOT NULL DEFAULT 1
);
CREATE TABLE probe_failures (subject_id text PRIMARY KEY);
