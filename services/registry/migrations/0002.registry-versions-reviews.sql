-- depends: 0001.registry-accounts-businesses
-- Versions for businesses (the ETag, and the aggregate version every business.* fact
-- carries), what a verification decision approved, and the city's review of certifications.

ALTER TABLE businesses ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1);

-- The business version the organizer decided on, and the identity fields as they were then.
ALTER TABLE verification_decisions
    ADD COLUMN business_version integer,
    ADD COLUMN identity jsonb;

-- A certification is claimed by its owner and counts only once an organizer confirmed it.
ALTER TABLE certifications
    ADD COLUMN status text NOT NULL DEFAULT 'claimed'
        CHECK (status IN ('claimed', 'confirmed', 'refused')),
    ADD COLUMN review_note text,
    ADD COLUMN reviewed_by uuid REFERENCES accounts (id),
    ADD COLUMN reviewed_at timestamptz;

-- The same certificate number claimed by two businesses is shown to organizers.
CREATE INDEX certifications_by_number ON certifications (kind, number);
