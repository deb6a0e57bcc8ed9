-- depends: 0002.registry-versions-reviews
-- Accounts get the aggregate version their account.* facts carry and a token version that
-- invalidates older tokens; failed log-ins are throttled per (e-mail, client) pair; sign-ups
-- are counted per client.

ALTER TABLE accounts
    ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    ADD COLUMN token_version integer NOT NULL DEFAULT 1 CHECK (token_version >= 1);

-- One row per (e-mail, client) that failed recently: its row lock makes the check and the
-- count of one attempt atomic, so parallel guesses are counted one by one.
DROP TABLE login_failures;
CREATE TABLE login_throttle (
    email            text        NOT NULL,
    client           text        NOT NULL,
    failures         integer     NOT NULL DEFAULT 0,
    last_failure_at  timestamptz,
    blocked_until    timestamptz,
    PRIMARY KEY (email, client)
);
CREATE INDEX login_throttle_by_last_failure ON login_throttle (last_failure_at);

-- Sign-ups per client in a fixed one-hour window.
CREATE TABLE signup_throttle (
    client            text        PRIMARY KEY,
    window_started_at timestamptz NOT NULL,
    signups           integer     NOT NULL
);
