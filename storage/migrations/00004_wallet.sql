-- The customer wallet. Money itself lives in the ledger (wallet:{id}:cash and
-- wallet:{id}:coupon); these tables keep who the customer is, the secrets
-- behind payment codes and dynamic passwords, and the vouchers and coupons
-- that say which marketing money a payment may draw.

-- +goose Up
CREATE TABLE wallets (
    id {{pk}},
    phone VARCHAR(32) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    currency CHAR(3) NOT NULL,
    -- The public half of every payment code, so a code finds its wallet by index.
    code_id CHAR(8) NOT NULL,
    code_secret VARCHAR(128) NOT NULL,
    totp_secret VARCHAR(64) NOT NULL,
    no_password_limit BIGINT NOT NULL DEFAULT 100000,
    card_token VARCHAR(64) NULL,
    card_last4 CHAR(4) NULL,
    card_bank VARCHAR(64) NULL,
    cash_account_id BIGINT NOT NULL DEFAULT 0,
    coupon_account_id BIGINT NOT NULL DEFAULT 0,
    created_at {{time}} NOT NULL,
    updated_at {{time}} NOT NULL
) {{table}};
CREATE UNIQUE INDEX ux_wallets_phone ON wallets (phone);
CREATE UNIQUE INDEX ux_wallets_code_id ON wallets (code_id);

-- Vouchers are promises, not money: nothing moves when one is issued, and
-- the platform's marketing account pays the merchant when one is spent.
CREATE TABLE wallet_vouchers (
    id {{pk}},
    wallet_id BIGINT NOT NULL,
    reference VARCHAR(128) NOT NULL,
    amount BIGINT NOT NULL,
    currency CHAR(3) NOT NULL,
    merchant_id BIGINT NOT NULL DEFAULT 0,
    expires_at {{time}} NOT NULL,
    status VARCHAR(16) NOT NULL,
    used_by VARCHAR(128) NULL,
    used_at {{time}} NULL,
    created_at {{time}} NOT NULL
) {{table}};
CREATE UNIQUE INDEX ux_wallet_vouchers_reference ON wallet_vouchers (wallet_id, reference);
CREATE INDEX ix_wallet_vouchers_usable ON wallet_vouchers (wallet_id, status, expires_at);

-- Coupons are stored value already moved into the wallet's coupon account;
-- the sum of remaining over a wallet's live coupons equals that balance.
CREATE TABLE wallet_coupons (
    id {{pk}},
    wallet_id BIGINT NOT NULL,
    reference VARCHAR(128) NOT NULL,
    amount BIGINT NOT NULL,
    remaining BIGINT NOT NULL,
    currency CHAR(3) NOT NULL,
    expires_at {{time}} NOT NULL,
    created_at {{time}} NOT NULL,
    updated_at {{time}} NOT NULL
) {{table}};
CREATE UNIQUE INDEX ux_wallet_coupons_reference ON wallet_coupons (wallet_id, reference);
CREATE INDEX ix_wallet_coupons_usable ON wallet_coupons (wallet_id, expires_at);
CREATE INDEX ix_wallet_coupons_expiry ON wallet_coupons (expires_at);

-- One row per payment code or dynamic password that paid: the primary key
-- is what makes a code single-use, even when two cashiers present it at once.
CREATE TABLE wallet_used_codes (
    wallet_id BIGINT NOT NULL,
    kind CHAR(1) NOT NULL,
    counter BIGINT NOT NULL,
    used_at {{time}} NOT NULL,
    PRIMARY KEY (wallet_id, kind, counter)
) {{table}};
CREATE INDEX ix_wallet_used_codes_used_at ON wallet_used_codes (used_at);

-- +goose Down
DROP TABLE wallet_used_codes;
DROP TABLE wallet_coupons;
DROP TABLE wallet_vouchers;
DROP TABLE wallets;
