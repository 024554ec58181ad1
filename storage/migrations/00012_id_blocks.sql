-- Blocks of ids handed out to instances, so that rows written in bulk inside
-- a ledger batch (orders, events) have their ids before they are written.

-- +goose Up
CREATE TABLE id_blocks (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    next_id BIGINT NOT NULL
) {{table}};

-- +goose Down
DROP TABLE id_blocks;
