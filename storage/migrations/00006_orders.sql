-- Orders: every collection of money, whichever way it was paid. The order
-- lists are read by merchant, store or cashier, newest first, so each has an
-- index ending in (created_at, id) for keyset pagination.

-- +goose Up
CREATE TABLE orders (
    id {{pk}},
    merchant_id BIGINT NOT NULL,
    store_id BIGINT NOT NULL,
    cashier_id BIGINT NOT NULL,
    out_trade_no VARCHAR(64) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    method VARCHAR(24) NOT NULL,
    subject VARCHAR(128) NOT NULL,
    amount BIGINT NOT NULL,
    currency CHAR(3) NOT NULL,
    state VARCHAR(24) NOT NULL,
    wallet_id BIGINT NOT NULL,
    funding_voucher BIGINT NOT NULL,
    funding_coupon BIGINT NOT NULL,
    funding_cash BIGINT NOT NULL,
    funding_card BIGINT NOT NULL,
    funding_detail TEXT NOT NULL,
    fee BIGINT NOT NULL,
    refunded BIGINT NOT NULL,
    close_reason VARCHAR(48) NOT NULL,
    request_digest CHAR(64) NOT NULL,
    pay_token VARCHAR(64) NULL,
    expires_at {{time}} NOT NULL,
    paid_at {{time}} NULL,
    closed_at {{time}} NULL,
    created_at {{time}} NOT NULL,
    updated_at {{time}} NOT NULL
) {{table}};
CREATE UNIQUE INDEX ux_orders_out_trade_no ON orders (merchant_id, out_trade_no);
CREATE UNIQUE INDEX ux_orders_pay_token ON orders (pay_token);
CREATE INDEX ix_orders_merchant_time ON orders (merchant_id, created_at, id);
CREATE INDEX ix_orders_store_time ON orders (store_id, created_at, id);
CREATE INDEX ix_orders_cashier_time ON orders (cashier_id, created_at, id);
CREATE INDEX ix_orders_open ON orders (state, expires_at);

-- Stored responses of money-moving POSTs, by Idempotency-Key (Stripe-like):
-- the same key and request get the first response again.
CREATE TABLE idempotency_keys (
    id {{pk}},
    scope VARCHAR(64) NOT NULL,
    idem_key VARCHAR(128) NOT NULL,
    request_digest CHAR(64) NOT NULL,
    status_code INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    created_at {{time}} NOT NULL,
    completed_at {{time}} NULL
) {{table}};
CREATE UNIQUE INDEX ux_idempotency_keys ON idempotency_keys (scope, idem_key);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE orders;
