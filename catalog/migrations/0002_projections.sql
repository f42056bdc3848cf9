-- Projections: derived only from events; `valkyrie catalog rebuild` empties and replays them.
CREATE TABLE sets (
    id                TEXT    PRIMARY KEY,          -- lowercase UUID
    name              TEXT    NOT NULL UNIQUE,      -- <UTC compact time>_<host>
    host              TEXT    NOT NULL,
    ordinal           INTEGER NOT NULL,             -- 1, 2, ... per host
    status            TEXT    NOT NULL CHECK (status IN ('running', 'complete', 'partial', 'failed')),
    started_at        TEXT    NOT NULL,
    finished_at       TEXT,
    valkyrie_version  TEXT    NOT NULL,
    item_count        INTEGER NOT NULL DEFAULT 0,
    size              INTEGER NOT NULL DEFAULT 0,
    warnings          TEXT    NOT NULL DEFAULT '[]', -- JSON array of the set's own warnings
    warning_count     INTEGER NOT NULL DEFAULT 0,    -- the set's and its items' warnings
    error             TEXT,
    forgotten_at      TEXT,
    UNIQUE (host, ordinal)
) STRICT;

CREATE INDEX sets_listed ON sets (started_at, name)
    WHERE status IN ('complete', 'partial') AND forgotten_at IS NULL;

CREATE TABLE items (
    set_id        TEXT    NOT NULL,
    item          TEXT    NOT NULL,   -- postgres, etc, var-lib, swtpm, vault-keys, secrets, s3, version, ...
    root          TEXT    NOT NULL,   -- opaque reference the repository resolves
    digest        TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    files         INTEGER NOT NULL,
    key_material  INTEGER NOT NULL,   -- 0/1: readable by root only
    warnings      TEXT    NOT NULL,   -- JSON array
    captured_at   TEXT    NOT NULL,
    PRIMARY KEY (set_id, item)
) STRICT;

CREATE TABLE exports (
    seq          INTEGER PRIMARY KEY,
    set_id       TEXT    NOT NULL,
    export       TEXT    NOT NULL,    -- vault-keys, secrets, vault-key
    vault        TEXT,
    recipients   TEXT    NOT NULL,    -- JSON array of fingerprints
    vaults       TEXT    NOT NULL,    -- JSON array of the vaults covered
    digest       TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    recorded_at  TEXT    NOT NULL
) STRICT;
CREATE INDEX exports_by_set ON exports (set_id, seq);

CREATE TABLE drills (
    id           TEXT    PRIMARY KEY,
    set_id       TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('running', 'passed', 'failed')),
    started_at   TEXT    NOT NULL,
    finished_at  TEXT,
    passed       INTEGER NOT NULL DEFAULT 0,
    failed       INTEGER NOT NULL DEFAULT 0,
    report       TEXT
) STRICT;
CREATE INDEX drills_by_set ON drills (set_id, started_at);

CREATE TABLE drill_checks (
    seq          INTEGER PRIMARY KEY,
    drill_id     TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    passed       INTEGER NOT NULL,
    evidence     TEXT    NOT NULL,
    checked_at   TEXT    NOT NULL
) STRICT;
CREATE INDEX drill_checks_by_drill ON drill_checks (drill_id, seq);

CREATE TABLE restores (
    seq          INTEGER PRIMARY KEY,
    set_id       TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('file', 'key')),
    item         TEXT,
    path         TEXT,
    vault        TEXT,
    target       TEXT,
    size         INTEGER,
    digest       TEXT,
    recipients   TEXT    NOT NULL,   -- JSON array (key extractions)
    restored_at  TEXT    NOT NULL
) STRICT;
CREATE INDEX restores_by_set ON restores (set_id, seq);
