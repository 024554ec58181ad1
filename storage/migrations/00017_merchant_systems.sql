-- Merchants' own systems (issue 19): API keys, webhook endpoints and the
-- deliveries of outbox events to them.
--
-- api_keys.hash is HMAC-SHA256 of the whole key under the server's key
-- pepper; the key itself is shown once and never stored. prefix is its first
-- characters, shown in lists so an owner can tell keys apart. scopes is a
-- space-separated list. A revoked key keeps its row (revoked_at set).

-- +goose Up
CREATE TABLE api_keys (
    id {{pk}},
    merchant_id BIGINT NOT NULL,
    store_id BIGINT NOT NULL,
    name VARCHAR(64) NOT NULL,
    kind VARCHAR(8) NOT NULL,
    prefix VARCHAR(24) NOT NULL,
    hash CHAR(64) NOT NULL,
    scopes VARCHAR(255) NOT NULL,
    created_by BIGINT NOT NULL,
    created_at {{time}} NOT NULL,
    revoked_at {{time}} NULL
) {{table}};
CREATE UNIQUE INDEX ux_api_keys_hash ON api_keys (hash);
CREATE INDEX ix_api_keys_merchant ON api_keys (merchant_id);

-- A webhook endpoint receives the merchant's events of the types it lists
-- (space-separated) from after_seq on: the dispatcher copies new events of
-- the merchant into webhook_deliveries and moves after_seq with a
-- conditional UPDATE, so two instances copy each event once.
CREATE TABLE webhook_endpoints (
    id {{pk}},
    merchant_id BIGINT NOT NULL,
    url VARCHAR(2048) NOT NULL,
    secret VARCHAR(80) NOT NULL,
    events VARCHAR(255) NOT NULL,
    after_seq BIGINT NOT NULL,
    disabled_at {{time}} NULL,
    created_at {{time}} NOT NULL
) {{table}};
CREATE INDEX ix_webhook_endpoints_merchant ON webhook_endpoints (merchant_id);

-- One row per (endpoint, event). state is pending, delivered or failed
-- (gave up). A sender claims a row by moving claimed_until forward with an
-- UPDATE conditional on its old value; order_key keeps the events of one
-- order in order: a row is not sent while an earlier one of the same
-- endpoint and order_key is not delivered.
CREATE TABLE webhook_deliveries (
    id {{pk}},
    endpoint_id BIGINT NOT NULL,
    merchant_id BIGINT NOT NULL,
    event_id BIGINT NOT NULL,
    event_seq BIGINT NOT NULL,
    event_type VARCHAR(48) NOT NULL,
    order_key VARCHAR(64) NOT NULL,
    payload TEXT NOT NULL,
    state VARCHAR(12) NOT NULL,
    attempts INT NOT NULL,
    next_attempt_at {{time}} NOT NULL,
    claimed_until {{time}} NOT NULL,
    last_status INT NOT NULL,
    last_error VARCHAR(255) NOT NULL,
    delivered_at {{time}} NULL,
    created_at {{time}} NOT NULL,
    updated_at {{time}} NOT NULL
) {{table}};
CREATE UNIQUE INDEX ux_webhook_deliveries_event ON webhook_deliveries (endpoint_id, event_id);
CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX ix_webhook_deliveries_order ON webhook_deliveries (endpoint_id, order_key, state, event_seq);

-- A hosted checkout session: the order it pays (a payment link), where the
-- customer goes back to, and the secret the result sent there is signed
-- with (given to the merchant when the session is created). One per
-- merchant and out_trade_no, as the order.
CREATE TABLE checkout_sessions (
    id {{pk}},
    token VARCHAR(43) NOT NULL,
    merchant_id BIGINT NOT NULL,
    order_id BIGINT NOT NULL,
    out_trade_no VARCHAR(64) NOT NULL,
    return_url VARCHAR(2048) NOT NULL,
    return_secret VARCHAR(64) NOT NULL,
    expires_at {{time}} NOT NULL,
    created_at {{time}} NOT NULL
) {{table}};
CREATE UNIQUE INDEX ux_checkout_sessions_token ON checkout_sessions (token);
CREATE UNIQUE INDEX ux_checkout_sessions_trade ON checkout_sessions (merchant_id, out_trade_no);

-- +goose Down
DROP TABLE checkout_sessions;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE api_keys;
