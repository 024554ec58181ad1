-- Payout modes (issue 15): how a merchant's settled money reaches its bank.
-- 'auto' pays each batch to the bound account at its due date; 'manual'
-- settles it into the available balance, from which the owner withdraws.
-- A merchant without a row is 'auto'. The operator sets it
-- (`paydesk merchant set --id N --payout-mode auto|manual`).

-- +goose Up
CREATE TABLE merchant_payout_modes (
    merchant_id BIGINT NOT NULL PRIMARY KEY,
    mode VARCHAR(16) NOT NULL,
    updated_at {{time}} NOT NULL
) {{table}};

-- +goose Down
DROP TABLE merchant_payout_modes;
