-- Price lists over the catalog's base prices, and the merchant's conversion rates.
--
-- Which price a shopper pays is decided in `modules/pricing/src/price_lists/mod.rs` (and
-- docs/pricing.md): a list applies when it is active, in its date window, in the shopper's
-- currency and for one of their groups (or for everyone); the highest priority wins, the lowest
-- price among equal priorities; the catalog's base price (or its conversion) when none applies.
--
-- Variants and customer groups belong to other modules and are named by id only.

CREATE TABLE price_lists (
    id               uuid PRIMARY KEY,
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- Customer groups it is for; empty: everyone.
    customer_groups  uuid[] NOT NULL DEFAULT '{}',
    starts_at        timestamptz,
    ends_at          timestamptz,
    priority         integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN -1000000 AND 1000000),
    status           text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active')),
    created_at       timestamptz NOT NULL,
    created_by       text NOT NULL,
    modified_at      timestamptz NOT NULL,
    modified_by      text NOT NULL,
    version          bigint NOT NULL DEFAULT 1,
    deleted_at       timestamptz,
    CHECK (starts_at IS NULL OR ends_at IS NULL OR ends_at > starts_at)
);
CREATE INDEX price_lists_live ON price_lists (currency) WHERE deleted_at IS NULL AND status = 'active';

-- A list's price for one variant, in the list's currency.
CREATE TABLE price_list_entries (
    price_list_id  uuid NOT NULL REFERENCES price_lists (id) ON DELETE CASCADE,
    variant_id     uuid NOT NULL,
    price_amount   bigint NOT NULL CHECK (price_amount >= 0),
    -- Unit prices from a quantity on: [{"min_quantity": 10, "amount": 900}, …], quantities rising.
    tiers          jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tiers) = 'array'),
    -- A sale price: shoppers see the base price struck through as the compare-at price.
    sale           boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL,
    created_by     text NOT NULL,
    modified_at    timestamptz NOT NULL,
    modified_by    text NOT NULL,
    version        bigint NOT NULL DEFAULT 1,
    PRIMARY KEY (price_list_id, variant_id)
);
CREATE INDEX price_list_entries_variant ON price_list_entries (variant_id);

-- The merchant's rate from one currency to another, for variants without a price in the second:
-- `rate_micros` is the rate times 1,000,000 (1 EUR = 1.0850 USD → 1085000), so no float is
-- stored; `rounding` is how the converted price is finished.
CREATE TABLE currency_rates (
    id             uuid PRIMARY KEY,
    from_currency  text NOT NULL CHECK (from_currency ~ '^[A-Z]{3}$'),
    to_currency    text NOT NULL CHECK (to_currency ~ '^[A-Z]{3}$'),
    rate_micros    bigint NOT NULL CHECK (rate_micros > 0),
    rounding       text NOT NULL DEFAULT 'none' CHECK (rounding IN ('none', 'whole', 'ending_99', 'ending_95')),
    created_at     timestamptz NOT NULL,
    created_by     text NOT NULL,
    modified_at    timestamptz NOT NULL,
    modified_by    text NOT NULL,
    version        bigint NOT NULL DEFAULT 1,
    CHECK (from_currency <> to_currency)
);
CREATE UNIQUE INDEX currency_rates_pair ON currency_rates (from_currency, to_currency);
