-- The storefront cache keeps no entry past the next scheduled publication or withdrawal; finding
-- that instant is a look at the first entry of each index.
CREATE INDEX products_publish_at ON products (publish_at) WHERE deleted_at IS NULL AND publish_at IS NOT NULL;
CREATE INDEX products_unpublish_at ON products (unpublish_at) WHERE deleted_at IS NULL AND unpublish_at IS NOT NULL;
