-- The event log: append-only and hash-chained (catalog/canonical-encoding.md).
CREATE TABLE events (
    seq          INTEGER PRIMARY KEY,   -- 1, 2, 3, ... without gaps
    uuid         TEXT    NOT NULL UNIQUE,
    type         TEXT    NOT NULL,      -- e.g. backup.completed; unknown (newer) types are kept as they are
    version      INTEGER NOT NULL,      -- payload schema version of that type
    occurred_at  TEXT    NOT NULL,      -- UTCTime.string
    recorded_at  TEXT    NOT NULL,
    host         TEXT    NOT NULL,
    actor_uid    INTEGER NOT NULL,
    actor_name   TEXT    NOT NULL,
    set_id       TEXT,                  -- the set the event concerns, if any (lowercase UUID)
    payload      TEXT    NOT NULL,      -- JSON object, exactly the bytes that were hashed
    prev_hash    BLOB    NOT NULL,
    hash         BLOB    NOT NULL
) STRICT;

CREATE INDEX events_by_type ON events (type, seq);
CREATE INDEX events_by_set ON events (set_id, seq) WHERE set_id IS NOT NULL;
CREATE INDEX events_by_time ON events (occurred_at);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'catalog events are append-only: UPDATE rejected');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'catalog events are append-only: DELETE rejected');
END;
