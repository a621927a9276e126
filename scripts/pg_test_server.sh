#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite: Debian's packages, a temporary data folder,
# 127.0.0.1 on a free port, no systemd. The server is stopped and its folder removed on exit,
# whether the command passed or failed.
#
#   scripts/pg_test_server.sh COMMAND [ARGS...]
#
# runs COMMAND with PERSONAPULSE_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:PORT/postgres.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(pg_bin)" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL is not installed; run as root (apt-get install postgresql) or install it" >&2
    exit 1
  fi
  apt-get update -qq
  # The server binaries only: Debian's default cluster is never created (nor started).
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confold postgresql >/dev/null
fi
BIN="$(pg_bin)"

# initdb refuses root: as root, the server runs as Debian's postgres user.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

DIR="$(mktemp -d "${TMPDIR:-/tmp}/personapulse-pg.XXXXXX")"
chmod 755 "$DIR"
mkdir "$DIR/data"
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$DIR/data"
fi
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

stop_server() {
  as_owner "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap stop_server EXIT

as_owner "$BIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 ||
  { cat "$DIR/initdb.log" >&2; exit 1; }
# Durability is not under test here (the data is thrown away): no fsync makes CREATE DATABASE cheap.
# A benchmark that should see durable commits sets PG_DURABILITY_OPTIONS="" (PostgreSQL's defaults).
DURABILITY="${PG_DURABILITY_OPTIONS--c fsync=off -c synchronous_commit=off -c full_page_writes=off}"
as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/data/server.log" -w -t 60 start -o \
  "-h 127.0.0.1 -p $PORT -k $DIR/data $DURABILITY -c max_connections=300" \
  >/dev/null || { cat "$DIR/data/server.log" >&2; exit 1; }

export PERSONAPULSE_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$PORT/postgres"
echo "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT ($DIR)" >&2
set +e
"$@"
status=$?
set -e
exit "$status"
