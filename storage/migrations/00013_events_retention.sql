-- Event retention: the server deletes outbox events older than
-- PAYDESK_EVENT_RETENTION, oldest first, a few hundred rows at a time
-- (push.Outbox.Purge); this index finds them without scanning the table.
-- The sequences' last numbers stay in event_sequences and
-- wallet_event_sequences, so deleting events never changes numbering.

-- +goose Up
CREATE INDEX ix_events_created ON events (created_at);

-- +goose Down
-- SQLite and MySQL spell DROP INDEX differently; dropping the table drops
-- the index (00007's Down).
