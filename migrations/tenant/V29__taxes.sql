-- Taxes (pricing): the shop's tax settings, tax classes, tax zones with their rates, which class
-- each product uses, and customers exempt by a VAT id. The rules that read them (precedence of
-- zones, rounding, shipping, reverse charge) are in modules/pricing/src/tax/mod.rs and
-- docs/taxes.md.
--
-- Products and customers belong to other modules: they are named by id only (no foreign key into
-- tables this module does not own).

-- Standard, reduced, zero and exempt are built in (one of each, seeded below, renameable, never
-- deleted); merchants add `custom` ones ("super-reduced", "books").
CREATE TABLE tax_classes (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind        text NOT NULL CHECK (kind IN ('standard', 'reduced', 'zero', 'exempt', 'custom')),
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL,
    modified_at timestamptz NOT NULL,
    modified_by text NOT NULL,
    version     bigint NOT NULL DEFAULT 1,
    deleted_at  timestamptz
);
CREATE UNIQUE INDEX tax_classes_name ON tax_classes (lower(name)) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX tax_classes_built_in ON tax_classes (kind) WHERE kind <> 'custom';

-- Fixed ids for the built-in classes, the same in every shop (they name a kind, not a secret).
INSERT INTO tax_classes (id, name, kind, created_at, created_by, modified_at, modified_by) VALUES
    ('00000000-0000-7000-8000-000000000001', 'Standard', 'standard', now(), 'system:migration', now(), 'system:migration'),
    ('00000000-0000-7000-8000-000000000002', 'Reduced', 'reduced', now(), 'system:migration', now(), 'system:migration'),
    ('00000000-0000-7000-8000-000000000003', 'Zero-rated', 'zero', now(), 'system:migration', now(), 'system:migration'),
    ('00000000-0000-7000-8000-000000000004', 'Exempt', 'exempt', now(), 'system:migration', now(), 'system:migration');

-- One row: how the shop's prices are entered and taxed.
CREATE TABLE tax_settings (
    id                    boolean PRIMARY KEY DEFAULT true CHECK (id),
    -- true: prices are entered with tax (EU style); false: without (US style).
    prices_include_tax    boolean NOT NULL DEFAULT true,
    -- For tax-inclusive prices sold into another country: keep the gross price (the net
    -- changes) or the net price (the gross changes).
    cross_border          text NOT NULL DEFAULT 'keep_gross' CHECK (cross_border IN ('keep_gross', 'keep_net')),
    rounding              text NOT NULL DEFAULT 'per_line' CHECK (rounding IN ('per_line', 'per_total')),
    -- not_taxed; tax_class (shipping_tax_class_id); highest_rate (the basket's highest rate).
    shipping_tax          text NOT NULL DEFAULT 'highest_rate'
                          CHECK (shipping_tax IN ('not_taxed', 'tax_class', 'highest_rate')),
    shipping_tax_class_id uuid REFERENCES tax_classes (id),
    -- ISO 3166-1 alpha-2; unset until the merchant says where the shop sells from.
    origin_country        text CHECK (origin_country ~ '^[A-Z]{2}$'),
    modified_at           timestamptz NOT NULL DEFAULT now(),
    modified_by           text NOT NULL DEFAULT 'system:migration',
    version               bigint NOT NULL DEFAULT 1,
    CONSTRAINT tax_settings_shipping_class CHECK ((shipping_tax = 'tax_class') = (shipping_tax_class_id IS NOT NULL))
);
INSERT INTO tax_settings (id) VALUES (true);

-- Where a rate applies: a country, optionally a region (a US state, "NY") and postcodes
-- ("10000-14999" ranges, "SW1*" prefixes, "10115" exact codes).
CREATE TABLE tax_zones (
    id               uuid PRIMARY KEY,
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    country          text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    region           text CHECK (region ~ '^[A-Z0-9-]{1,10}$'),
    postcodes        text[] NOT NULL DEFAULT '{}',
    -- Whether shipping to this zone is taxed at all (New York taxes delivery, California does not).
    shipping_taxable boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL,
    created_by       text NOT NULL,
    modified_at      timestamptz NOT NULL,
    modified_by      text NOT NULL,
    version          bigint NOT NULL DEFAULT 1,
    deleted_at       timestamptz
);
CREATE INDEX tax_zones_country ON tax_zones (country) WHERE deleted_at IS NULL;

-- A zone's rates per class; several for one class add up (state + county). Replaced whole with
-- the zone (its version covers them).
CREATE TABLE tax_rates (
    id           uuid PRIMARY KEY,
    zone_id      uuid NOT NULL REFERENCES tax_zones (id) ON DELETE CASCADE,
    tax_class_id uuid NOT NULL REFERENCES tax_classes (id),
    position     integer NOT NULL,
    -- Shown on receipts: "VAT 19 %", "NY State sales tax".
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- Millionths of the taxed amount: 19 % = 190000, 8.875 % = 88750.
    rate_ppm     integer NOT NULL CHECK (rate_ppm BETWEEN 0 AND 1000000),
    UNIQUE (zone_id, position)
);
CREATE INDEX tax_rates_class ON tax_rates (tax_class_id);

-- Which class a catalog product is taxed as; absent: the standard class.
CREATE TABLE product_tax_classes (
    product_id   uuid PRIMARY KEY,
    tax_class_id uuid NOT NULL REFERENCES tax_classes (id),
    created_at   timestamptz NOT NULL,
    created_by   text NOT NULL,
    modified_at  timestamptz NOT NULL,
    modified_by  text NOT NULL,
    version      bigint NOT NULL DEFAULT 1
);

-- B2B customers with a VAT id (syntax checked; online validation is a later port).
CREATE TABLE customer_tax_exemptions (
    customer_id uuid PRIMARY KEY,
    vat_id      text NOT NULL CHECK (vat_id ~ '^[A-Z]{2}[A-Z0-9+*]{2,13}$'),
    -- The VAT id's member state, ISO 3166-1 (Greece's "EL" prefix is GR).
    country     text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL,
    modified_at timestamptz NOT NULL,
    modified_by text NOT NULL,
    version     bigint NOT NULL DEFAULT 1
);
