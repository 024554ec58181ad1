-- What happens after a payment: refunds (and voids, which are full refunds),
-- the rollups behind "today's data", and the members a merchant gains.

-- +goose Up
-- One row per refund. (order_id, refund_no) is the client's idempotency
-- key; the amounts say where the money came from and went to.
CREATE TABLE refunds (
    id {{pk}},
    merchant_id BIGINT NOT NULL,
    store_id BIGINT NOT NULL,
    cashier_id BIGINT NOT NULL,
    order_id BIGINT NOT NULL,
    refund_no VARCHAR(64) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    amount BIGINT NOT NULL,
    currency CHAR(3) NOT NULL,
    reason VARCHAR(255) NOT NULL,
    to_card BIGINT NOT NULL,
    to_cash BIGINT NOT NULL,
    to_coupon BIGINT NOT NULL,
    to_voucher BIGINT NOT NULL,
    fee_returned BIGINT NOT NULL,
    from_pending BIGINT NOT NULL,
    from_available BIGINT NOT NULL,
    from_marketing BIGINT NOT NULL,
    card_state VARCHAR(16) NOT NULL,
    refunded_by BIGINT NOT NULL,
    created_at {{time}} NOT NULL,
    updated_at {{time}} NOT NULL
) {{table}};
CREATE UNIQUE INDEX ux_refunds_order_no ON refunds (order_id, refund_no);
CREATE INDEX ix_refunds_merchant_time ON refunds (merchant_id, created_at, id);
CREATE INDEX ix_refunds_card_state ON refunds (card_state, id);

-- Hourly rollups of payments and refunds, per scope: 'm' the merchant, 's'
-- a store, 'c' a cashier. Day and hour are the merchant's local ones
-- (stat_day is yyyymmdd), so "today" is a range of at most 24 rows and the
-- 30-day chart at most 720, however many orders there are.
CREATE TABLE stats_hourly (
    merchant_id BIGINT NOT NULL,
    scope CHAR(1) NOT NULL,
    scope_id BIGINT NOT NULL,
    stat_day INTEGER NOT NULL,
    stat_hour INTEGER NOT NULL,
    paid_amount BIGINT NOT NULL,
    paid_count BIGINT NOT NULL,
    refunded_amount BIGINT NOT NULL,
    refund_count BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, scope, scope_id, stat_day, stat_hour)
) {{table}};

-- Members: every wallet that paid, per merchant ('m') and per store ('s'),
-- with indexes for the two sort orders of the list.
CREATE TABLE members (
    merchant_id BIGINT NOT NULL,
    scope CHAR(1) NOT NULL,
    scope_id BIGINT NOT NULL,
    wallet_id BIGINT NOT NULL,
    visits BIGINT NOT NULL,
    total_spent BIGINT NOT NULL,
    last_visit_at {{time}} NOT NULL,
    PRIMARY KEY (merchant_id, scope, scope_id, wallet_id)
) {{table}};
CREATE INDEX ix_members_spent ON members (merchant_id, scope, scope_id, total_spent, wallet_id);
CREATE INDEX ix_members_recent ON members (merchant_id, scope, scope_id, last_visit_at, wallet_id);

-- +goose Down
DROP TABLE members;
DROP TABLE stats_hourly;
DROP TABLE refunds;
