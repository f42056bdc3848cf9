#include <sqlite3.h>

/// sqlite3_db_config is variadic, which Swift cannot call: these fixed-argument wrappers can.
/// Turns SQLite's defensive mode on (no writes to the schema tables, no corrupting PRAGMAs).
static inline int valkyrie_sqlite_enable_defensive(sqlite3 *db) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)0);
}

/// 1 when defensive mode is on, 0 when off, -1 when it cannot be read.
static inline int valkyrie_sqlite_defensive(sqlite3 *db) {
    int on = -1;
    if (sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, -1, &on) != SQLITE_OK) return -1;
    return on;
}
