-- The wallet's secrets are stored sealed (AES-256-GCM under PAYDESK_DATA_KEY,
-- wallet.Sealer): "v1:" and the base64 of nonce, ciphertext and tag, 83
-- characters for a 32-character TOTP secret, more than totp_secret held.
-- SQLite and MySQL spell changing a column's type differently, so the column
-- is replaced: added wider, filled, the old one dropped, the new one renamed.
-- Rows already in the table keep their plain secrets until paydesk seals them
-- at start-up (wallet.GormStore.SealPlaintextSecrets).

-- +goose Up
ALTER TABLE wallets ADD COLUMN totp_secret_sealed VARCHAR(255) NOT NULL DEFAULT '';
UPDATE wallets SET totp_secret_sealed = totp_secret;
ALTER TABLE wallets DROP COLUMN totp_secret;
ALTER TABLE wallets RENAME COLUMN totp_secret_sealed TO totp_secret;

-- +goose Down
-- The narrower column would not hold sealed secrets; the wider one stays.
