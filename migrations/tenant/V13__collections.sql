-- Collections: hand-picked products (manual) or every product matching a rule such as
-- `tag = summer and price < 50` (rules), evaluated in SQL by `catalog_rule_matches`.

CREATE TABLE collections (
    id           uuid PRIMARY KEY,
    name         jsonb NOT NULL CHECK (jsonb_typeof(name) = 'object'),
    description  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(description) = 'object'),
    slug         text NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 200),
    -- The rule as staff wrote it, and as evaluated: {"currency": "EUR", "any": [[{"field", "op", "value"}, …], …]}
    -- (alternatives joined by `or`, each a list of conditions joined by `and`). Both NULL: manual.
    rule_text    text,
    rules        jsonb,
    created_at   timestamptz NOT NULL,
    created_by   text NOT NULL,
    modified_at  timestamptz NOT NULL,
    modified_by  text NOT NULL,
    version      bigint NOT NULL DEFAULT 1,
    deleted_at   timestamptz,
    CHECK ((rule_text IS NULL) = (rules IS NULL))
);
CREATE UNIQUE INDEX collections_slug_key ON collections (slug) WHERE deleted_at IS NULL;

CREATE TABLE collection_products (
    collection_id  uuid NOT NULL REFERENCES collections (id),
    product_id     uuid NOT NULL REFERENCES products (id),
    position       integer NOT NULL DEFAULT 0,
    PRIMARY KEY (collection_id, product_id)
);
CREATE INDEX collection_products_product ON collection_products (product_id);

-- `a op b` for the comparison operators of collection rules.
CREATE FUNCTION catalog_compare(a numeric, op text, b numeric) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE op WHEN '=' THEN a = b WHEN '!=' THEN a <> b WHEN '<' THEN a < b
                   WHEN '<=' THEN a <= b WHEN '>' THEN a > b WHEN '>=' THEN a >= b ELSE false END
$$;

-- Whether a product matches a collection's rules (see `collections.rules`). Tables resolve through
-- the caller's search_path: the tenant transaction's shop.
CREATE FUNCTION catalog_rule_matches(product uuid, rules jsonb) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    alternative jsonb;
    cond jsonb;
    ok boolean;
    field text;
    op text;
    wanted text;
    p record;
    amount bigint;
    attribute jsonb;
BEGIN
    SELECT tags, attributes, kind INTO p FROM products WHERE id = product;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    FOR alternative IN SELECT value FROM jsonb_array_elements(rules -> 'any') LOOP
        ok := true;
        FOR cond IN SELECT value FROM jsonb_array_elements(alternative) LOOP
            field := cond ->> 'field';
            op := cond ->> 'op';
            wanted := cond -> 'value' #>> '{}';
            IF field = 'tag' THEN
                ok := (p.tags @> ARRAY[lower(wanted)]) = (op = '=');
            ELSIF field = 'kind' THEN
                ok := (p.kind = wanted) = (op = '=');
            ELSIF field = 'category' THEN
                ok := EXISTS (SELECT 1 FROM product_categories pc JOIN categories c ON c.id = pc.category_id
                              WHERE pc.product_id = product AND c.slug = wanted AND c.deleted_at IS NULL) = (op = '=');
            ELSIF field = 'price' THEN
                SELECT price_amount INTO amount FROM product_prices_from
                 WHERE product_id = product AND price_currency = rules ->> 'currency';
                ok := amount IS NOT NULL AND catalog_compare(amount, op, wanted::numeric);
            ELSIF field LIKE 'attribute.%' THEN
                attribute := p.attributes -> substr(field, 11);
                IF attribute IS NULL THEN
                    ok := op = '!=';
                ELSIF jsonb_typeof(attribute) = 'array' THEN
                    ok := (attribute ? wanted) = (op = '=');
                ELSIF jsonb_typeof(attribute) = 'number' AND jsonb_typeof(cond -> 'value') = 'number' THEN
                    ok := catalog_compare((attribute #>> '{}')::numeric, op, wanted::numeric);
                ELSE
                    ok := CASE op WHEN '=' THEN attribute #>> '{}' = wanted
                                  WHEN '!=' THEN attribute #>> '{}' <> wanted ELSE false END;
                END IF;
            ELSE
                ok := false;
            END IF;
            EXIT WHEN NOT ok;
        END LOOP;
        IF ok THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END
$$;
