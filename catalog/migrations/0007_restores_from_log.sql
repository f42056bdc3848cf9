-- A set's restores are read from the log (its file.restored and key.extracted events, Queries.restores) instead of
-- a `restores` table the appends copied them into: a restore appends one event per file, and writing each a second
-- time (a row of that table and of its set index) was a quarter of an append's CPU time. They are found through the
-- set index of this catalog's events (events_by_set) and, new here, of the chains copied in from other hosts.
DROP TABLE restores;

CREATE INDEX peer_events_by_set ON peer_events (set_id, chain, seq) WHERE set_id IS NOT NULL;
