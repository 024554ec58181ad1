-- Refresh tokens (rbac): one row per token ever issued, stored by the SHA-256
-- of the token, never the token. A login starts a family; each refresh
-- retires a row (rotated_at) and adds the next. Presenting a retired token
-- again revokes the whole family (revoked_at on every row of it).

-- +goose Up
CREATE TABLE refresh_tokens (
    id {{pk}},
    token_hash CHAR(64) NOT NULL,
    family_id VARCHAR(64) NOT NULL,
    subject_kind VARCHAR(16) NOT NULL,
    subject_id BIGINT NOT NULL,
    merchant_id BIGINT NOT NULL DEFAULT 0,
    store_id BIGINT NOT NULL DEFAULT 0,
    role VARCHAR(16) NOT NULL,
    issued_at {{time}} NOT NULL,
    expires_at {{time}} NOT NULL,
    rotated_at {{time}} NULL,
    revoked_at {{time}} NULL
) {{table}};
CREATE UNIQUE INDEX ux_refresh_tokens_hash ON refresh_tokens (token_hash);
CREATE INDEX ix_refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX ix_refresh_tokens_subject ON refresh_tokens (subject_kind, subject_id);
CREATE INDEX ix_refresh_tokens_expires ON refresh_tokens (expires_at);

-- +goose Down
DROP TABLE refresh_tokens;
