-- The last part of every indexed path (the file name, '' for '/'), indexed: `find NAME` and `find */NAME` look the
-- name up instead of reading the whole file and vault index. New rows get it where they are merged in
-- (ContentTable.insertNew); existing rows get it here, from the path and its stored parent.
ALTER TABLE file_index ADD COLUMN name TEXT NOT NULL DEFAULT '';
UPDATE file_index SET name = substr(path, length(parent) + CASE WHEN parent = '/' THEN 1 ELSE 2 END);
CREATE INDEX file_index_by_name ON file_index (name);

ALTER TABLE vault_index ADD COLUMN name TEXT NOT NULL DEFAULT '';
UPDATE vault_index SET name = substr(path, length(parent) + CASE WHEN parent = '/' THEN 1 ELSE 2 END);
CREATE INDEX vault_index_by_name ON vault_index (name, vault);
