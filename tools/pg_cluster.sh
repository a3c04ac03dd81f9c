#!/bin/sh
# A throwaway PostgreSQL cluster for tests and benchmarks; never touches another.
#
#   tools/pg_cluster.sh start DIR [SETTING=VALUE ...]   initdb into DIR/data, start it
#   tools/pg_cluster.sh stop DIR                        stop it (by its PID file), remove DIR
#   tools/pg_cluster.sh down|up|restart DIR             stop / start / restart its server,
#                                                       keeping its data (outage tests)
#   tools/pg_cluster.sh crash DIR                       stop it as a crash would
#                                                       (pg_ctl -m immediate: no checkpoint,
#                                                       crash recovery at the next up)
#   tools/pg_cluster.sh standby PRIMARY DIR [SETTING=VALUE ...]
#                                                       a streaming standby of the cluster in
#                                                       PRIMARY (pg_basebackup -R -X stream
#                                                       -C -S), started; its cluster_name is
#                                                       its directory's base name
#   tools/pg_cluster.sh promote DIR                     make a standby the primary
#
# port=N among the settings sets the server's port (its socket's name, and its TCP port
# with listen_addresses=127.0.0.1); the default is 5432.
#
# The cluster listens only on a Unix socket in DIR (no TCP port), runs with fsync
# and synchronous_commit on, and trusts local connections. It has the superuser
# "postgres" and the role "herald" (LOGIN only: what heraldd gets in tests).
# As root (CI) the server runs as the unprivileged user postgres (runuser); as any
# other user, as that user. DIR must not exist yet; its parent must be reachable by
# the server's user.
set -eu
action=${1:-}
dir=${2:-}
[ -n "$action" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|down|up|restart|crash|promote DIR [SETTING=VALUE ...] | standby PRIMARY DIR [SETTING=VALUE ...]" >&2; exit 2; }
shift 2
if [ "$action" = standby ]; then
    primary=$dir
    dir=${1:-}
    [ -n "$dir" ] || { echo "usage: $0 standby PRIMARY DIR [SETTING=VALUE ...]" >&2; exit 2; }
    shift
fi
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "pg_cluster: no PostgreSQL server (install Debian's postgresql)" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The server's options (saved for up and restart) and port, from the settings.
make_options() {
    options="-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=on"
    options="$options -c synchronous_commit=on -c max_connections=300"
    port=5432
    for setting in "$@"; do
        options="$options -c $setting"
        case "$setting" in port=*) port=${setting#port=} ;; esac
    done
    printf '%s\n' "$options" >"$dir/options"
    printf '%s\n' "$port" >"$dir/port"
}

make_dir() {
    if [ "$(id -u)" -eq 0 ]; then
        install -d -o postgres -g postgres -m 0755 "$dir"
    else
        install -d -m 0755 "$dir"
    fi
}

case "$action" in
start)
    make_dir
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C \
        --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    make_options "$@"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$options" \
        start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$bindir/psql" -h "$dir" -p "$port" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE herald LOGIN" >/dev/null
    ;;
standby)
    make_dir
    name=$(basename "$dir")
    primary_port=$(cat "$primary/port" 2>/dev/null || echo 5432)
    as_owner "$bindir/pg_basebackup" -h "$primary" -p "$primary_port" -U postgres \
        -D "$dir/data" -R -X stream -C -S "$(printf '%s' "$name" | tr -c 'a-z0-9_\n' _)" \
        >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; exit 1; }
    make_options "cluster_name=$name" "$@"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$options" \
        start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    ;;
promote)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -w -t 60 promote >/dev/null
    ;;
stop)
    [ -d "$dir" ] || exit 0
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || {
            pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)
            [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
        }
    fi
    rm -rf "$dir"
    ;;
down)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null
    ;;
crash)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null
    ;;
up)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "$(cat "$dir/options")" start >/dev/null || { tail -n 20 "$dir/server.log" >&2; exit 1; }
    ;;
restart)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 \
        -o "$(cat "$dir/options")" restart >/dev/null || { tail -n 20 "$dir/server.log" >&2; exit 1; }
    ;;
*)
    echo "usage: $0 start|stop|down|up|restart|crash DIR [SETTING=VALUE ...]" >&2
    exit 2
    ;;
esac
