#!/bin/sh
# Runs the unit tests: every build/asan/tests/TEST given, and the store's contract
# tests (test_store, test_store_delivery, test_store_alerts, test_store_manual) once more against
# PostgreSQL, with test_store_pg and test_store_pg_migration, in a throwaway cluster (tools/pg_cluster.sh) that
# is stopped however the run ends.
# Usage: tests/unit/run.sh TEST...   (from the top of the tree; make unit)
set -u
cluster=$(mktemp -u "${TMPDIR:-/tmp}/herald-unit-pg-XXXXXX")
trap 'tools/pg_cluster.sh stop "$cluster"' EXIT
trap 'exit 130' INT TERM
tools/pg_cluster.sh start "$cluster" || exit 1
passed=0
failed=0
run() { # NAME BACKEND
    case $1 in test_store*) echo "== unit: $1 ($2)" ;; *) echo "== unit: $1" ;; esac
    if HERALD_TEST_BACKEND=$2 HERALD_TEST_PG_DIR=$cluster "build/asan/tests/$1"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
}
for test in "$@"; do
    case $test in
    test_store_pg | test_store_pg_migration) run "$test" postgresql ;;
    test_store | test_store_delivery | test_store_alerts | test_store_manual) run "$test" sqlite; run "$test" postgresql ;;
    *) run "$test" sqlite ;;
    esac
done
echo "unit: $passed passed, $failed failed"
test "$failed" -eq 0
