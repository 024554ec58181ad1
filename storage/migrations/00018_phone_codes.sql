-- One-time codes sent by SMS to prove a phone number is the caller's
-- (wallet registration). One live code per (phone, purpose); only its hash
-- is kept.

-- +goose Up
CREATE TABLE phone_codes (
    phone VARCHAR(32) NOT NULL,
    purpose VARCHAR(32) NOT NULL,
    code_hash VARCHAR(64) NOT NULL,
    failures INTEGER NOT NULL,
    sent_at {{time}} NOT NULL,
    expires_at {{time}} NOT NULL,
    PRIMARY KEY (phone, purpose)
) {{table}};

-- +goose Down
DROP TABLE phone_codes;
