-- Merchants, their stores and staff, and the audit trail of staff changes
-- and login failures.

-- +goose Up
CREATE TABLE merchants (
    id {{pk}},
    name VARCHAR(128) NOT NULL,
    currency CHAR(3) NOT NULL,
    fee_rate BIGINT NOT NULL,
    time_zone VARCHAR(64) NOT NULL,
    settlement_days INTEGER NOT NULL,
    status VARCHAR(16) NOT NULL,
    pending_account BIGINT NOT NULL,
    available_account BIGINT NOT NULL,
    frozen_account BIGINT NOT NULL,
    marketing_account BIGINT NOT NULL,
    created_at {{time}} NOT NULL,
    updated_at {{time}} NOT NULL
) {{table}};

CREATE TABLE stores (
    id {{pk}},
    merchant_id BIGINT NOT NULL,
    name VARCHAR(128) NOT NULL,
    qr_token VARCHAR(64) NOT NULL,
    created_at {{time}} NOT NULL
) {{table}};
CREATE INDEX ix_stores_merchant ON stores (merchant_id);
CREATE UNIQUE INDEX ux_stores_qr_token ON stores (qr_token);

CREATE TABLE staff (
    id {{pk}},
    merchant_id BIGINT NOT NULL,
    store_id BIGINT NOT NULL,
    role VARCHAR(16) NOT NULL,
    name VARCHAR(64) NOT NULL,
    phone VARCHAR(20) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    status VARCHAR(16) NOT NULL,
    created_at {{time}} NOT NULL,
    updated_at {{time}} NOT NULL
) {{table}};
CREATE UNIQUE INDEX ux_staff_phone ON staff (phone);
CREATE INDEX ix_staff_merchant_store ON staff (merchant_id, store_id);

CREATE TABLE audit_events (
    id {{pk}},
    merchant_id BIGINT NOT NULL,
    actor_id BIGINT NOT NULL,
    action VARCHAR(32) NOT NULL,
    target_id BIGINT NOT NULL,
    detail VARCHAR(255) NOT NULL,
    ip VARCHAR(64) NOT NULL,
    created_at {{time}} NOT NULL
) {{table}};
CREATE INDEX ix_audit_merchant_time ON audit_events (merchant_id, created_at);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE staff;
DROP TABLE stores;
DROP TABLE merchants;
