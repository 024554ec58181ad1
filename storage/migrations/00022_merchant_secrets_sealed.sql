-- A webhook endpoint's signing secret and a checkout session's return
-- secret are stored sealed (AES-256-GCM under PAYDESK_DATA_KEY, package
-- internal/seal), as the wallets' secrets are (00014): "v1:" and the base64
-- of nonce, ciphertext and tag, 107 characters for a 49-character webhook
-- secret, more than the columns held. The columns are replaced as in 00014.
-- Endpoints already in the table keep their plain secrets until paydesk
-- seals them at start-up (webhook.GormStorage.SealPlaintextSecrets);
-- sessions, which live minutes, are read plain until they expire.

-- +goose Up
ALTER TABLE webhook_endpoints ADD COLUMN secret_sealed VARCHAR(255) NOT NULL DEFAULT '';
UPDATE webhook_endpoints SET secret_sealed = secret;
ALTER TABLE webhook_endpoints DROP COLUMN secret;
ALTER TABLE webhook_endpoints RENAME COLUMN secret_sealed TO secret;
ALTER TABLE checkout_sessions ADD COLUMN return_secret_sealed VARCHAR(255) NOT NULL DEFAULT '';
UPDATE checkout_sessions SET return_secret_sealed = return_secret;
ALTER TABLE checkout_sessions DROP COLUMN return_secret;
ALTER TABLE checkout_sessions RENAME COLUMN return_secret_sealed TO return_secret;

-- +goose Down
-- The narrower columns would not hold sealed secrets; the wider ones stay.
