-- A checkout session's notify_url (issue 19) is a webhook endpoint of one
-- order: order_id set, it receives that order's payment.paid or
-- payment.closed only, signed with the session's return secret, through
-- the same deliveries, back-off and log as every endpoint. NULL: an
-- endpoint of the whole merchant. Unique, so one order has one.

-- +goose Up
ALTER TABLE webhook_endpoints ADD COLUMN order_id BIGINT NULL;
CREATE UNIQUE INDEX ux_webhook_endpoints_order ON webhook_endpoints (order_id);

-- +goose Down
-- The column stays: dropping it would turn order endpoints into merchant ones.
