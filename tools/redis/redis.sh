#!/usr/bin/env bash
# A throwaway Redis server for tests and CI (the event broker's pub/sub).
#
#   redis.sh start STATE_DIR [PORT]   start on loopback; prints the URL
#   redis.sh stop STATE_DIR           shut down; does nothing if not running
#
# No persistence (no RDB snapshots, no AOF): pub/sub keeps nothing anyway. STATE_DIR
# keeps the config, pid file, log, the port in STATE_DIR/port and the URL in
# STATE_DIR/url; starting a STATE_DIR again (running or stopped) reuses its port, so
# the URL stays the same. stdout carries
# the URL only; progress goes to stderr. Installs Debian's redis-server package when
# redis-server is not on PATH (needs root).
set -euo pipefail

log() { echo "redis.sh: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  echo "usage: $0 start STATE_DIR [PORT] | stop STATE_DIR" >&2
  exit 2
}

find_or_install() {
  local bin
  if bin=$(command -v redis-server); then
    echo "$bin"
    return
  fi
  [[ $EUID -eq 0 ]] || die "redis-server is not installed and installing it needs root"
  log "installing redis-server (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  # --no-install-recommends: no service is enabled or started by the package's own unit.
  apt-get update >&2 && apt-get install -y --no-install-recommends redis-server >&2
  bin=$(command -v redis-server) || die "no redis-server on PATH after installing it"
  echo "$bin"
}

# shellcheck source=../lib/ports.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/ports.sh"

is_running() {
  local state=$1 pid
  [[ -f $state/redis.pid ]] || return 1
  pid=$(<"$state/redis.pid")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

# PING over bash's /dev/tcp; true when the server answers +PONG.
answers() {
  local port=$1 reply
  exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  read -r -t 2 reply <&3 || true
  exec 3>&-
  [[ $reply == +PONG* ]]
}

start() {
  local state=$1 port=${2:-} bin url
  bin=$(find_or_install)
  mkdir -p "$state"
  state=$(cd "$state" && pwd)

  local recorded=
  [[ ! -f $state/port ]] || recorded=$(<"$state/port")

  if is_running "$state"; then
    [[ -z $port || $port == "$recorded" ]] || die "already running on port $recorded, not $port"
    port=$recorded
    log "already running on port $port"
  else
    port=${port:-${recorded:-$(free_port)}}
    cat >"$state/redis.conf" <<EOF
bind 127.0.0.1
protected-mode yes
port $port
daemonize yes
pidfile $state/redis.pid
logfile $state/redis.log
dir $state
save ""
appendonly no
databases 1
EOF
    log "starting on 127.0.0.1:$port (log: $state/redis.log)"
    "$bin" "$state/redis.conf" >&2 || die "redis-server did not start (is port $port taken?)"
    local tries
    for tries in $(seq 1 100); do
      answers "$port" && break
      sleep 0.1
    done
    if ! answers "$port"; then
      tail -n 20 "$state/redis.log" >&2 || true
      die "redis-server does not answer on port $port after $tries tries"
    fi
    echo "$port" >"$state/port"
  fi

  url="redis://127.0.0.1:$port/0"
  echo "$url" >"$state/url"
  echo "$url"
}

stop() {
  local state=$1 pid tries
  if ! is_running "$state"; then
    log "not running in $state; nothing to stop"
    return
  fi
  pid=$(<"$state/redis.pid")
  kill -TERM "$pid"
  for tries in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  die "redis-server (pid $pid) did not stop after $tries tries"
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
