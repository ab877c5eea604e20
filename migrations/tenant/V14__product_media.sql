-- A product's images: the original as uploaded (checked to be a real image, stored through the
-- shop's file storage) and the thumbnails a background job renders from it.

CREATE TABLE product_media (
    id            uuid PRIMARY KEY,
    product_id    uuid NOT NULL REFERENCES products (id),
    -- The variant the image shows (a colour), if it shows one rather than the whole product.
    variant_id    uuid REFERENCES variants (id),
    -- Order on the product page, lowest first; kept 0, 1, 2, … among live media by every write.
    position      integer NOT NULL CHECK (position >= 0),
    -- {"en": "Red shirt, front", "de": "Rotes Hemd, vorne"}
    alt           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(alt) = 'object'),
    -- The original's key in the shop's files, its sniffed type, pixel size and bytes.
    original_key  text NOT NULL,
    content_type  text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp', 'image/gif')),
    width         integer NOT NULL CHECK (width > 0),
    height        integer NOT NULL CHECK (height > 0),
    byte_size     bigint NOT NULL CHECK (byte_size > 0),
    -- [{"width": 480, "height": 320, "key": "products/…/480.jpg", "content_type": "image/jpeg"}],
    -- smallest first; filled by the thumbnail job, which also moves `status` on from processing.
    thumbnails    jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(thumbnails) = 'array'),
    status        text NOT NULL DEFAULT 'processing' CHECK (status IN ('processing', 'ready', 'failed')),
    created_at    timestamptz NOT NULL,
    created_by    text NOT NULL,
    modified_at   timestamptz NOT NULL,
    modified_by   text NOT NULL,
    version       bigint NOT NULL DEFAULT 1,
    deleted_at    timestamptz
);
CREATE INDEX product_media_product ON product_media (product_id, position, id) WHERE deleted_at IS NULL;
