-- The catalog: products with variants and prices, product types with typed attributes, a
-- category tree, slugs per locale (old ones kept for redirects), a change history per product and
-- the search documents of the PostgreSQL search engine.

-- Trigram matching for typo-tolerant suggestions. One copy per database, in the control schema
-- (every tenant transaction has `agora` on its search path); the advisory lock keeps two shops
-- migrating at once from racing to create it.
SELECT pg_advisory_xact_lock(hashtext('agora.extension.pg_trgm'));
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA agora;

-- Currencies the catalog is priced in besides the shop's default currency (always sold).
CREATE TABLE catalog_currencies (
    currency    text PRIMARY KEY CHECK (currency ~ '^[A-Z]{3}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL
);

CREATE TABLE product_types (
    id           uuid PRIMARY KEY,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- [{"code": "colour", "name": {"en": "Colour"}, "kind": "select", "options": ["red", "blue"], "filterable": true}]
    attributes   jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(attributes) = 'array'),
    created_at   timestamptz NOT NULL,
    created_by   text NOT NULL,
    modified_at  timestamptz NOT NULL,
    modified_by  text NOT NULL,
    version      bigint NOT NULL DEFAULT 1,
    deleted_at   timestamptz
);
CREATE UNIQUE INDEX product_types_name_key ON product_types (lower(name)) WHERE deleted_at IS NULL;

CREATE TABLE products (
    id               uuid PRIMARY KEY,
    kind             text NOT NULL DEFAULT 'physical' CHECK (kind IN ('physical', 'digital')),
    status           text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'archived')),
    publish_at       timestamptz,
    unpublish_at     timestamptz,
    product_type_id  uuid REFERENCES product_types (id),
    tax_class        text,
    name             jsonb NOT NULL CHECK (jsonb_typeof(name) = 'object'),
    description      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(description) = 'object'),
    seo_title        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(seo_title) = 'object'),
    seo_description  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(seo_description) = 'object'),
    -- [{"name": "size", "values": ["S", "M"]}]: the option types variants choose values of.
    options          jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(options) = 'array'),
    -- {"colour": "red", "organic": true, "sizes": ["S", "M"]}, checked against the product type.
    attributes       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
    tags             text[] NOT NULL DEFAULT '{}',
    -- The name in the shop's default language, lower-cased: the storefront's name order.
    sort_name        text NOT NULL,
    created_at       timestamptz NOT NULL,
    created_by       text NOT NULL,
    modified_at      timestamptz NOT NULL,
    modified_by      text NOT NULL,
    version          bigint NOT NULL DEFAULT 1,
    deleted_at       timestamptz,
    CHECK (unpublish_at IS NULL OR publish_at IS NULL OR unpublish_at > publish_at)
);
CREATE INDEX products_created ON products (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX products_sort_name ON products (sort_name, id) WHERE deleted_at IS NULL;
CREATE INDEX products_tags ON products USING gin (tags);
CREATE INDEX products_attributes ON products USING gin (attributes jsonb_path_ops);

-- Every slug a product has had in each locale; `current` marks the one it answers to now, the
-- others answer with a permanent redirect to it.
CREATE TABLE product_slugs (
    locale      text NOT NULL,
    slug        text NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 200),
    product_id  uuid NOT NULL REFERENCES products (id),
    current     boolean NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (locale, slug)
);
CREATE UNIQUE INDEX product_slugs_current ON product_slugs (product_id, locale) WHERE current;

CREATE TABLE variants (
    id             uuid PRIMARY KEY,
    product_id     uuid NOT NULL REFERENCES products (id),
    sku            text NOT NULL,
    -- {"size": "M", "colour": "red"}: one value of each of the product's options.
    option_values  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(option_values) = 'object'),
    barcode        text,
    weight_grams   integer CHECK (weight_grams >= 0),
    length_mm      integer CHECK (length_mm >= 0),
    width_mm       integer CHECK (width_mm >= 0),
    height_mm      integer CHECK (height_mm >= 0),
    position       integer NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL,
    created_by     text NOT NULL,
    modified_at    timestamptz NOT NULL,
    modified_by    text NOT NULL,
    -- Variants are versioned with their product: a change to one bumps `products.version`.
    deleted_at     timestamptz
);
CREATE UNIQUE INDEX variants_sku_key ON variants (sku) WHERE deleted_at IS NULL;
CREATE INDEX variants_product ON variants (product_id, position, id);

CREATE TABLE variant_prices (
    variant_id         uuid NOT NULL REFERENCES variants (id),
    price_amount       bigint NOT NULL CHECK (price_amount >= 0),
    price_currency     text NOT NULL CHECK (price_currency ~ '^[A-Z]{3}$'),
    compare_at_amount  bigint CHECK (compare_at_amount >= 0),
    PRIMARY KEY (variant_id, price_currency)
);

-- The lowest price of a product's live variants per currency: the storefront's price order and
-- price filter, kept by every write that changes variants or prices.
CREATE TABLE product_prices_from (
    product_id      uuid NOT NULL REFERENCES products (id),
    price_currency  text NOT NULL,
    price_amount    bigint NOT NULL,
    PRIMARY KEY (product_id, price_currency)
);
CREATE INDEX product_prices_from_order ON product_prices_from (price_currency, price_amount, product_id);

CREATE TABLE categories (
    id           uuid PRIMARY KEY,
    parent_id    uuid REFERENCES categories (id),
    position     integer NOT NULL DEFAULT 0,
    name         jsonb NOT NULL CHECK (jsonb_typeof(name) = 'object'),
    description  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(description) = 'object'),
    slug         text NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 200),
    created_at   timestamptz NOT NULL,
    created_by   text NOT NULL,
    modified_at  timestamptz NOT NULL,
    modified_by  text NOT NULL,
    version      bigint NOT NULL DEFAULT 1,
    deleted_at   timestamptz,
    CHECK (parent_id IS DISTINCT FROM id)
);
CREATE UNIQUE INDEX categories_slug_key ON categories (slug) WHERE deleted_at IS NULL;

CREATE TABLE product_categories (
    product_id   uuid NOT NULL REFERENCES products (id),
    category_id  uuid NOT NULL REFERENCES categories (id),
    PRIMARY KEY (product_id, category_id)
);
CREATE INDEX product_categories_category ON product_categories (category_id, product_id);

-- Who changed what in a product, and when.
CREATE TABLE product_changes (
    id          uuid PRIMARY KEY,
    product_id  uuid NOT NULL REFERENCES products (id),
    changed_at  timestamptz NOT NULL,
    changed_by  text NOT NULL,
    -- what: created, updated, deleted, variant_added, …
    action      text NOT NULL,
    -- {"field": {"from": …, "to": …}}
    changes     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX product_changes_product ON product_changes (product_id, changed_at DESC, id DESC);

-- Search synonyms: a query for any of the terms also finds the others.
CREATE TABLE search_synonyms (
    id           uuid PRIMARY KEY,
    terms        text[] NOT NULL CHECK (cardinality(terms) >= 2),
    created_at   timestamptz NOT NULL,
    created_by   text NOT NULL,
    modified_at  timestamptz NOT NULL,
    modified_by  text NOT NULL,
    version      bigint NOT NULL DEFAULT 1
);

-- The PostgreSQL search engine's document per product (behind the catalog's search port).
CREATE TABLE search_documents (
    product_id  uuid PRIMARY KEY REFERENCES products (id),
    -- name A, SKUs and attribute values B, description C; in the shop's text search configuration
    document    tsvector NOT NULL,
    -- every name of the product, one per line, for exact matches and trigram suggestions
    names       text NOT NULL,
    -- the names without spaces or punctuation ("tshirt" for "T-Shirt"), for typo matching
    compact_names text NOT NULL,
    -- whether shoppers may find it: active, not deleted, within its publication window
    active      boolean NOT NULL,
    publish_at  timestamptz,
    unpublish_at timestamptz,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX search_documents_document ON search_documents USING gin (document);
CREATE INDEX search_documents_compact_names ON search_documents USING gin (compact_names agora.gin_trgm_ops);
