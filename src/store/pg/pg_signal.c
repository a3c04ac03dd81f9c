/*
 * store/pg_signal: wake-ups between the heraldd sharing one PostgreSQL
 * (store_signal_* in store.h), carried by LISTEN and NOTIFY on
 * PG_SIGNAL_CHANNEL with the sender's instance id as the payload.
 *
 * Why not NOTIFY inside the intake transaction, where it would be exact:
 * PostgreSQL serialises the commits of transactions that notify (they queue
 * behind one lock), which would undo group commit. A signal is sent after
 * the commit, on a session of its own (beacon.c), and is only a hint: the
 * listener re-reads which hosts have due work.
 *
 * The listening session is the scheduler's own: a notification waits in the
 * socket while it is idle (store_signal_fd wakes its poll) and in libpq's
 * queue while it runs statements (store_signal_take finds it after them).
 * pg_connect.c's session set-up repeats the LISTEN on every new connection,
 * before any statement runs on it; signals sent while there was none (a
 * restart, a failover) are lost, so the first take on a new connection
 * reports a signal: the listener looks for work after it listens again,
 * never before.
 */
#include <string.h>

#include "pg.h"

int pg_signal_send(Store *base, const char *sender, char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_text(&params, sender);
    return pg_run_done(pg_of(base), PG_SQL_SIGNAL_SEND, &params, "send signal", err, errlen);
}

int pg_signal_listen(Store *base, char *err, size_t errlen)
{
    PgStore *store = pg_of(base);
    store->listening = true; /* and on each reconnection */
    return pg_exec(store, "LISTEN " PG_SIGNAL_CHANNEL, "listen", err, errlen);
}

int pg_signal_fd(Store *base)
{
    PgStore *store = pg_of(base);
    return store->conn != NULL ? PQsocket(store->conn) : -1;
}

int pg_signal_take(Store *base, const char *self, bool *signalled, char *err, size_t errlen)
{
    PgStore *store = pg_of(base);
    if (store->conn == NULL)
        return 0;
    if (store->signal_connection != store->connection) {
        if (store->signal_connection != 0)
            *signalled = true; /* a new session: what was sent meanwhile is lost */
        store->signal_connection = store->connection;
    }
    if (PQconsumeInput(store->conn) == 0) {
        snprintf(err, errlen, "reading signals: %s", PQerrorMessage(store->conn));
        err[strcspn(err, "\n")] = '\0';
        pg_check_connection(store);
        return -1;
    }
    PGnotify *notify;
    while ((notify = PQnotifies(store->conn)) != NULL) {
        if (strcmp(notify->extra, self) != 0)
            *signalled = true;
        PQfreemem(notify);
    }
    return 0;
}
