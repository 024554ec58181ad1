-- Tickets (验票): a merchant's own goods issued to a customer's wallet and
-- redeemed once at the till by scanning their QR.

-- +goose Up
CREATE TABLE tickets (
    id {{pk}},
    merchant_id BIGINT NOT NULL,
    store_id BIGINT NOT NULL,
    wallet_id BIGINT NOT NULL,
    issue_no VARCHAR(64) NOT NULL,
    product VARCHAR(128) NOT NULL,
    price BIGINT NOT NULL,
    currency CHAR(3) NOT NULL,
    token VARCHAR(64) NOT NULL,
    state VARCHAR(16) NOT NULL,
    issued_by BIGINT NOT NULL,
    valid_from {{time}} NOT NULL,
    expires_at {{time}} NOT NULL,
    redeemed_by BIGINT NOT NULL,
    redeemed_store BIGINT NOT NULL,
    redeemed_at {{time}} NULL,
    created_at {{time}} NOT NULL
) {{table}};
CREATE UNIQUE INDEX ux_tickets_issue_no ON tickets (merchant_id, issue_no);
CREATE UNIQUE INDEX ux_tickets_token ON tickets (token);
CREATE INDEX ix_tickets_merchant ON tickets (merchant_id, id);
CREATE INDEX ix_tickets_wallet ON tickets (wallet_id, id);

-- +goose Down
DROP TABLE tickets;
