-- depends: 0003.backbone-aggregate-versions
-- The catalogue: the read model of businesses kept from the registry's facts, and products
-- with the columns and indexes that Indonesian search needs (docs/marketplace.md).

-- Trigram similarity finds spelling variants and typos (kripik / keripik) that the
-- indonesian stemmer keeps apart.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The registry's businesses as the marketplace knows them (newest fact applied, see
-- docs/messaging.md "Versioned facts"); rebuilt by
-- python -m services.marketplace.rebuild_read_model.
CREATE TABLE businesses (
    id                uuid        PRIMARY KEY,
    owner_account_id  uuid        NOT NULL,
    name              text        NOT NULL,
    kind              text        NOT NULL,
    sector            text        NOT NULL,
    kecamatan         text        NOT NULL,
    status            text        NOT NULL,
    export_ready      text[]      NOT NULL DEFAULT '{}',
    -- Ready for at least one foreign market (domain.export_ready_badge): a filter and a badge.
    export_ready_badge boolean    NOT NULL DEFAULT false,
    version           integer     NOT NULL CHECK (version >= 1),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Only a verified business's products are on show: the listing joins on this.
CREATE INDEX businesses_verified ON businesses (id) WHERE status = 'verified';

CREATE TABLE products (
    id              uuid        PRIMARY KEY,
    business_id     uuid        NOT NULL,
    name            text        NOT NULL,
    description     text        NOT NULL DEFAULT '',
    category        text        NOT NULL,
    price_idr       bigint      NOT NULL CHECK (price_idr > 0),
    stock           integer     NOT NULL CHECK (stock >= 0),
    unit            text        NOT NULL,
    images          text[]      NOT NULL DEFAULT '{}',
    hidden          boolean     NOT NULL DEFAULT false,
    hidden_reason   text,
    hidden_by       uuid,
    featured        boolean     NOT NULL DEFAULT false,
    version         integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- The name weighs more than the description, so an exact name match ranks above a
    -- description that mentions the same words.
    search_document tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('indonesian', name), 'A') ||
        setweight(to_tsvector('indonesian', description), 'C')) STORED,
    CHECK (hidden OR hidden_reason IS NULL)
);

CREATE INDEX products_by_business ON products (business_id);
CREATE INDEX products_search_document ON products USING gin (search_document);
CREATE INDEX products_name_trigrams ON products USING gin (lower(name) gin_trgm_ops);
-- The listing's orders without a query (newest, by price), tie-broken by id.
CREATE INDEX products_newest ON products (created_at DESC, id DESC) WHERE NOT hidden;
CREATE INDEX products_by_price ON products (price_idr, id) WHERE NOT hidden;
CREATE INDEX products_featured ON products (created_at DESC, id DESC)
    WHERE featured AND NOT hidden;
