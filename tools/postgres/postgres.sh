#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and CI.
#
#   postgres.sh start STATE_DIR [PORT]   create (first time) and start; prints the URL
#   postgres.sh stop STATE_DIR           fast shutdown; does nothing if not running
#
# STATE_DIR keeps the cluster (or, when the postgres user cannot reach it, the path of
# one under /tmp), the port in STATE_DIR/port and the URL in STATE_DIR/url. Starting an
# existing STATE_DIR again reuses its data and its port, so the URL stays the same.
# stdout carries the URL only; progress goes to stderr. Installs Debian's postgresql
# package when no PostgreSQL is installed (needs root).
set -euo pipefail

DATABASE=tandem_test
PG_USER=postgres

log() { echo "postgres.sh: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  echo "usage: $0 start STATE_DIR [PORT] | stop STATE_DIR" >&2
  exit 2
}

# Run a command as the postgres user (initdb and pg_ctl refuse root).
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    runuser -u "$PG_USER" -- "$@"
  else
    "$@"
  fi
}

newest_bin_dir() {
  local dirs
  dirs=$(compgen -G '/usr/lib/postgresql/*/bin' || true)
  [[ -n $dirs ]] || return 1
  sort -V <<<"$dirs" | tail -n 1
}

find_or_install_bin_dir() {
  local bin
  if bin=$(newest_bin_dir) && [[ -x $bin/pg_ctl ]]; then
    echo "$bin"
    return
  fi
  [[ $EUID -eq 0 ]] || die "PostgreSQL is not installed and installing it needs root"
  log "installing PostgreSQL (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2 && apt-get install -y postgresql >&2
  bin=$(newest_bin_dir) || die "no /usr/lib/postgresql/*/bin after installing postgresql"
  echo "$bin"
}

# shellcheck source=../lib/ports.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/ports.sh"

# The directory that holds data/, sock/ and postgres.log, owned by the postgres user.
# It lives in STATE_DIR/pg unless the postgres user cannot reach STATE_DIR (a parent
# without o+x) or the socket path would be too long for a unix socket; then it lives
# in a fresh directory under /tmp whose path is kept in STATE_DIR/cluster.
cluster_dir() {
  local state=$1 base
  if [[ -f $state/cluster ]]; then
    base=$(<"$state/cluster")
    if [[ -d $base ]]; then
      echo "$base"
      return
    fi
  fi
  base=$state/pg
  # unix socket paths are limited to ~107 bytes: sock/.s.PGSQL.NNNNN adds 20
  if [[ -d $base ]] || { as_pg test -x "$state" && ((${#base} < 80)); }; then
    mkdir -p "$base"
  else
    base=$(mktemp -d /tmp/tandem-pg.XXXXXX)
    log "postgres cannot use $state; keeping the cluster in $base"
  fi
  [[ $EUID -ne 0 ]] || chown "$PG_USER:" "$base"
  chmod 0700 "$base"
  echo "$base" >"$state/cluster"
  echo "$base"
}

is_running() {
  local bin=$1 data=$2
  [[ -f $data/PG_VERSION ]] && as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
}

start() {
  local state=$1 port=${2:-} bin base data sock url started
  bin=$(find_or_install_bin_dir)
  mkdir -p "$state"
  state=$(cd "$state" && pwd)
  base=$(cluster_dir "$state")
  data=$base/data
  sock=$base/sock

  if [[ ! -f $data/PG_VERSION ]]; then
    log "initdb $data"
    started=$SECONDS
    as_pg "$bin/initdb" -D "$data" -A trust -U "$PG_USER" -E UTF8 --no-sync >&2 \
      || die "initdb failed"
    log "initdb took $((SECONDS - started))s"
  fi
  as_pg mkdir -p "$sock"

  local recorded=
  [[ ! -f $state/port ]] || recorded=$(<"$state/port")

  if is_running "$bin" "$data"; then
    [[ -n $recorded ]] || die "a server runs on $data but $state/port is missing"
    [[ -z $port || $port == "$recorded" ]] || die "already running on port $recorded, not $port"
    port=$recorded
    log "already running on port $port"
  else
    port=${port:-${recorded:-$(free_port)}}
    log "starting on 127.0.0.1:$port (log: $base/postgres.log)"
    as_pg "$bin/pg_ctl" -D "$data" -l "$base/postgres.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c unix_socket_directories=$sock" \
      >&2 || {
      tail -n 20 "$base/postgres.log" >&2 || true
      die "pg_ctl start failed (is port $port taken?)"
    }
  fi
  echo "$port" >"$state/port"

  if [[ -z $("$bin/psql" -h 127.0.0.1 -p "$port" -U "$PG_USER" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'") ]]; then
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U "$PG_USER" "$DATABASE" >&2
    log "created database $DATABASE"
  fi

  url="postgresql+asyncpg://$PG_USER@127.0.0.1:$port/$DATABASE"
  echo "$url" >"$state/url"
  echo "$url"
}

stop() {
  local state=$1 bin base
  if [[ ! -f $state/cluster ]]; then
    log "no cluster in $state; nothing to stop"
    return
  fi
  base=$(<"$state/cluster")
  bin=$(newest_bin_dir) || die "PostgreSQL is not installed"
  if is_running "$bin" "$base/data"; then
    as_pg "$bin/pg_ctl" -D "$base/data" -m fast -w stop >&2
  else
    log "not running"
  fi
}

main() {
  [[ $# -ge 2 ]] || usage
  case $1 in
    start)
      [[ $# -le 3 ]] || usage
      start "$2" "${3:-}"
      ;;
    stop)
      [[ $# -eq 2 ]] || usage
      stop "$2"
      ;;
    *) usage ;;
  esac
}

main "$@"
