-- File and vault index: filled from set contents (SetContents), one row per version of a path with the
-- range of per-host set ordinals in which it holds, so an unchanged path costs one row however many sets.
CREATE TABLE file_index (
    host           TEXT    NOT NULL,
    item           TEXT    NOT NULL,
    path           TEXT    NOT NULL,   -- absolute, as shown under sets/<set>/ in the mount
    parent         TEXT    NOT NULL,   -- the directory holding path ('' for '/')
    version        TEXT    NOT NULL,   -- digest that changes with content or metadata
    kind           TEXT    NOT NULL,   -- file, directory, symlink, other
    size           INTEGER NOT NULL,
    mode           INTEGER NOT NULL,
    uid            INTEGER NOT NULL,
    gid            INTEGER NOT NULL,
    mtime_ns       INTEGER NOT NULL,
    node           TEXT    NOT NULL,   -- opaque reference the repository resolves
    first_ordinal  INTEGER NOT NULL,
    last_ordinal   INTEGER NOT NULL,
    PRIMARY KEY (host, item, path, version, first_ordinal)
) STRICT, WITHOUT ROWID;
CREATE INDEX file_index_by_path ON file_index (path, host, first_ordinal);
CREATE INDEX file_index_by_parent ON file_index (host, parent, first_ordinal);

CREATE TABLE vault_index (
    host           TEXT    NOT NULL,
    vault          TEXT    NOT NULL,
    path           TEXT    NOT NULL,   -- logical Vaulthalla path, leading '/'
    parent         TEXT    NOT NULL,
    version        TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    backing_path   TEXT,
    size           INTEGER NOT NULL,
    iv             TEXT,
    key_version    INTEGER,
    content_hash   TEXT,
    format         INTEGER,
    node           TEXT    NOT NULL,
    first_ordinal  INTEGER NOT NULL,
    last_ordinal   INTEGER NOT NULL,
    PRIMARY KEY (host, vault, path, version, first_ordinal)
) STRICT, WITHOUT ROWID;
CREATE INDEX vault_index_by_path ON vault_index (vault, path, first_ordinal);
CREATE INDEX vault_index_by_parent ON vault_index (host, vault, parent, first_ordinal);

-- Which sets the indexes hold, so a set is added once and in ordinal order per host.
CREATE TABLE indexed_sets (
    set_id   TEXT    PRIMARY KEY,
    host     TEXT    NOT NULL,
    ordinal  INTEGER NOT NULL,
    UNIQUE (host, ordinal)
) STRICT;
