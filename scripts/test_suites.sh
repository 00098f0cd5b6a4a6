#!/usr/bin/env bash
# The whole suite on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
# With both, the two runs go at once (each pytest is one process: on two cores the
# pair takes little more than the longer one), each with its own upload and import
# directories, and each run's output is printed when both are done, followed by
# both runs' failures and summary lines (what a CI log's tail shows).
# TEST_SERIAL=1 runs them one after the other, printing as they go.
# Extra arguments go to pytest (e.g. scripts/test_suites.sh tests/sweeps).
# The browser tests (tests/browser: Chromium at 360 px against a live server) run in
# the SQLite suite only: they drive the same views whose database work both suites
# test over HTTP, and ran a fifth of the PostgreSQL suite's time; PG_BROWSER=1 runs
# them on PostgreSQL too.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=".venv/bin/pytest"

run_sqlite() { env -u TEST_DATABASE_URL "$PYTEST" -q "$@"; }
pg_extra=(--ignore=tests/browser)
[ "${PG_BROWSER:-}" = "1" ] && pg_extra=()
run_pg() { "$PYTEST" -q "${pg_extra[@]}" "$@"; }

if [ -z "${TEST_DATABASE_URL:-}" ]; then
    echo "== test suite on SQLite"
    run_sqlite "$@"
    exit $?
fi

pg_label="${TEST_DATABASE_URL%%@*}@..."
if [ "${TEST_SERIAL:-}" = "1" ]; then
    echo "== test suite on SQLite"
    run_sqlite "$@"; lite=$?
    echo "== test suite on $pg_label"
    run_pg "$@"; pg=$?
    exit $(( lite || pg ))
fi

work="$(mktemp -d -t community-suites-XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{sqlite,pg}/{uploads,imports}
echo "== test suite on SQLite and on $pg_label at once (TEST_SERIAL=1: one after the other)"
started=$SECONDS
UPLOAD_DIR="$work/sqlite/uploads" IMPORT_DIR="$work/sqlite/imports" \
    run_sqlite "$@" >"$work/sqlite.log" 2>&1 &
lite_pid=$!
UPLOAD_DIR="$work/pg/uploads" IMPORT_DIR="$work/pg/imports" \
    run_pg "$@" >"$work/pg.log" 2>&1 &
pg_pid=$!
wait "$lite_pid"; lite=$?
wait "$pg_pid"; pg=$?
echo "== SQLite (exit $lite)"
cat "$work/sqlite.log"
echo "== $pg_label (exit $pg)"
cat "$work/pg.log"
echo "== both suites: $(( SECONDS - started )) s"
# CI shows the end of the output: each suite's failures and summary line again, last.
for suite in sqlite pg; do
    echo "== $suite: $(grep -E '(passed|failed|errors?|skipped).* in [0-9.]+s' "$work/$suite.log" | tail -n 1)"
    grep -E '^(FAILED|ERROR) ' "$work/$suite.log" | head -n 40
done
exit $(( lite || pg ))
