-- Settlement and withdrawals: the merchants' bound bank accounts, a cursor
-- per merchant saying which business days are cut, one batch per merchant
-- per business day, withdrawals, and every payout attempt the bank sees.
-- Batches and withdrawals share the payout columns (state ... failed_at);
-- every change of them is an UPDATE conditional on version.

-- +goose Up
CREATE TABLE merchant_bank_accounts (
    merchant_id BIGINT NOT NULL PRIMARY KEY,
    number VARCHAR(34) NOT NULL,
    holder VARCHAR(128) NOT NULL,
    bank_name VARCHAR(128) NOT NULL,
    updated_at {{time}} NOT NULL
) {{table}};

-- cut_through is the last business day cut (YYYY-MM-DD); carry is a
-- deficit (>= 0) of negative days that no open batch could absorb yet,
-- deducted from the next batch.
CREATE TABLE settlement_cursors (
    merchant_id BIGINT NOT NULL PRIMARY KEY,
    cut_through CHAR(10) NOT NULL,
    carry BIGINT NOT NULL,
    updated_at {{time}} NOT NULL
) {{table}};

CREATE TABLE settlement_batches (
    id {{pk}},
    merchant_id BIGINT NOT NULL,
    business_day CHAR(10) NOT NULL,
    currency CHAR(3) NOT NULL,
    day_start {{time}} NOT NULL,
    day_end {{time}} NOT NULL,
    due_at {{time}} NOT NULL,
    payments BIGINT NOT NULL,
    refunds BIGINT NOT NULL,
    fees BIGINT NOT NULL,
    net BIGINT NOT NULL,
    adjustment BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    state VARCHAR(24) NOT NULL,
    attempt INTEGER NOT NULL,
    reference VARCHAR(64) NOT NULL,
    offline BOOLEAN NOT NULL,
    reason VARCHAR(255) NOT NULL,
    version BIGINT NOT NULL,
    created_at {{time}} NOT NULL,
    updated_at {{time}} NOT NULL,
    submitted_at {{time}} NULL,
    paid_at {{time}} NULL,
    failed_at {{time}} NULL
) {{table}};
CREATE UNIQUE INDEX ux_settlement_batches_day ON settlement_batches (merchant_id, business_day);
CREATE INDEX ix_settlement_batches_state ON settlement_batches (state, due_at);

CREATE TABLE withdrawals (
    id {{pk}},
    merchant_id BIGINT NOT NULL,
    request_no VARCHAR(64) NOT NULL,
    business_day CHAR(10) NOT NULL,
    amount BIGINT NOT NULL,
    fee BIGINT NOT NULL,
    currency CHAR(3) NOT NULL,
    staff_id BIGINT NOT NULL,
    state VARCHAR(24) NOT NULL,
    attempt INTEGER NOT NULL,
    reference VARCHAR(64) NOT NULL,
    offline BOOLEAN NOT NULL,
    reason VARCHAR(255) NOT NULL,
    version BIGINT NOT NULL,
    created_at {{time}} NOT NULL,
    updated_at {{time}} NOT NULL,
    submitted_at {{time}} NULL,
    paid_at {{time}} NULL,
    failed_at {{time}} NULL
) {{table}};
CREATE UNIQUE INDEX ux_withdrawals_request_no ON withdrawals (merchant_id, request_no);
CREATE INDEX ix_withdrawals_merchant_day ON withdrawals (merchant_id, business_day);

-- One row per payout the bank sees (channel 'bank') or the operator
-- recorded ('offline'). status: SUBMITTING until the bank confirms it has
-- the payout, then SUBMITTED, then PAID or FAILED. next_check_at is when
-- the scheduler asks the bank about an unanswered one.
CREATE TABLE payout_attempts (
    id {{pk}},
    reference VARCHAR(64) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    subject_id BIGINT NOT NULL,
    merchant_id BIGINT NOT NULL,
    attempt INTEGER NOT NULL,
    channel VARCHAR(16) NOT NULL,
    amount BIGINT NOT NULL,
    currency CHAR(3) NOT NULL,
    account_number VARCHAR(34) NOT NULL,
    account_holder VARCHAR(128) NOT NULL,
    bank_name VARCHAR(128) NOT NULL,
    status VARCHAR(16) NOT NULL,
    bank_reference VARCHAR(64) NOT NULL,
    reason VARCHAR(255) NOT NULL,
    bank_at {{time}} NULL,
    next_check_at {{time}} NOT NULL,
    tries INTEGER NOT NULL,
    created_at {{time}} NOT NULL,
    updated_at {{time}} NOT NULL
) {{table}};
CREATE UNIQUE INDEX ux_payout_attempts_reference ON payout_attempts (reference);
CREATE INDEX ix_payout_attempts_open ON payout_attempts (status, next_check_at);
CREATE INDEX ix_payout_attempts_bank_at ON payout_attempts (bank_at);

-- +goose Down
DROP TABLE payout_attempts;
DROP TABLE withdrawals;
DROP TABLE settlement_batches;
DROP TABLE settlement_cursors;
DROP TABLE merchant_bank_accounts;
