#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests, in a temporary directory, run by a non-root user
# (PostgreSQL refuses root: as root it runs as "postgres").
#   pg_cluster.sh start              prints "URL DATA_DIR" of a new, running cluster
#   pg_cluster.sh restart DIR [MODE]  pg_ctl restart (MODE fast or immediate)
#   pg_cluster.sh pause DIR           stops it, keeping DIR;  pg_cluster.sh resume DIR  starts it
#   pg_cluster.sh stop DIR            stops it and removes DIR
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin" ]; then
  echo "PostgreSQL is not installed: apt-get install -y postgresql, or run the README's test command, bash .ci/run, as root (it installs what the tests need)" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  user=postgres
  as() { setpriv --reuid="$user" --regid="$user" --init-groups "$@"; }
else
  user=$(id -un)
  as() { "$@"; }
fi
case "${1:-}" in
start)
  dir=$(mktemp -d /tmp/hook-pg-XXXXXX)
  [ "$(id -u)" = 0 ] && chown "$user" "$dir"
  as "$bin/initdb" -D "$dir" -A trust -U hook --no-sync >/dev/null
  for _ in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 40000))
    cat >"$dir/postgresql.auto.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 200
fsync = on
synchronous_commit = on
CONF
    if as "$bin/pg_ctl" -D "$dir" -w -t 30 -l "$dir/log" start >/dev/null; then
      echo "postgres://hook@127.0.0.1:$port $dir"
      exit 0
    fi
  done
  echo "PostgreSQL did not start: $(tail -n 5 "$dir/log")" >&2
  exit 1
  ;;
restart)
  as "$bin/pg_ctl" -D "$2" -m "${3:-fast}" -w -t 30 -l "$2/log" restart >/dev/null
  ;;
pause)
  as "$bin/pg_ctl" -D "$2" -m fast -w stop >/dev/null
  ;;
resume)
  as "$bin/pg_ctl" -D "$2" -w -t 30 -l "$2/log" start >/dev/null
  ;;
stop)
  as "$bin/pg_ctl" -D "$2" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$2"
  ;;
*)
  echo "usage: pg_cluster.sh start | restart DIR [fast|immediate] | pause DIR | resume DIR | stop DIR" >&2
  exit 2
  ;;
esac
