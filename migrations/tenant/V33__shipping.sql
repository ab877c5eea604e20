-- Shipping: zones (where), methods (how, at what price, how fast).
--
-- A destination belongs to the most specific zone matching it (postcodes over regions over
-- countries), and is offered that zone's active methods in the cart's currency. Amounts are
-- minor units of the method's currency, like every amount in Agora.

CREATE TABLE shipping_zones (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- ISO 3166-1 alpha-2, at least one.
    countries   text[] NOT NULL CHECK (cardinality(countries) >= 1),
    -- Subdivision codes as shoppers' addresses carry them (`NY`, `BY`); empty: the whole countries.
    regions     text[] NOT NULL DEFAULT '{}',
    -- `75001` (exact), `SW1*` (prefix) or `10000-14999` (digits, inclusive); empty: every postcode.
    postcodes   text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL,
    modified_at timestamptz NOT NULL,
    modified_by text NOT NULL,
    version     bigint NOT NULL DEFAULT 1,
    deleted_at  timestamptz
);
CREATE UNIQUE INDEX shipping_zones_name ON shipping_zones (lower(name)) WHERE deleted_at IS NULL;

CREATE TABLE shipping_methods (
    id                uuid PRIMARY KEY,
    zone_id           uuid NOT NULL REFERENCES shipping_zones (id),
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description       text CHECK (length(description) <= 2000),
    -- flat: `price`; weight: `bands` over grams; order_value: `bands` over the order's value.
    kind              text NOT NULL CHECK (kind IN ('flat', 'weight', 'order_value')),
    currency          text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    price_amount      bigint CHECK (price_amount >= 0),
    -- [{"up_to": n | null, "price": minor units}], ascending; the last may be open (null).
    bands             jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(bands) = 'array'),
    -- The method costs nothing from this order value on.
    free_above_amount bigint CHECK (free_above_amount >= 0),
    -- Offered only within these bounds (order value in minor units, weight in grams).
    min_order_amount  bigint CHECK (min_order_amount >= 0),
    max_order_amount  bigint CHECK (max_order_amount >= 0),
    max_weight_grams  bigint CHECK (max_weight_grams >= 0),
    -- Business days from dispatch to delivery, shown to shoppers.
    min_days          integer CHECK (min_days BETWEEN 0 AND 365),
    max_days          integer CHECK (max_days BETWEEN 0 AND 365),
    active            boolean NOT NULL DEFAULT true,
    position          integer NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL,
    created_by        text NOT NULL,
    modified_at       timestamptz NOT NULL,
    modified_by       text NOT NULL,
    version           bigint NOT NULL DEFAULT 1,
    deleted_at        timestamptz,
    CHECK (min_days IS NULL OR max_days IS NULL OR min_days <= max_days),
    CHECK (kind <> 'flat' OR price_amount IS NOT NULL)
);
CREATE INDEX shipping_methods_zone ON shipping_methods (zone_id) WHERE deleted_at IS NULL;
