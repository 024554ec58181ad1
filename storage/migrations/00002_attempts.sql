-- Failed-attempt counters behind every lock-out (login, dynamic passwords,
-- payment codes). In the database so that a limit holds across instances.

-- +goose Up
CREATE TABLE attempts (
    attempt_key VARCHAR(191) NOT NULL PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start {{time}} NOT NULL,
    locked_until {{time}} NULL
) {{table}};

-- +goose Down
DROP TABLE attempts;
