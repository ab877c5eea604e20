-- Carts: what a shopper means to buy, before checkout. A guest's cart is reached by an opaque
-- token (only its SHA-256 is kept); a customer's by their account. A cart holds no prices of its
-- own beyond what each line last showed the shopper (to tell them when it changes): totals are
-- worked out by pricing on every read.

CREATE TABLE carts (
    id                 uuid PRIMARY KEY,
    -- SHA-256 of the guest's token; NULL once a customer's account holds the cart.
    token_hash         bytea UNIQUE,
    customer_id        uuid,
    -- open: in use; merged: its lines went into a customer's cart; abandoned: idle too long;
    -- ordered: checked out (the orders work).
    status             text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'merged', 'abandoned', 'ordered')),
    currency           text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- Codes the shopper entered, in entry order, as entered (upper-cased).
    codes              text[] NOT NULL DEFAULT '{}',
    -- Where it ships to (an estimate until checkout asks for the full address).
    country            text CHECK (country ~ '^[A-Z]{2}$'),
    region             text CHECK (length(region) <= 10),
    postal_code        text CHECK (length(postal_code) <= 20),
    shipping_method_id uuid,
    pickup_location_id uuid,
    merged_into        uuid REFERENCES carts (id),
    created_at         timestamptz NOT NULL,
    created_by         text NOT NULL,
    modified_at        timestamptz NOT NULL,
    modified_by        text NOT NULL,
    abandoned_at       timestamptz,
    version            bigint NOT NULL DEFAULT 1,
    CHECK (shipping_method_id IS NULL OR pickup_location_id IS NULL)
);
-- A customer has one open cart.
CREATE UNIQUE INDEX carts_open_of_customer ON carts (customer_id) WHERE status = 'open' AND customer_id IS NOT NULL;
-- The abandonment sweep walks open carts by their last change.
CREATE INDEX carts_open_by_change ON carts (modified_at) WHERE status = 'open';

CREATE TABLE cart_lines (
    id          uuid PRIMARY KEY,
    cart_id     uuid NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    variant_id  uuid NOT NULL,
    quantity    integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000000),
    -- The unit price (minor units of the cart's currency) the shopper last saw: a different
    -- price now is told them once.
    seen_price  bigint,
    added_at    timestamptz NOT NULL,
    modified_at timestamptz NOT NULL,
    UNIQUE (cart_id, variant_id)
);

-- The shop's cart rules: one row.
CREATE TABLE cart_settings (
    id                    boolean PRIMARY KEY DEFAULT true CHECK (id),
    -- An open cart unchanged this long is abandoned (and its token stops working).
    abandon_after_minutes integer NOT NULL DEFAULT 4320 CHECK (abandon_after_minutes BETWEEN 5 AND 525600),
    max_line_quantity     integer NOT NULL DEFAULT 99 CHECK (max_line_quantity BETWEEN 1 AND 1000000),
    max_lines             integer NOT NULL DEFAULT 100 CHECK (max_lines BETWEEN 1 AND 1000),
    modified_at           timestamptz,
    modified_by           text,
    version               bigint NOT NULL DEFAULT 1
);
INSERT INTO cart_settings (id) VALUES (true);
