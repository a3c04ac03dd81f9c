"""The database a test's heraldd uses, for either backend, and a way to look into it.

HERALD_TEST_BACKEND (set by run.py) says which backend the suite runs against:
"sqlite" (a file in the test's directory) or "postgresql" (a fresh database in the
throwaway cluster run.py started, whose socket directory is HERALD_TEST_PG_DIR).
Tests read and change rows through TestDatabase.query/execute with SQLite-style "?"
parameters, whatever the backend, so the same test checks both.

PostgreSQL is reached with a minimal client of its wire protocol (startup, trust
authentication, simple queries, text results): Python's standard library has none,
and the tests may install nothing from PyPI.
"""
import itertools
import os
import socket
import sqlite3
import struct

BACKEND = os.environ.get("HERALD_TEST_BACKEND", "sqlite")
PG_DIR = os.environ.get("HERALD_TEST_PG_DIR", "")
MIGRATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "migrations")
_names = itertools.count(1)


def migration_files(backend=None):
    """(version, lines) of each migrations/BACKEND/NNN_name.sql."""
    folder = os.path.join(MIGRATIONS, backend or BACKEND)
    for name in os.listdir(folder):
        if name.endswith(".sql"):
            with open(os.path.join(folder, name)) as f:
                yield int(name.split("_")[0]), f.read().splitlines()


def schema_version(backend=None):
    """The newest migrations/BACKEND/NNN_name.sql: all of that backend's schema."""
    return max(version for version, _ in migration_files(backend))


def schema_beside_older(older, backend=None):
    """The schema a start-up leaves while a heraldd that knows only OLDER migrations
    still runs: up to the first migration that waits for such heraldd to be gone (the
    line "-- herald: once-no-heraldd-before N" with N > OLDER), or all of it."""
    held = [version for version, lines in migration_files(backend) for line in lines
            if line.startswith("-- herald: once-no-heraldd-before ")
            and int(line.rsplit(" ", 1)[1]) > older]
    return min(held) - 1 if held else schema_version(backend)


def schema_stops(backend=None):
    """The schemas (version, whether the tasks table exists) a start-up that fails part-way
    may leave: none, or all, or (PostgreSQL) all the migrations before one that runs
    outside a transaction (the line "-- herald: no-transaction") or up to it, since each
    of those is recorded on its own, once it succeeded, apart from the transactions of
    the migrations around it."""
    stops = {(0, 0), (schema_version(backend), 1)}
    for version, lines in migration_files(backend):
        if "-- herald: no-transaction" in lines:
            stops.add((version - 1, 1))
            stops.add((version, 1))
    return stops


class PgError(Exception):
    def __init__(self, fields):
        self.fields = fields
        super().__init__("%s: %s" % (fields.get("C", "?"), fields.get("M", "?")))


class PgConnection:
    """One session over the cluster's Unix socket; queries in the simple protocol."""

    def __init__(self, database, user="postgres", directory=None, port=5432):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(os.path.join(directory or PG_DIR, ".s.PGSQL.%d" % port))
        body = struct.pack("!i", 196608)
        for key, value in (("user", user), ("database", database)):
            body += key.encode() + b"\0" + value.encode() + b"\0"
        body += b"\0"
        self.sock.sendall(struct.pack("!i", len(body) + 4) + body)
        self.parameters = {}
        self._until_ready()

    def _read(self, size):
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("PostgreSQL closed the connection")
            data += chunk
        return data

    def _message(self):
        kind = self._read(1)
        (length,) = struct.unpack("!i", self._read(4))
        return kind, self._read(length - 4)

    @staticmethod
    def _fields(body):
        fields = {}
        for part in body.split(b"\0"):
            if part:
                fields[chr(part[0])] = part[1:].decode("utf-8", "replace")
        return fields

    def _until_ready(self):
        error = None
        while True:
            kind, body = self._message()
            if kind == b"R" and struct.unpack("!i", body[:4])[0] != 0:
                raise ConnectionError("the test cluster asked for a password")
            if kind == b"S":
                key, value = body[:-1].split(b"\0", 1)
                self.parameters[key.decode()] = value.decode()
            if kind == b"E":
                error = PgError(self._fields(body))
            if kind == b"Z":
                if error:
                    raise error
                return

    def query(self, sql):
        """Runs SQL; returns the rows of the last statement as tuples of Python values."""
        data = sql.encode() + b"\0"
        self.sock.sendall(b"Q" + struct.pack("!i", len(data) + 4) + data)
        rows, types, error = [], [], None
        while True:
            kind, body = self._message()
            if kind == b"T":
                (count,) = struct.unpack("!h", body[:2])
                offset, types, rows = 2, [], []
                for _ in range(count):
                    offset = body.index(b"\0", offset) + 1
                    types.append(struct.unpack("!i", body[offset + 6:offset + 10])[0])
                    offset += 18
            elif kind == b"D":
                (count,) = struct.unpack("!h", body[:2])
                offset, row = 2, []
                for i in range(count):
                    (length,) = struct.unpack("!i", body[offset:offset + 4])
                    offset += 4
                    if length < 0:
                        row.append(None)
                        continue
                    row.append(self._value(types[i], body[offset:offset + length]))
                    offset += length
                rows.append(tuple(row))
            elif kind == b"E":
                error = PgError(self._fields(body))
            elif kind == b"Z":
                if error:
                    raise error
                return rows

    @staticmethod
    def _value(oid, raw):
        if oid in (20, 21, 23, 26):
            return int(raw)
        if oid == 16:
            return raw == b"t"
        if oid == 17:
            return bytes.fromhex(raw[2:].decode())
        return raw.decode("utf-8")

    def close(self):
        try:
            self.sock.sendall(b"X" + struct.pack("!i", 4))
        except OSError:
            pass
        self.sock.close()


def pg_literal(value):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return "'\\x%s'::bytea" % value.hex()
    return "'%s'" % str(value).replace("'", "''")


def pg_sql(sql, args):
    """SQLite-style "?" parameters as PostgreSQL literals (the tests' SQL has no "?"
    inside its own literals)."""
    parts = sql.split("?")
    if len(parts) - 1 != len(args):
        raise ValueError("%d parameters for %d placeholders" % (len(args), len(parts) - 1))
    return parts[0] + "".join(pg_literal(arg) + part for arg, part in zip(args, parts[1:]))


def pg_admin(sql, directory=None):
    connection = PgConnection("postgres", directory=directory)
    try:
        return connection.query(sql)
    finally:
        connection.close()


class TestDatabase:
    """The database of one test heraldd: an SQLite file in DIRECTORY, or a PostgreSQL
    database of its own, owned by the role herald gets (not a superuser)."""

    def __init__(self, directory, backend=None, pg_dir=None):
        """PG_DIR: the socket directory of another cluster than the run's (a test that
        stops and restarts its server has one of its own)."""
        self.backend = "postgresql" if pg_dir else (backend or BACKEND)
        self.pg_dir = pg_dir or PG_DIR
        self.path = os.path.join(directory, "herald.db") if directory else None
        self.name = None
        if self.backend == "postgresql":
            if not self.pg_dir:
                raise RuntimeError("HERALD_TEST_PG_DIR is not set: run the tests with run.py")
            self.name = "herald_%d_%d" % (os.getpid(), next(_names))
            self.admin("CREATE DATABASE %s OWNER herald" % self.name)

    def admin(self, sql):
        """SQL as the cluster's superuser, in its postgres database."""
        return pg_admin(sql, self.pg_dir)

    @property
    def url(self):
        return "postgresql:///%s?host=%s&user=herald" % (self.name, self.pg_dir)

    def config_line(self):
        """The [storage] line that points heraldd here."""
        if self.backend == "postgresql":
            return "url = %s" % self.url
        return "path = %s" % self.path

    def query(self, sql, *args):
        if self.backend == "postgresql":
            # As heraldd: its tables.
            connection = PgConnection(self.name, user="herald", directory=self.pg_dir)
            try:
                return connection.query(pg_sql(sql, args))
            finally:
                connection.close()
        with sqlite3.connect(self.path, timeout=10) as connection:
            return connection.execute(sql, args).fetchall()

    def value(self, sql, *args):
        """The first column of the first row."""
        return self.query(sql, *args)[0][0]

    def execute(self, sql, *args):
        self.query(sql, *args)

    def lock(self):
        """Takes the database's write lock (SQLite) or the tasks table's (PostgreSQL) in a
        session of its own, as another program would; returns a function that lets go."""
        if self.backend == "postgresql":
            connection = PgConnection(self.name, user="herald", directory=self.pg_dir)
            connection.query("BEGIN; LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")

            def release_pg():
                connection.query("ROLLBACK")
                connection.close()
            return release_pg
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=5)
        connection.execute("BEGIN EXCLUSIVE")

        def release_sqlite():
            connection.execute("ROLLBACK")
            connection.close()
        return release_sqlite

    def schema(self):
        """(schema version, whether the tasks table exists)."""
        if self.backend == "postgresql":
            has_versions, has_tasks = self.query(
                "SELECT to_regclass('schema_migrations') IS NOT NULL,"
                " to_regclass('tasks') IS NOT NULL")[0]
            version = self.value("SELECT coalesce(max(version), 0) FROM schema_migrations") \
                if has_versions else 0
            return version, int(has_tasks)
        with sqlite3.connect(self.path) as connection:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            tables = connection.execute("SELECT count(*) FROM sqlite_schema WHERE type = "
                                        "'table' AND name = 'tasks'").fetchone()[0]
        return version, tables

    def snapshot(self, name):
        """A copy of the database as it is now (heraldd stopped), to restore() later."""
        if self.backend == "postgresql":
            self._end_sessions()
            self.admin("CREATE DATABASE %s_%s TEMPLATE %s" % (self.name, name, self.name))
            return
        with sqlite3.connect(self.path) as db, sqlite3.connect(self.path + "." + name) as copy:
            db.backup(copy)

    def restore(self, name):
        if self.backend == "postgresql":
            self.admin("DROP DATABASE %s WITH (FORCE)" % self.name)
            self.admin("CREATE DATABASE %s TEMPLATE %s_%s OWNER herald" % (self.name, self.name,
                                                                          name))
            return
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.path + suffix):
                os.remove(self.path + suffix)
        with sqlite3.connect(self.path + "." + name) as copy, \
                sqlite3.connect(self.path) as db:
            copy.backup(db)

    def reset(self):
        """Empty again, as before heraldd first started (heraldd stopped)."""
        if self.backend == "postgresql":
            self.admin("DROP DATABASE %s WITH (FORCE)" % self.name)
            self.admin("CREATE DATABASE %s OWNER herald" % self.name)
            return
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.path + suffix):
                os.remove(self.path + suffix)

    def _end_sessions(self):
        """Sessions of a killed heraldd end when PostgreSQL notices; end them now."""
        self.admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'"
                 " AND pid <> pg_backend_pid()" % self.name)

    def drop(self):
        if self.backend == "postgresql" and self.name:
            for database in self.admin("SELECT datname FROM pg_database WHERE datname = '%s'"
                                     " OR left(datname, %d) = '%s_'"
                                     % (self.name, len(self.name) + 1, self.name)):
                self.admin("DROP DATABASE IF EXISTS %s WITH (FORCE)" % database[0])
            self.name = None
