-- Inventory: where stock is kept, how much, what is promised to whom, and every change to it.
--
-- The invariants a reservation relies on are the database's, not the code's: a level can never
-- hold a negative count nor reserve more than it has on hand, whatever runs concurrently. The
-- reservation itself is one conditional UPDATE (`... WHERE on_hand - reserved - safety_stock >= n`),
-- so two shoppers racing for the last unit cannot both get it.
--
-- Variants are the catalog's: they are named by id only (the catalog owns its tables, so no
-- foreign key into them); the inventory module asks the catalog's facade whether one exists.

CREATE TABLE stock_locations (
    id           uuid PRIMARY KEY,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- {"line1", "line2", "city", "postal_code", "region", "country"}: shown to staff and, for a
    -- pickup store, to shoppers.
    address      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(address) = 'object'),
    -- Lower numbers are chosen first when a reservation picks where to take stock from.
    priority     integer NOT NULL DEFAULT 100 CHECK (priority BETWEEN 0 AND 1000000),
    active       boolean NOT NULL DEFAULT true,
    -- ISO 3166-1 alpha-2 countries it ships to; empty ships anywhere.
    ships_to     text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL,
    created_by   text NOT NULL,
    modified_at  timestamptz NOT NULL,
    modified_by  text NOT NULL,
    version      bigint NOT NULL DEFAULT 1,
    deleted_at   timestamptz
);
CREATE UNIQUE INDEX stock_locations_name ON stock_locations (lower(name)) WHERE deleted_at IS NULL;

-- How a variant is sold when stock runs out, and whether it is counted at all. A variant is
-- counted from its first stock level or settings on: this row exists from then on, and every
-- change to the variant's stock locks it first (before any level), which orders concurrent
-- changes of one variant and makes the availability computed at their end exact.
CREATE TABLE inventory_items (
    variant_id           uuid PRIMARY KEY,
    -- Services and digital goods are not counted: always available, never reserved.
    tracked              boolean NOT NULL DEFAULT true,
    policy               text NOT NULL DEFAULT 'deny' CHECK (policy IN ('deny', 'backorder', 'preorder')),
    -- With `backorder` (or `preorder`): most units promised beyond stock at once; none: no limit.
    backorder_limit      integer CHECK (backorder_limit >= 0),
    preorder_until       timestamptz,
    low_stock_threshold  integer CHECK (low_stock_threshold >= 0),
    -- Units promised beyond stock: held by reservations in force, and owed to committed ones
    -- until stock arrives (arriving stock pays what is owed first, see the ledger's `sold`).
    backorder_held       integer NOT NULL DEFAULT 0 CHECK (backorder_held >= 0),
    backorder_owed       integer NOT NULL DEFAULT 0 CHECK (backorder_owed >= 0),
    -- What shoppers were last told (`inventory.availability.changed`), and that event's number.
    shown_status         text,
    shown_preorder_until timestamptz,
    announced            bigint NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL,
    created_by           text NOT NULL,
    modified_at          timestamptz NOT NULL,
    modified_by          text NOT NULL,
    version              bigint NOT NULL DEFAULT 1
);

CREATE TABLE stock_levels (
    variant_id    uuid NOT NULL,
    location_id   uuid NOT NULL REFERENCES stock_locations (id),
    on_hand       integer NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved      integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    -- Kept back from sale (display units, a buffer against miscounts).
    safety_stock  integer NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
    created_at    timestamptz NOT NULL,
    created_by    text NOT NULL,
    modified_at   timestamptz NOT NULL,
    modified_by   text NOT NULL,
    version       bigint NOT NULL DEFAULT 1,
    PRIMARY KEY (variant_id, location_id),
    CONSTRAINT stock_levels_reserved_within_on_hand CHECK (reserved <= on_hand)
);
CREATE INDEX stock_levels_location ON stock_levels (location_id);

-- Every change to on-hand stock, never edited nor removed: summing `on_hand_delta` per variant
-- and location gives the levels' `on_hand` back.
CREATE TABLE stock_adjustments (
    id             uuid PRIMARY KEY,
    variant_id     uuid NOT NULL,
    location_id    uuid NOT NULL REFERENCES stock_locations (id),
    reason         text NOT NULL CHECK (reason IN ('received', 'damaged', 'counted', 'returned', 'correction',
                                                   'sold', 'transfer_out', 'transfer_in')),
    on_hand_delta  integer NOT NULL,
    on_hand_after  integer NOT NULL,
    -- What it belongs to: a delivery note, an order, a reservation, a transfer.
    reference      text,
    note           text,
    created_at     timestamptz NOT NULL,
    created_by     text NOT NULL
);
CREATE INDEX stock_adjustments_variant ON stock_adjustments (variant_id, created_at, id);

CREATE FUNCTION stock_adjustments_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'stock adjustments are append-only';
END
$$;
CREATE TRIGGER stock_adjustments_append_only BEFORE UPDATE OR DELETE ON stock_adjustments
    FOR EACH ROW EXECUTE FUNCTION stock_adjustments_are_append_only();

-- Stock promised to an order, a checkout or a phone order until it is paid (committed), let go
-- (released) or its time runs out (expired).
CREATE TABLE stock_reservations (
    id           uuid PRIMARY KEY,
    reference    text NOT NULL CHECK (length(reference) BETWEEN 1 AND 200),
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'committed', 'released', 'expired')),
    expires_at   timestamptz NOT NULL,
    note         text,
    created_at   timestamptz NOT NULL,
    created_by   text NOT NULL,
    modified_at  timestamptz NOT NULL,
    modified_by  text NOT NULL,
    version      bigint NOT NULL DEFAULT 1
);
CREATE INDEX stock_reservations_due ON stock_reservations (expires_at) WHERE status = 'active';
CREATE INDEX stock_reservations_reference ON stock_reservations (reference);

-- One row per variant and location a reservation takes stock from (a quantity one location
-- cannot cover is split over several).
CREATE TABLE stock_reservation_lines (
    reservation_id  uuid NOT NULL REFERENCES stock_reservations (id),
    variant_id      uuid NOT NULL,
    location_id     uuid NOT NULL REFERENCES stock_locations (id),
    quantity        integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (reservation_id, variant_id, location_id)
);
CREATE INDEX stock_reservation_lines_level ON stock_reservation_lines (variant_id, location_id);

-- The part of a reservation promised beyond stock (backorder or preorder): no location yet.
CREATE TABLE stock_reservation_backorders (
    reservation_id  uuid NOT NULL REFERENCES stock_reservations (id),
    variant_id      uuid NOT NULL,
    quantity        integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (reservation_id, variant_id)
);

CREATE TABLE stock_transfers (
    id                uuid PRIMARY KEY,
    from_location_id  uuid NOT NULL REFERENCES stock_locations (id),
    to_location_id    uuid NOT NULL REFERENCES stock_locations (id),
    status            text NOT NULL DEFAULT 'in_transit' CHECK (status IN ('in_transit', 'received', 'cancelled')),
    reference         text,
    note              text,
    created_at        timestamptz NOT NULL,
    created_by        text NOT NULL,
    modified_at       timestamptz NOT NULL,
    modified_by       text NOT NULL,
    version           bigint NOT NULL DEFAULT 1,
    CONSTRAINT stock_transfers_between_two_places CHECK (from_location_id <> to_location_id)
);

CREATE TABLE stock_transfer_lines (
    transfer_id  uuid NOT NULL REFERENCES stock_transfers (id),
    variant_id   uuid NOT NULL,
    quantity     integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (transfer_id, variant_id)
);

-- The shop's inventory settings: one row, created on first change.
CREATE TABLE inventory_settings (
    id                         boolean PRIMARY KEY DEFAULT true CHECK (id),
    reservation_ttl_seconds    integer NOT NULL DEFAULT 900 CHECK (reservation_ttl_seconds BETWEEN 60 AND 604800),
    modified_at                timestamptz NOT NULL,
    modified_by                text NOT NULL,
    version                    bigint NOT NULL DEFAULT 1
);
