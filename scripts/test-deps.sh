#!/usr/bin/env bash
# Installs what the tests need beyond Python packages: Debian's Chromium for the browser tests, and a
# PostgreSQL server when none answers locally (started on 127.0.0.1:5432 with trust auth, database `test`).
set -euo pipefail
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
updated=0
apt_install() {
  command -v apt-get >/dev/null || { echo "test-deps: no apt-get; install $* yourself" >&2; return 1; }
  if [[ $updated -eq 0 ]]; then as_root apt-get update -qq >/dev/null || true; updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

if ! command -v chromium >/dev/null; then
  echo "test-deps: installing Debian's chromium for the browser tests"
  apt_install chromium || echo "test-deps: chromium not installed; browser tests will be skipped" >&2
fi

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "test-deps: installing PostgreSQL"
    apt_install postgresql || { echo "test-deps: PostgreSQL unavailable; its tests will be skipped" >&2; exit 0; }
  fi
  ver=$(ls /etc/postgresql | sort -n | tail -1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 20); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.5; done
  if pg_isready -h 127.0.0.1 -p 5432 -q; then
    hba=$(ls /etc/postgresql/"$ver"/main/pg_hba.conf)
    if ! grep -q "watchfloor-test" "$hba"; then
      as_root sed -i '1i host all all 127.0.0.1/32 trust # watchfloor-test' "$hba"
      as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main reload
    fi
    as_root su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='test'\" | grep -q 1 || createdb test" || true
  fi
fi
exit 0
