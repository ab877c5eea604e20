-- Alert emails staff members chose to receive (notifications module): today the low-stock alert
-- the inventory raises when a variant's stock available at a location falls to its threshold.
--
-- Staff are identity's accounts: named by id only (identity owns its tables, so no foreign key);
-- whoever is disabled or loses the permission to read stock since gets nothing, as identity's
-- facade is asked at send time.

CREATE TABLE staff_alert_subscriptions (
    -- The staff member's account id; one row per member who ever chose.
    staff_id     uuid PRIMARY KEY,
    low_stock    boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL,
    created_by   text NOT NULL,
    modified_at  timestamptz NOT NULL,
    modified_by  text NOT NULL,
    version      bigint NOT NULL DEFAULT 1
);
CREATE INDEX staff_alert_subscriptions_low_stock ON staff_alert_subscriptions (staff_id) WHERE low_stock;

-- Which event's alert went to whom, written with the email in one transaction: an event
-- delivered twice (a worker lost after the commit) emails no one twice.
CREATE TABLE staff_alerts_sent (
    event_id    uuid NOT NULL,
    staff_id    uuid NOT NULL,
    message_id  uuid NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (event_id, staff_id)
);
