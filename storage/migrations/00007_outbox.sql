-- The outbox of real-time push (SPEC §6): every event is written here in the
-- transaction of the change it reports, numbered in its merchant's sequence
-- (and, when it concerns a wallet, in the wallet's), and delivered from here.
-- event_sequences and wallet_event_sequences hold the last number given;
-- incrementing the row inside the transaction locks it until commit, so the
-- numbers of one merchant commit in order and a rollback gives its number back.

-- +goose Up
CREATE TABLE events (
    id {{pk}},
    merchant_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    type VARCHAR(48) NOT NULL,
    order_id BIGINT NOT NULL,
    store_id BIGINT NOT NULL,
    cashier_id BIGINT NOT NULL,
    wallet_id BIGINT NOT NULL,
    wallet_seq BIGINT NULL,
    payload TEXT NOT NULL,
    created_at {{time}} NOT NULL
) {{table}};
CREATE UNIQUE INDEX ux_events_merchant_seq ON events (merchant_id, seq);
-- wallet_seq is NULL for events of no wallet; NULLs never collide.
CREATE UNIQUE INDEX ux_events_wallet_seq ON events (wallet_id, wallet_seq);

-- updated_at is when a merchant's sequence last moved: the dispatchers poll
-- it to find the merchants with new events, whatever order ids commit in.
CREATE TABLE event_sequences (
    merchant_id BIGINT NOT NULL PRIMARY KEY,
    last_seq BIGINT NOT NULL,
    updated_at {{time}} NOT NULL
) {{table}};
CREATE INDEX ix_event_sequences_updated ON event_sequences (updated_at);

CREATE TABLE wallet_event_sequences (
    wallet_id BIGINT NOT NULL PRIMARY KEY,
    last_seq BIGINT NOT NULL
) {{table}};

-- +goose Down
DROP TABLE wallet_event_sequences;
DROP TABLE event_sequences;
DROP TABLE events;
