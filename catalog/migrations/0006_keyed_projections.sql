-- The projections keyed by (chain, seq) are stored in that key's order (WITHOUT ROWID): each row is one B-tree
-- entry instead of a table row plus the primary key's index, so an event that adds one (a file restore, an
-- export, a drill check) writes one structure fewer. Same columns, rows and indexes as before.
CREATE TABLE exports_v6 (
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
) STRICT, WITHOUT ROWID;
INSERT INTO exports_v6 SELECT chain, seq, set_id, export, vault, recipients, vaults, digest, size, recorded_at FROM exports;
DROP TABLE exports;
ALTER TABLE exports_v6 RENAME TO exports;
CREATE INDEX exports_by_set ON exports (set_id, seq);

CREATE TABLE drill_checks_v6 (
    chain        TEXT    NOT NULL DEFAULT '',
    seq          INTEGER NOT NULL,
    drill_id     TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    passed       INTEGER NOT NULL,
    evidence     TEXT    NOT NULL,
    checked_at   TEXT    NOT NULL,
    PRIMARY KEY (chain, seq)
) STRICT, WITHOUT ROWID;
INSERT INTO drill_checks_v6 SELECT chain, seq, drill_id, name, passed, evidence, checked_at FROM drill_checks;
DROP TABLE drill_checks;
ALTER TABLE drill_checks_v6 RENAME TO drill_checks;
CREATE INDEX drill_checks_by_drill ON drill_checks (drill_id, seq);

CREATE TABLE restores_v6 (
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
) STRICT, WITHOUT ROWID;
INSERT INTO restores_v6 SELECT chain, seq, set_id, kind, item, path, vault, target, size, digest, recipients, restored_at
    FROM restores;
DROP TABLE restores;
ALTER TABLE restores_v6 RENAME TO restores;
CREATE INDEX restores_by_set ON restores (set_id, seq);
