-- Stores get an address their owner edits; merchants an optional marker
-- (unique when set) by which a tool finds the merchant it made, such as
-- `paydesk demo` finding its demo merchant without logging in. A settlement
-- cursor remembers when a business day was cut early (dev-mode "settle now"),
-- so the rest of that day goes into the next day's batch.

-- +goose Up
ALTER TABLE stores ADD COLUMN address VARCHAR(255) NOT NULL DEFAULT '';
ALTER TABLE merchants ADD COLUMN marker VARCHAR(64) NULL;
CREATE UNIQUE INDEX ux_merchants_marker ON merchants (marker);
ALTER TABLE settlement_cursors ADD COLUMN cut_at {{time}} NULL;

-- +goose Down
-- The columns stay: dropping them would lose addresses and markers.
