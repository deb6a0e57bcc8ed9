-- depends: 0001.catalogue
-- Orders: one part per selling business, lines at the price fixed when the order was placed,
-- every change of a part kept as history, payments, the deadlines of prepaid parts and the
-- vendors' static QRIS payloads (docs/orders.md).

CREATE TABLE orders (
    id                uuid        PRIMARY KEY,
    buyer_account_id  uuid        NOT NULL,
    payment_method    text        NOT NULL CHECK (payment_method IN ('qris', 'transfer', 'cod')),
    -- {name, phone, address}: where the vendors send their parts.
    shipping          jsonb       NOT NULL,
    total_idr         bigint      NOT NULL CHECK (total_idr >= 0),
    -- The order's aggregate version: one more with every change of any of its parts.
    version           integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_of_buyer ON orders (buyer_account_id, created_at DESC, id DESC);

CREATE TABLE order_parts (
    id                 uuid        PRIMARY KEY,
    order_id           uuid        NOT NULL REFERENCES orders (id),
    business_id        uuid        NOT NULL,
    -- The business owner's account when the order was placed: who sees and moves this part.
    vendor_account_id  uuid        NOT NULL,
    business_name      text        NOT NULL,
    status             text        NOT NULL DEFAULT 'placed' CHECK (status IN
                           ('placed', 'confirmed', 'shipped', 'received', 'cancelled')),
    payment_method     text        NOT NULL CHECK (payment_method IN ('qris', 'transfer', 'cod')),
    total_idr          bigint      NOT NULL CHECK (total_idr >= 0),
    -- A prepaid part (qris, transfer) not paid by then is cancelled by the service's timer;
    -- being a column, the timer's state outlives restarts. Null for cash on delivery.
    payment_due_at     timestamptz,
    paid_at            timestamptz,
    -- Set by the one cancel that puts the part's stock back: a second one finds it set.
    stock_returned_at  timestamptz,
    -- Copied from its order, so a vendor's listing needs no join to sort.
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, business_id)
);
CREATE INDEX order_parts_of_order ON order_parts (order_id);
CREATE INDEX order_parts_of_vendor ON order_parts (vendor_account_id, created_at DESC, order_id DESC);
-- What the timer looks for: placed prepaid parts still unpaid, soonest deadline first.
CREATE INDEX order_parts_unpaid ON order_parts (payment_due_at)
    WHERE status = 'placed' AND paid_at IS NULL AND payment_due_at IS NOT NULL;

CREATE TABLE order_lines (
    part_id         uuid    NOT NULL REFERENCES order_parts (id),
    product_id      uuid    NOT NULL,
    -- The product's name and price as they were when ordered: later changes never touch them.
    name            text    NOT NULL,
    quantity        integer NOT NULL CHECK (quantity > 0),
    unit_price_idr  bigint  NOT NULL CHECK (unit_price_idr >= 0),
    line_total_idr  bigint  NOT NULL CHECK (line_total_idr = quantity * unit_price_idr),
    position        integer NOT NULL,
    PRIMARY KEY (part_id, product_id)
);

-- Every change of a part: its status moves, and its payment.
CREATE TABLE order_part_history (
    id           bigserial   PRIMARY KEY,
    part_id      uuid        NOT NULL REFERENCES order_parts (id),
    kind         text        NOT NULL CHECK (kind IN ('status', 'payment')),
    from_status  text,
    to_status    text        NOT NULL,
    -- buyer, vendor or timer; the account when a person did it.
    actor        text        NOT NULL CHECK (actor IN ('buyer', 'vendor', 'timer')),
    actor_account_id uuid,
    note         text,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_part_history_of_part ON order_part_history (part_id, id);

CREATE TABLE order_payments (
    part_id      uuid        PRIMARY KEY REFERENCES order_parts (id),
    method       text        NOT NULL CHECK (method IN ('qris', 'transfer', 'cod')),
    amount_idr   bigint      NOT NULL CHECK (amount_idr >= 0),
    reference    text,
    recorded_by  uuid        NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);

-- A vendor's static merchant QRIS, as printed at its stall; each part's dynamic QRIS is made
-- from it for the part's exact amount.
CREATE TABLE vendor_qris (
    business_id    uuid        PRIMARY KEY,
    payload        text        NOT NULL,
    merchant_name  text        NOT NULL,
    merchant_city  text        NOT NULL,
    updated_by     uuid        NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
