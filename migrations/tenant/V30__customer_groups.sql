-- Customer groups (wholesale, VIP, staff…): who a price list or a promotion is for.
--
-- A customer is in a group when staff added them (`customer_group_members`) or when their
-- account's verified email is at one of the group's domains (`email_domains`). Rule membership is
-- computed when asked (`CustomersModule::groups_of`), never stored: the email lives with the
-- account in identity, which changes it (verification, a new address, erasure) without telling
-- the customers module, and a new rule then needs no backfill over every customer. Asking costs
-- one indexed query.
--
-- Customers are identity's accounts, named by id only (no foreign key into another module's
-- tables); the module checks the account exists before adding it.

CREATE TABLE customer_groups (
    id             uuid PRIMARY KEY,
    -- What price lists, promotions and integrations name the group by.
    key            text NOT NULL CHECK (key ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- Lowercase domains (`acme.com`); a customer whose verified email is `…@acme.com` is a member.
    email_domains  text[] NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL,
    created_by     text NOT NULL,
    modified_at    timestamptz NOT NULL,
    modified_by    text NOT NULL,
    version        bigint NOT NULL DEFAULT 1,
    deleted_at     timestamptz
);
CREATE UNIQUE INDEX customer_groups_key ON customer_groups (key) WHERE deleted_at IS NULL;
CREATE INDEX customer_groups_email_domains ON customer_groups USING gin (email_domains) WHERE deleted_at IS NULL;

-- Customers staff put in a group by hand.
CREATE TABLE customer_group_members (
    group_id     uuid NOT NULL REFERENCES customer_groups (id) ON DELETE CASCADE,
    customer_id  uuid NOT NULL,
    created_at   timestamptz NOT NULL,
    created_by   text NOT NULL,
    PRIMARY KEY (group_id, customer_id)
);
CREATE INDEX customer_group_members_customer ON customer_group_members (customer_id);
