# Sourced by the throwaway-server scripts (tools/postgres, tools/redis).
#
# free_port: a loopback TCP port nobody listens on, probed with bash's /dev/tcp, picked
# below the kernel's ephemeral range: a port in that range can be taken at any moment by
# the local end of some outgoing connection (the test suite makes thousands), and the
# server then fails to bind a port that looked free.
free_port() {
  local low=32768 high port tries
  [[ -r /proc/sys/net/ipv4/ip_local_port_range ]] &&
    read -r low high </proc/sys/net/ipv4/ip_local_port_range
  ((low > 11000)) || low=32768 # an unusual range: fall back to Linux's default bound
  for tries in $(seq 1 50); do
    port=$((10000 + RANDOM % (low - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  die "no free loopback port found after $tries tries"
}
