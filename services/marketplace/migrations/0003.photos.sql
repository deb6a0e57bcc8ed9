-- depends: 0002.orders
-- Products' photos, uploaded by their vendors: kept here as the JPEG the marketplace made of
-- the upload (metadata stripped, at most 1600 px), served by the gateway at a stable URL that
-- the product's images list carries (docs/marketplace.md "Photos"). A photo never changes:
-- replacing one is deleting it and uploading another.
CREATE TABLE product_photos (
    id          uuid        PRIMARY KEY,
    product_id  uuid        NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    jpeg        bytea       NOT NULL,
    width       integer     NOT NULL CHECK (width > 0),
    height      integer     NOT NULL CHECK (height > 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX product_photos_of_product ON product_photos (product_id, created_at);
