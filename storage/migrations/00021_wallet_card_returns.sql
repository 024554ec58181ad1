-- A card shortfall that goes back to its card (wallet.ReturnShortfall: the
-- payment it was charged for went to another payer, or closed) leaves the
-- wallet's cash for the card-refunds account in one transaction, and then
-- the bank is asked to refund the debit. This row is written in that same
-- transaction, so a bank that does not answer leaves a PENDING row that
-- the wallet's sweep retries until the card (or, if the card can no
-- longer take it, the wallet's cash) has the money back.

-- +goose Up
CREATE TABLE wallet_card_returns (
    debit_reference VARCHAR(128) NOT NULL PRIMARY KEY,
    wallet_id BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    state VARCHAR(16) NOT NULL,
    created_at {{time}} NOT NULL,
    updated_at {{time}} NOT NULL
) {{table}};
CREATE INDEX ix_wallet_card_returns_state ON wallet_card_returns (state, created_at);

-- +goose Down
DROP TABLE wallet_card_returns;
