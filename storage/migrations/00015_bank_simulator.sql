-- The built-in bank (bank.Simulator) keeps its side in paydesk's database,
-- in tables of its own that nothing else reads or writes: bound cards,
-- debits, refunds and payouts survive a restart, several instances share
-- one simulated bank, and the status query answers for every payout
-- reference it ever accepted. A real bank keeps this on its side.

-- +goose Up
CREATE TABLE bank_sim_cards (
    token VARCHAR(64) NOT NULL PRIMARY KEY,
    number VARCHAR(19) NOT NULL,
    created_at {{time}} NOT NULL
) {{table}};

-- declined is 1 for a debit the bank refused for good (replayed to
-- retries); refunded is what its refunds gave back, never above amount.
CREATE TABLE bank_sim_debits (
    id {{pk}},
    reference VARCHAR(128) NOT NULL,
    card_token VARCHAR(64) NOT NULL,
    amount BIGINT NOT NULL,
    currency CHAR(3) NOT NULL,
    bank_reference VARCHAR(40) NOT NULL,
    declined INTEGER NOT NULL,
    refunded BIGINT NOT NULL,
    created_at {{time}} NOT NULL
) {{table}};
CREATE UNIQUE INDEX bank_sim_debits_reference ON bank_sim_debits (reference);

CREATE TABLE bank_sim_refunds (
    id {{pk}},
    reference VARCHAR(128) NOT NULL,
    debit_reference VARCHAR(128) NOT NULL,
    amount BIGINT NOT NULL,
    currency CHAR(3) NOT NULL,
    bank_reference VARCHAR(40) NOT NULL,
    created_at {{time}} NOT NULL
) {{table}};
CREATE UNIQUE INDEX bank_sim_refunds_reference ON bank_sim_refunds (reference);

CREATE TABLE bank_sim_payouts (
    id {{pk}},
    reference VARCHAR(128) NOT NULL,
    account_number VARCHAR(34) NOT NULL,
    account_holder VARCHAR(128) NOT NULL,
    account_bank VARCHAR(128) NOT NULL,
    amount BIGINT NOT NULL,
    currency CHAR(3) NOT NULL,
    bank_reference VARCHAR(40) NOT NULL,
    status VARCHAR(16) NOT NULL,
    reason VARCHAR(255) NOT NULL,
    updated_at {{time}} NOT NULL
) {{table}};
CREATE UNIQUE INDEX bank_sim_payouts_reference ON bank_sim_payouts (reference);
CREATE INDEX bank_sim_payouts_status ON bank_sim_payouts (status);

-- +goose Down
DROP TABLE bank_sim_payouts;
DROP TABLE bank_sim_refunds;
DROP TABLE bank_sim_debits;
DROP TABLE bank_sim_cards;
