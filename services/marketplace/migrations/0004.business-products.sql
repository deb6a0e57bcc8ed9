-- depends: 0003.photos
-- A business's own list of its products, hidden ones too, newest first
-- (GET /vendors/{business_id}/products). The index's first column serves every lookup the
-- older index on business_id alone did, so that one goes.
CREATE INDEX products_of_business_newest ON products (business_id, created_at DESC, id DESC);
DROP INDEX products_by_business;
