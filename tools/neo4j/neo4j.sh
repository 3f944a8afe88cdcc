#!/usr/bin/env bash
# Run a throwaway Neo4j Community server (5.26 LTS, Java 17) for tests and local work.
#
#   neo4j.sh build             assemble the server classpath with Maven (cached)
#   neo4j.sh start STATE_DIR   start a fresh server on a free loopback port; prints its
#                              bolt:// URL (also written to STATE_DIR/url)
#   neo4j.sh stop STATE_DIR    stop it (idempotent)
#
# Environment:
#   NEO4J_AUTH=neo4j/PASSWORD  enable auth with that initial password (default: auth off)
#   TANDEM_CACHE               cache root (default ~/.cache/tandem)
#   NEO4J_START_TIMEOUT        seconds to wait for Bolt (default 120)
#   PYTHON                     interpreter with the `neo4j` driver (default python3)
#
# Only the URL goes to stdout; progress and errors go to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POM="$HERE/pom.xml"
PYTHON="${PYTHON:-python3}"
START_TIMEOUT="${NEO4J_START_TIMEOUT:-120}"
# Heap and page cache: small for tests; benchmarks raise them (bench/run).
MAIN_CLASS="org.neo4j.server.CommunityEntryPoint"
# The add-opens that Neo4j's own conf/neo4j.conf ships for Java 17.
JVM_FLAGS=(
  "-Xms${NEO4J_HEAP:-1g}" "-Xmx${NEO4J_HEAP:-1g}"
  -XX:+UseG1GC
  -XX:-OmitStackTraceInFastThrow
  -XX:+DisableExplicitGC
  -Djdk.nio.maxCachedBufferSize=1024
  -Dio.netty.tryReflectionSetAccessible=true
  -Dlog4j2.disable.jmx=true
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/sun.net.dns=ALL-UNNAMED
  --enable-native-access=ALL-UNNAMED
)

log() { printf 'neo4j.sh: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  sed -n '2,15s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

neo4j_version() {
  local version
  version="$(sed -n 's:.*<neo4j.version>\(.*\)</neo4j.version>.*:\1:p' "$POM")"
  [[ -n "$version" ]] || die "no <neo4j.version> in $POM"
  printf '%s\n' "$version"
}

lib_dir() {
  printf '%s/neo4j-%s/lib\n' "${TANDEM_CACHE:-$HOME/.cache/tandem}" "$(neo4j_version)"
}

require() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH: $2"
}

# Copy the server's jars into the cache; a marker file records a complete copy.
build() {
  local lib tmp
  lib="$(lib_dir)"
  require java "install a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless)"
  if [[ -f "$lib/.complete" ]]; then
    log "classpath ready: $lib"
    return
  fi
  require mvn "install Apache Maven (e.g. apt-get install maven)"
  log "assembling Neo4j $(neo4j_version) classpath into $lib"
  tmp="$lib.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  # Maven's output is shown only on failure (quiet mode still prints colour codes).
  if ! mvn -q -B -f "$POM" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2
    rm -rf "$tmp" "$tmp.log"
    die "mvn dependency:copy-dependencies failed (is Maven Central reachable?)"
  fi
  rm -f "$tmp.log"
  rm -rf "$lib"
  mv "$tmp" "$lib"
  touch "$lib/.complete"
  log "classpath ready: $(find "$lib" -name '*.jar' | wc -l) jars"
}

free_port() {
  "$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Prints the password from NEO4J_AUTH=neo4j/PASSWORD, or nothing when auth is off.
auth_password() {
  local auth="${NEO4J_AUTH:-}"
  if [[ -z "$auth" || "$auth" == "none" ]]; then
    return
  fi
  [[ "$auth" == */* ]] || die "NEO4J_AUTH must look like neo4j/PASSWORD"
  [[ "${auth%%/*}" == "neo4j" ]] || die "NEO4J_AUTH user must be neo4j"
  [[ ${#auth} -ge 14 ]] || die "NEO4J_AUTH password must have at least 8 characters"
  printf '%s\n' "${auth#*/}"
}

is_running() {
  local pid="$1"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null &&
    grep -q "$MAIN_CLASS" "/proc/$pid/cmdline" 2>/dev/null
}

# Sets the initial password in the fresh home before the server first starts.
set_initial_password() {
  local home="$1" password="$2"
  log "setting the initial password for user neo4j"
  NEO4J_HOME="$home" NEO4J_CONF="$home/conf" \
    java -cp "$(lib_dir)/*" org.neo4j.cli.AdminTool \
    dbms set-initial-password "$password" >>"$home/../neo4j.log" 2>&1 ||
    die "set-initial-password failed; see $home/../neo4j.log"
}

# Waits until Bolt answers, the JVM dies, or the timeout passes.
wait_for_bolt() {
  local url="$1" pid="$2"
  "$PYTHON" - "$url" "$pid" "$START_TIMEOUT" <<'EOF'
import os, sys, time
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError

url, pid, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
raw = os.environ.get("NEO4J_AUTH", "")
auth = tuple(raw.split("/", 1)) if raw and raw != "none" else None
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            alive = stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        alive = False
    if not alive:
        sys.exit("the JVM exited during startup")
    try:
        with GraphDatabase.driver(url, auth=auth, connection_timeout=2) as driver:
            driver.verify_connectivity()
        sys.exit(0)
    except AuthError as exc:
        sys.exit(f"Bolt answers but rejects the credentials: {exc.code}")
    except Exception:
        time.sleep(0.5)
sys.exit(f"Bolt did not answer within {timeout:.0f} s")
EOF
}

start() {
  local state="$1" home port password pid url started
  mkdir -p "$state"
  state="$(cd "$state" && pwd)"
  if is_running "$(cat "$state/pid" 2>/dev/null || true)"; then
    die "a server from $state is already running (pid $(cat "$state/pid")); stop it first"
  fi
  build
  password="$(auth_password)"
  home="$state/home"
  rm -rf "$home" "$state/url" "$state/pid"
  mkdir -p "$home/conf" "$home/data" "$home/logs" "$home/run" "$home/plugins" "$home/import"
  : >"$state/neo4j.log"
  [[ -z "$password" ]] || set_initial_password "$home" "$password"
  port="$(free_port)"
  url="bolt://127.0.0.1:$port"
  log "starting Neo4j $(neo4j_version) on $url (log: $state/neo4j.log)"
  started=$SECONDS
  setsid java "${JVM_FLAGS[@]}" -cp "$(lib_dir)/*" "$MAIN_CLASS" \
    --home-dir="$home" --console-mode \
    -c server.directories.data="$home/data" \
    -c server.directories.logs="$home/logs" \
    -c server.directories.run="$home/run" \
    -c server.directories.plugins="$home/plugins" \
    -c server.directories.import="$home/import" \
    -c server.bolt.listen_address="127.0.0.1:$port" \
    -c server.bolt.advertised_address="127.0.0.1:$port" \
    -c server.http.enabled=false \
    -c server.https.enabled=false \
    -c "server.memory.pagecache.size=${NEO4J_PAGECACHE:-512m}" \
    -c dbms.usage_report.enabled=false \
    -c dbms.security.auth_enabled="$([[ -n "$password" ]] && echo true || echo false)" \
    </dev/null >>"$state/neo4j.log" 2>&1 &
  pid=$!
  echo "$pid" >"$state/pid"
  if ! wait_for_bolt "$url" "$pid"; then
    log "startup failed; last lines of $state/neo4j.log:"
    tail -n 40 "$state/neo4j.log" >&2 || true
    stop "$state"
    exit 1
  fi
  log "Bolt ready after $((SECONDS - started)) s (pid $pid)"
  echo "$url" >"$state/url"
  echo "$url"
}

stop() {
  local state="$1" pid waited=0
  pid="$(cat "$state/pid" 2>/dev/null || true)"
  if ! is_running "$pid"; then
    rm -f "$state/pid" "$state/url"
    log "not running ($state)"
    return
  fi
  log "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  while is_running "$pid" && ((waited < 30)); do
    sleep 1
    waited=$((waited + 1))
  done
  if is_running "$pid"; then
    log "still running after 30 s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$state/pid" "$state/url"
  log "stopped"
}

main() {
  local command="${1:-}"
  case "$command" in
    build) build ;;
    start | stop)
      [[ $# -eq 2 ]] || usage
      "$command" "$2"
      ;;
    *) usage ;;
  esac
}

main "$@"
