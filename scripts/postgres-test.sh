#!/usr/bin/env bash
# Runs the server tests against a local PostgreSQL (Debian's package, on loopback), then stops it.
# Installs PostgreSQL if absent. Every test creates its own database `bs_test_*`; they are dropped at the end.
#   scripts/postgres-test.sh                 # debug build
#   CARGO_PROFILE=ci scripts/postgres-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    echo "installing PostgreSQL from Debian's packages"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
fi
VERSION="$(ls /usr/lib/postgresql | sort -n | tail -1)"
if ! pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main"' | grep -q .; then
    pg_createcluster "$VERSION" main
fi
pg_ctlcluster "$VERSION" main start || true   # already running is fine
cleanup() {
    su postgres -c "psql -Atc \"SELECT datname FROM pg_database WHERE datname LIKE 'bs_test_%'\"" 2>/dev/null \
        | while read -r db; do su postgres -c "dropdb --if-exists '$db'" || true; done
    pg_ctlcluster "$VERSION" main stop || true
}
trap cleanup EXIT

for _ in $(seq 1 30); do
    su postgres -c "pg_isready -q -h 127.0.0.1 -p 5432" && break
    sleep 1
done
if ! su postgres -c "psql -Atc \"SELECT 1 FROM pg_roles WHERE rolname = 'bs'\"" | grep -q 1; then
    su postgres -c "psql -v ON_ERROR_STOP=1 -c \"CREATE USER bs WITH PASSWORD 'bs' CREATEDB;\""
fi

export TEST_DATABASE_URL="postgres://bs:bs@127.0.0.1:5432/postgres"
echo "server tests on PostgreSQL $VERSION ($TEST_DATABASE_URL)"
cargo test --workspace --all-features --test it ${CARGO_PROFILE:+--profile "$CARGO_PROFILE"} --locked -- server::
