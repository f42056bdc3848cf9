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

/// Reads the first `count` bytes of the database file at `path` through SQLite's own file handle. A descriptor
/// of our own would do, but closing it drops every POSIX lock this process holds on the file, including the
/// locks of SQLite connections already open on it, and another process may then delete their WAL.
/// Returns SQLITE_OK, SQLITE_IOERR_SHORT_READ (the rest zero-filled) or an error code.
static inline int valkyrie_sqlite_read_prefix(const char *path, unsigned char *out, int count) {
    sqlite3 *db = 0;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, 0);
    if (rc == SQLITE_OK) {
        sqlite3_file *file = 0;
        rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file);
        if (rc == SQLITE_OK) rc = (file && file->pMethods) ? file->pMethods->xRead(file, out, count, 0) : SQLITE_CANTOPEN;
    }
    sqlite3_close(db);
    return rc;
}

/// Binds `length` bytes of UTF-8 text, copied by SQLite (SQLITE_TRANSIENT, a macro Swift cannot import). An empty
/// text may come without a pointer: it binds the empty text, never NULL.
static inline int valkyrie_sqlite_bind_text(sqlite3_stmt *statement, int index, const unsigned char *text, int length) {
    return sqlite3_bind_text(statement, index, text ? (const char *)text : "", length, SQLITE_TRANSIENT);
}
