-- depends: 0001.probe
-- A read model of businesses fed by versioned facts (apply if newer), when each effect was
-- applied (the benchmark's latency), and how the probe is told to fail.
CREATE TABLE probe_businesses (
    business_id  text PRIMARY KEY,
    name         text    NOT NULL,
    status       text    NOT NULL,
    version      integer NOT NULL,
    -- How many facts were applied to this row: older facts must not count.
    applied      integer NOT NULL DEFAULT 1
);
ALTER TABLE probe_effects ADD COLUMN applied_at timestamptz NOT NULL DEFAULT clock_timestamp();
-- "error": a plain exception; "data": a data error (SQLSTATE 22P02); "timeout": a statement
-- timeout (57014), which psycopg2 raises as an OperationalError.
ALTER TABLE probe_failures ADD COLUMN mode text NOT NULL DEFAULT 'error';
