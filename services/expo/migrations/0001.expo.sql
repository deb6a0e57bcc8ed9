-- depends: 0003.backbone-aggregate-versions
-- Expos, their booths on the floor plan, applications, allocations and holds, the history of
-- every booth's state, and the read model of businesses kept from the registry's facts.

CREATE TABLE expos (
    id                     uuid PRIMARY KEY,
    name                   text        NOT NULL,
    venue                  text        NOT NULL,
    theme                  text,
    starts_on              date        NOT NULL,
    ends_on                date        NOT NULL CHECK (ends_on >= starts_on),
    applications_open_on   date        NOT NULL,
    applications_close_on  date        NOT NULL CHECK (applications_close_on >= applications_open_on),
    -- How long a freed booth is held for the waitlisted applicant it is offered to.
    hold_hours             integer     NOT NULL DEFAULT 48 CHECK (hold_hours > 0),
    -- [{name, sectors: [...]}]: the organizer's zones; empty sectors welcome every sector.
    zones                  jsonb       NOT NULL DEFAULT '[]',
    created_by             uuid        NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX expos_listing ON expos (starts_on DESC, id DESC);

CREATE TABLE booths (
    expo_id     uuid             NOT NULL REFERENCES expos (id),
    code        text             NOT NULL,
    zone        text             NOT NULL,
    booth_type  text             NOT NULL CHECK (booth_type IN ('inline', 'corner', 'island')),
    size_m2     double precision NOT NULL CHECK (size_m2 > 0),
    price_idr   bigint           NOT NULL CHECK (price_idr > 0),
    -- The booth's rectangle on the plan, in metres from the hall's top-left corner.
    x           double precision NOT NULL CHECK (x >= 0),
    y           double precision NOT NULL CHECK (y >= 0),
    width       double precision NOT NULL CHECK (width > 0),
    height      double precision NOT NULL CHECK (height > 0),
    status      text             NOT NULL DEFAULT 'free'
                CHECK (status IN ('free', 'held', 'allocated', 'blocked')),
    created_at  timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (expo_id, code)
);

-- The registry's businesses as the expo knows them (newest fact applied, see
-- docs/messaging.md "Versioned facts"); rebuilt by python -m services.expo.rebuild_read_model.
CREATE TABLE businesses (
    id                uuid        PRIMARY KEY,
    owner_account_id  uuid        NOT NULL,
    name              text        NOT NULL,
    kind              text        NOT NULL,
    sector            text        NOT NULL,
    kecamatan         text        NOT NULL,
    status            text        NOT NULL,
    export_ready      text[]      NOT NULL DEFAULT '{}',
    certifications    jsonb       NOT NULL DEFAULT '[]',
    version           integer     NOT NULL CHECK (version >= 1),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE applications (
    id                    uuid        PRIMARY KEY,
    expo_id               uuid        NOT NULL REFERENCES expos (id),
    business_id           uuid        NOT NULL,
    applicant_account_id  uuid        NOT NULL,
    sector                text        NOT NULL,
    preferred_zones       text[]      NOT NULL DEFAULT '{}',
    booth_type            text        CHECK (booth_type IN ('inline', 'corner', 'island')),
    note                  text,
    status                text        NOT NULL DEFAULT 'submitted'
                          CHECK (status IN ('submitted', 'allocated', 'waitlisted', 'offered',
                                            'declined', 'cancelled')),
    -- The organizer marked the business's products as the city's produk unggulan.
    flagship_marked       boolean     NOT NULL DEFAULT false,
    -- The latest decision's reasons [{code, id, en}].
    reasons               jsonb       NOT NULL DEFAULT '[]',
    -- The application's aggregate version, carried by its expo.* events.
    version               integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (expo_id, business_id)
);
CREATE INDEX applications_listing ON applications (expo_id, created_at, id);
CREATE INDEX applications_by_business ON applications (business_id);

-- A booth held or allocated, for one application: the primary key and the unique keys make
-- "never for two" and "one booth per business" hold whatever the concurrency.
CREATE TABLE allocations (
    expo_id          uuid        NOT NULL,
    booth_code       text        NOT NULL,
    application_id   uuid        NOT NULL REFERENCES applications (id),
    business_id      uuid        NOT NULL,
    state            text        NOT NULL CHECK (state IN ('held', 'allocated')),
    -- Placed by an organizer's hand: a later allocation run never moves it.
    manual           boolean     NOT NULL DEFAULT false,
    hold_expires_at  timestamptz,
    reasons          jsonb       NOT NULL DEFAULT '[]',
    decided_by       uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (expo_id, booth_code),
    UNIQUE (expo_id, application_id),
    UNIQUE (expo_id, business_id),
    FOREIGN KEY (expo_id, booth_code) REFERENCES booths (expo_id, code),
    CHECK ((state = 'held') = (hold_expires_at IS NOT NULL))
);
CREATE INDEX allocations_holds_by_expiry ON allocations (hold_expires_at)
    WHERE state = 'held';

-- Every change of a booth's state: who (an account id, or the part of the system), when, why.
CREATE TABLE booth_history (
    id           bigserial   PRIMARY KEY,
    expo_id      uuid        NOT NULL,
    booth_code   text        NOT NULL,
    from_status  text        NOT NULL,
    to_status    text        NOT NULL,
    business_id  uuid,
    actor        text        NOT NULL,
    reason       text        NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (expo_id, booth_code) REFERENCES booths (expo_id, code)
);
CREATE INDEX booth_history_by_booth ON booth_history (expo_id, booth_code, at);
