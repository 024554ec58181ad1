-- A wallet's vouchers_until is the latest expiry of any voucher it was
-- issued (NULL: it never had one). Every code payment plans its funding,
-- and most wallets have no voucher: a wallet whose vouchers_until has
-- passed can have no active voucher, so the plan does not look for one
-- (the voucher query was the costliest statement of a scan payment on
-- MariaDB). wallet.GormStore.CreateVoucher raises it in the voucher's own
-- transaction; a voucher given back by a refund expires by it too.

-- +goose Up
ALTER TABLE wallets ADD COLUMN vouchers_until {{time}} NULL;
UPDATE wallets SET vouchers_until = (SELECT MAX(expires_at) FROM wallet_vouchers WHERE wallet_vouchers.wallet_id = wallets.id);

-- +goose Down
ALTER TABLE wallets DROP COLUMN vouchers_until;
