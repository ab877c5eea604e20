-- A tenant's public shop settings: exactly one row.
CREATE TABLE shop_settings (
    id                uuid PRIMARY KEY,
    singleton         boolean NOT NULL DEFAULT true UNIQUE CHECK (singleton),
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    default_currency  text NOT NULL CHECK (default_currency ~ '^[A-Z]{3}$'),
    locales           text[] NOT NULL CHECK (cardinality(locales) >= 1),
    default_locale    text NOT NULL,
    timezone          text NOT NULL DEFAULT 'UTC',
    created_at        timestamptz NOT NULL DEFAULT now(),
    created_by        text NOT NULL,
    modified_at       timestamptz NOT NULL DEFAULT now(),
    modified_by       text NOT NULL,
    version           bigint NOT NULL DEFAULT 1,
    CHECK (default_locale = ANY (locales))
);
