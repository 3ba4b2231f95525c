#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the session store tests.
#   .ci/postgres.sh start DIR   installs PostgreSQL from Debian packages when initdb is missing,
#                               starts a cluster in DIR (made if missing; its parent must be
#                               world-traversable, e.g. $(mktemp -d) itself) on 127.0.0.1 and a
#                               free port, and prints its URL
#   .ci/postgres.sh stop DIR    stops it and removes DIR
# Postgres refuses to run as root, so as root the cluster runs as the "postgres" user the Debian
# package creates (or nobody). Trust auth on 127.0.0.1 only, fsync off: it is thrown away.
set -euo pipefail

cmd=${1:?usage: .ci/postgres.sh start|stop DIR}
dir=${2:?usage: .ci/postgres.sh start|stop DIR}

bindir() {
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  # Debian keeps initdb and pg_ctl out of PATH, under /usr/lib/postgresql/<version>/bin.
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    local user=postgres
    id -u "$user" >/dev/null 2>&1 || user=nobody
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
  start)
    bin=$(bindir || true)
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
      echo "postgres.sh: initdb not found; installing postgresql (apt-get)" >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2
      apt-get install -y -qq --no-install-recommends postgresql >/dev/null
      bin=$(bindir || true)
      [ -n "$bin" ] && [ -x "$bin/initdb" ] || { echo "postgres.sh: postgresql is installed but no initdb was found" >&2; exit 1; }
    fi
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      owner=postgres
      id -u "$owner" >/dev/null 2>&1 || owner=nobody
      chown "$owner" "$dir"
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U skiff --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # A free port below the kernel's ephemeral range (32768+), where an outgoing connection's source
    # port can hold a port that nothing answers on; and a few tries in case one is taken anyway.
    started=""
    for _ in $(seq 5); do
      for _ in $(seq 50); do
        port=$((20000 + RANDOM % 12000))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
      done
      if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null; then
        started=yes
        break
      fi
    done
    [ -n "$started" ] || { cat "$dir/server.log" >&2; exit 1; }
    echo "$bin" >"$dir/bindir"
    echo "postgres://skiff@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [ -f "$dir/bindir" ]; then
      as_owner "$(cat "$dir/bindir")/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: .ci/postgres.sh start|stop DIR" >&2
    exit 2
    ;;
esac
