-- What shoppers are told about a variant's stock, as the inventory module last announced it
-- (its `inventory.availability.changed` event). A variant without a row, or with no status, is
-- not counted: always sellable, no label. The catalog only stores and filters by it; the inventory module decides.

CREATE TABLE variant_availability (
    variant_id      uuid PRIMARY KEY REFERENCES variants (id),
    status          text CHECK (status IN ('in_stock', 'low_stock', 'out_of_stock', 'backorder', 'preorder')),
    -- With `preorder`: after this moment the variant counts as out of stock (no event needed).
    preorder_until  timestamptz,
    -- The announcing event's order: an older announcement delivered late never overwrites a newer.
    sequence        bigint NOT NULL,
    modified_at     timestamptz NOT NULL
);
