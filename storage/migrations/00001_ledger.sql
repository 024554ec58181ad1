-- The double-entry ledger. Balances live on the account row so they are read
-- without summing history; every entry also records the balance after it and
-- a per-account sequence whose uniqueness catches any lost update.

-- +goose Up
CREATE TABLE ledger_accounts (
    id {{pk}},
    code VARCHAR(128) NOT NULL,
    type VARCHAR(32) NOT NULL,
    currency CHAR(3) NOT NULL,
    allow_negative BOOLEAN NOT NULL DEFAULT FALSE,
    balance BIGINT NOT NULL DEFAULT 0,
    seq BIGINT NOT NULL DEFAULT 0,
    created_at {{time}} NOT NULL,
    updated_at {{time}} NOT NULL
) {{table}};
CREATE UNIQUE INDEX ux_ledger_accounts_code ON ledger_accounts (code);

CREATE TABLE ledger_transfers (
    id {{pk}},
    reference VARCHAR(128) NOT NULL,
    kind VARCHAR(32) NOT NULL,
    digest CHAR(64) NOT NULL,
    memo VARCHAR(255) NOT NULL DEFAULT '',
    created_at {{time}} NOT NULL
) {{table}};
CREATE UNIQUE INDEX ux_ledger_transfers_reference ON ledger_transfers (reference);

CREATE TABLE ledger_entries (
    id {{pk}},
    transfer_id BIGINT NOT NULL,
    account_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    balance_after BIGINT NOT NULL,
    created_at {{time}} NOT NULL
) {{table}};
CREATE UNIQUE INDEX ux_ledger_entries_account_seq ON ledger_entries (account_id, seq);
CREATE INDEX ix_ledger_entries_transfer ON ledger_entries (transfer_id);
CREATE INDEX ix_ledger_entries_account_time ON ledger_entries (account_id, created_at);

-- +goose Down
DROP TABLE ledger_entries;
DROP TABLE ledger_transfers;
DROP TABLE ledger_accounts;
