# Sourced by `make test` and `make bench`: point the tests at PostgreSQL when one answers, say so otherwise.
if [[ -z "${WATCHFLOOR_TEST_DATABASE_URL:-}" ]]; then
  if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    export WATCHFLOOR_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    echo "test-env: PostgreSQL at 127.0.0.1:5432 answers; PostgreSQL tests will run"
  else
    echo "test-env: no PostgreSQL at 127.0.0.1:5432; PostgreSQL tests will be SKIPPED (set WATCHFLOOR_TEST_DATABASE_URL)"
  fi
fi
export WATCHFLOOR_CHROMIUM="${WATCHFLOOR_CHROMIUM:-$(command -v chromium || true)}"
