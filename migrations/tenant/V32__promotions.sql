-- Promotions: automatic discounts and discount codes, their limits and every use of them.
--
-- The limits are the database's to keep, not the code's: a code's `used` can never pass its
-- `usage_limit` (CHECK), and every use is counted by one conditional UPDATE (`... WHERE
-- usage_limit IS NULL OR used < usage_limit`), so 500 checkouts racing for a code limited to 100
-- get exactly 100 uses, on one replica or many. A customer's uses of a promotion are one counter
-- row per (promotion, customer), bumped the same way (INSERT ... ON CONFLICT DO UPDATE ... WHERE
-- used < limit), so the per-customer limit holds under concurrency too.
--
-- Products, categories, collections and customer groups are other modules' (catalog,
-- customers): named by id only, no foreign key into them.

CREATE TABLE promotions (
    id                        uuid PRIMARY KEY,
    name                      text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description               text CHECK (length(description) <= 2000),
    -- `automatic` applies by itself when its conditions hold; `code` needs one of its codes.
    trigger                   text NOT NULL CHECK (trigger IN ('automatic', 'code')),
    status                    text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    -- The discount: {"kind", "percent_bp", "amounts", "buy_quantity", "get_quantity", "tiers"}
    -- (validated by the pricing module; kind-specific fields only).
    discount                  jsonb NOT NULL CHECK (jsonb_typeof(discount) = 'object'),
    -- {"product_ids", "category_ids", "collection_ids", "customer_group_ids", "minimum_subtotal"}.
    conditions                jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(conditions) = 'object'),
    -- `stackable` ones combine; an `exclusive` one applies alone when it is the best deal.
    stacking                  text NOT NULL DEFAULT 'stackable' CHECK (stacking IN ('stackable', 'exclusive')),
    -- Lower numbers apply first.
    priority                  integer NOT NULL DEFAULT 100 CHECK (priority BETWEEN 0 AND 1000000),
    starts_at                 timestamptz,
    ends_at                   timestamptz,
    -- How many orders one customer may place with this promotion; none: no limit.
    usage_limit_per_customer  integer CHECK (usage_limit_per_customer > 0),
    created_at                timestamptz NOT NULL,
    created_by                text NOT NULL,
    modified_at               timestamptz NOT NULL,
    modified_by               text NOT NULL,
    version                   bigint NOT NULL DEFAULT 1,
    deleted_at                timestamptz,
    CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at)
);
CREATE INDEX promotions_automatic ON promotions (priority, id)
    WHERE trigger = 'automatic' AND status = 'active' AND deleted_at IS NULL;
CREATE INDEX promotions_newest ON promotions (created_at DESC, id DESC) WHERE deleted_at IS NULL;

-- A code, upper case (codes are matched case-insensitively), unique in the shop whatever
-- promotion it belongs to — including the codes of deleted promotions, so an old printed code
-- never starts meaning something else.
CREATE TABLE promotion_codes (
    id            uuid PRIMARY KEY,
    promotion_id  uuid NOT NULL REFERENCES promotions (id),
    code          text NOT NULL CHECK (code ~ '^[A-Z0-9_-]{1,64}$'),
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    -- Orders it may be used for in all; none: no limit.
    usage_limit   integer CHECK (usage_limit > 0),
    used          integer NOT NULL DEFAULT 0 CHECK (used >= 0),
    created_at    timestamptz NOT NULL,
    created_by    text NOT NULL,
    modified_at   timestamptz NOT NULL,
    modified_by   text NOT NULL,
    version       bigint NOT NULL DEFAULT 1,
    CHECK (usage_limit IS NULL OR used <= usage_limit)
);
CREATE UNIQUE INDEX promotion_codes_code ON promotion_codes (code);
CREATE INDEX promotion_codes_of ON promotion_codes (promotion_id, created_at, id);

-- A customer's uses of a promotion (orders placed with it and not cancelled).
CREATE TABLE promotion_customer_uses (
    promotion_id  uuid NOT NULL REFERENCES promotions (id),
    customer_id   uuid NOT NULL,
    used          integer NOT NULL DEFAULT 0 CHECK (used >= 0),
    PRIMARY KEY (promotion_id, customer_id)
);

-- Every redemption: which order used which promotion (and code, and customer). A cancelled
-- order's redemptions are released (their counts given back), once.
CREATE TABLE promotion_redemptions (
    id            uuid PRIMARY KEY,
    order_ref     uuid NOT NULL,
    promotion_id  uuid NOT NULL REFERENCES promotions (id),
    code_id       uuid REFERENCES promotion_codes (id),
    customer_id   uuid,
    redeemed_at   timestamptz NOT NULL,
    redeemed_by   text NOT NULL,
    released_at   timestamptz
);
-- One redemption of a promotion per order in force: redeeming again for the same order counts
-- nothing twice.
CREATE UNIQUE INDEX promotion_redemptions_once ON promotion_redemptions (order_ref, promotion_id)
    WHERE released_at IS NULL;
CREATE INDEX promotion_redemptions_order ON promotion_redemptions (order_ref);
