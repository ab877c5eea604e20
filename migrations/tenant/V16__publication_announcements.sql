-- The catalog announces each scheduled edge of a product's publication window once:
-- `ProductPublished` when `publish_at` passes, `ProductUnpublished` when `unpublish_at` passes.
-- These columns hold the edge last announced, written in the transaction that publishes the event,
-- so a sweep that runs twice (or two sweeps at once) announces nothing twice, and moving an edge
-- makes the new one due.
ALTER TABLE products
    ADD COLUMN announced_publish_at timestamptz,
    ADD COLUMN announced_unpublish_at timestamptz;

-- Edges already behind us when this migration runs are history, not news.
UPDATE products SET announced_publish_at = publish_at WHERE publish_at <= now();
UPDATE products SET announced_unpublish_at = unpublish_at WHERE unpublish_at <= now();

-- The sweep looks only at edges not yet announced: a few rows, whatever the catalog's size.
CREATE INDEX products_publish_due ON products (publish_at)
    WHERE deleted_at IS NULL AND publish_at IS DISTINCT FROM announced_publish_at;
CREATE INDEX products_unpublish_due ON products (unpublish_at)
    WHERE deleted_at IS NULL AND unpublish_at IS DISTINCT FROM announced_unpublish_at;
