-- Chains in the repository (docs/repository-format.md, Chains): what the repository last confirmed of this
-- catalog's chain, and the chains of other catalogs (other hosts) copied in by `catalog rebuild --from-repository`.

-- The head this catalog last wrote into (and read back from) each repository: a repository whose head is
-- behind it was rolled back. Bookkeeping, not an event.
CREATE TABLE repository_heads (
    repository   TEXT    PRIMARY KEY,   -- the repository's config id
    chain        TEXT    NOT NULL,      -- this catalog's chain id (lowercase UUID of its event 1)
    seq          INTEGER NOT NULL,
    hash         BLOB    NOT NULL,
    confirmed_at TEXT    NOT NULL
) STRICT;

-- Other catalogs' chains, exactly as their hosts recorded them (same columns and hashes as `events`).
CREATE TABLE peer_events (
    chain        TEXT    NOT NULL,      -- lowercase UUID of that chain's event 1
    seq          INTEGER NOT NULL,
    uuid         TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    occurred_at  TEXT    NOT NULL,
    recorded_at  TEXT    NOT NULL,
    host         TEXT    NOT NULL,
    actor_uid    INTEGER NOT NULL,
    actor_name   TEXT    NOT NULL,
    set_id       TEXT,
    payload      TEXT    NOT NULL,
    prev_hash    BLOB    NOT NULL,
    hash         BLOB    NOT NULL,
    PRIMARY KEY (chain, seq)
) STRICT;

CREATE TRIGGER peer_events_no_update BEFORE UPDATE ON peer_events
BEGIN
    SELECT RAISE(ABORT, 'catalog events are append-only: UPDATE rejected');
END;

CREATE TRIGGER peer_events_no_delete BEFORE DELETE ON peer_events
BEGIN
    SELECT RAISE(ABORT, 'catalog events are append-only: DELETE rejected');
END;

-- Projections keyed by an event's seq are keyed by (chain, seq) now: '' is this catalog's own chain.
CREATE TABLE exports_v4 (
    chain        TEXT    NOT NULL DEFAULT '',
    seq          INTEGER NOT NULL,
    set_id       TEXT    NOT NULL,
    export       TEXT    NOT NULL,
    vault        TEXT,
    recipients   TEXT    NOT NULL,
    vaults       TEXT    NOT NULL,
    digest       TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    recorded_at  TEXT    NOT NULL,
    PRIMARY KEY (chain, seq)
) STRICT;
INSERT INTO exports_v4 (seq, set_id, export, vault, recipients, vaults, digest, size, recorded_at)
    SELECT seq, set_id, export, vault, recipients, vaults, digest, size, recorded_at FROM exports;
DROP TABLE exports;
ALTER TABLE exports_v4 RENAME TO exports;
CREATE INDEX exports_by_set ON exports (set_id, seq);

CREATE TABLE drill_checks_v4 (
    chain        TEXT    NOT NULL DEFAULT '',
    seq          INTEGER NOT NULL,
    drill_id     TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    passed       INTEGER NOT NULL,
    evidence     TEXT    NOT NULL,
    checked_at   TEXT    NOT NULL,
    PRIMARY KEY (chain, seq)
) STRICT;
INSERT INTO drill_checks_v4 (seq, drill_id, name, passed, evidence, checked_at)
    SELECT seq, drill_id, name, passed, evidence, checked_at FROM drill_checks;
DROP TABLE drill_checks;
ALTER TABLE drill_checks_v4 RENAME TO drill_checks;
CREATE INDEX drill_checks_by_drill ON drill_checks (drill_id, seq);

CREATE TABLE restores_v4 (
    chain        TEXT    NOT NULL DEFAULT '',
    seq          INTEGER NOT NULL,
    set_id       TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('file', 'key')),
    item         TEXT,
    path         TEXT,
    vault        TEXT,
    target       TEXT,
    size         INTEGER,
    digest       TEXT,
    recipients   TEXT    NOT NULL,
    restored_at  TEXT    NOT NULL,
    PRIMARY KEY (chain, seq)
) STRICT;
INSERT INTO restores_v4 (seq, set_id, kind, item, path, vault, target, size, digest, recipients, restored_at)
    SELECT seq, set_id, kind, item, path, vault, target, size, digest, recipients, restored_at FROM restores;
DROP TABLE restores;
ALTER TABLE restores_v4 RENAME TO restores;
CREATE INDEX restores_by_set ON restores (set_id, seq);
