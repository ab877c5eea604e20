-- The shop's branding for its storefront: a logo (a file in the shop's storage, re-encoded when
-- uploaded so no metadata of the original is served; a new logo gets a new id, so its URL can be
-- cached for good), a brand colour and the country the shop sells from. The currencies it sells
-- stay the catalog's (`sold_currencies`).
ALTER TABLE shop_settings
    ADD COLUMN logo_id           uuid,
    ADD COLUMN logo_key          text,
    ADD COLUMN logo_content_type text,
    ADD COLUMN brand_colour      text CHECK (brand_colour ~ '^#[0-9a-f]{6}$'),
    ADD COLUMN country           text CHECK (country ~ '^[A-Z]{2}$'),
    ADD CONSTRAINT shop_settings_logo_whole
        CHECK ((logo_id IS NULL) = (logo_key IS NULL) AND (logo_key IS NULL) = (logo_content_type IS NULL));
