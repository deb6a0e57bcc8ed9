-- depends: 0001.backbone-outbox-inbox
-- Accounts, businesses (koperasi and UMKM), their verification history and certifications.

CREATE TABLE accounts (
    id             uuid PRIMARY KEY,
    email          text        NOT NULL UNIQUE CHECK (email = lower(email)),
    password_hash  text        NOT NULL,
    name           text        NOT NULL,
    role           text        NOT NULL CHECK (role IN ('admin', 'organizer', 'vendor', 'buyer')),
    phone          text,
    locale         text        NOT NULL DEFAULT 'id',
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE login_failures (
    id         bigserial PRIMARY KEY,
    email      text        NOT NULL,
    client     text,
    failed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_by_email ON login_failures (email, failed_at);
CREATE INDEX login_failures_by_client ON login_failures (client, failed_at);

CREATE TABLE businesses (
    id                uuid PRIMARY KEY,
    owner_account_id  uuid        NOT NULL REFERENCES accounts (id),
    name              text        NOT NULL,
    kind              text        NOT NULL CHECK (kind IN ('koperasi', 'umkm')),
    kecamatan         text        NOT NULL
                      CHECK (kecamatan IN ('klojen', 'blimbing', 'kedungkandang', 'sukun', 'lowokwaru')),
    address           text        NOT NULL,
    phone             text        NOT NULL,
    email             text        NOT NULL,
    sector            text        NOT NULL,
    nib               text        UNIQUE CHECK (nib ~ '^[0-9]{13}$'),
    nik_koperasi      text        UNIQUE CHECK (nik_koperasi ~ '^[0-9]{16}$'),
    cooperative_type  text,
    packaging         text[]      NOT NULL DEFAULT '{}',
    status            text        NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'verified', 'rejected')),
    -- The last readiness announced in business.export_readiness_changed, to detect a change.
    readiness         jsonb       NOT NULL DEFAULT '{"export_ready": [], "markets": []}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (kind = 'koperasi' OR (cooperative_type IS NULL AND nik_koperasi IS NULL)),
    CHECK (kind = 'umkm' OR cooperative_type IS NOT NULL)
);
CREATE INDEX businesses_by_owner ON businesses (owner_account_id);
CREATE INDEX businesses_listing ON businesses (created_at DESC, id DESC);
CREATE INDEX businesses_by_status ON businesses (status, created_at DESC, id DESC);

CREATE TABLE verification_decisions (
    id           bigserial PRIMARY KEY,
    business_id  uuid        NOT NULL REFERENCES businesses (id),
    from_status  text        NOT NULL,
    to_status    text        NOT NULL,
    note         text,
    decided_by   uuid        NOT NULL REFERENCES accounts (id),
    decided_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX verification_decisions_by_business ON verification_decisions (business_id, id);

CREATE TABLE certifications (
    id           uuid PRIMARY KEY,
    business_id  uuid        NOT NULL REFERENCES businesses (id),
    kind         text        NOT NULL,
    number       text        NOT NULL,
    valid_until  date        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (business_id, kind, number)
);
