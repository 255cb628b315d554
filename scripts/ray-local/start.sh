#!/usr/bin/env bash
# Start a private single-node Ray head on 127.0.0.1 (`ray start --head --block` in the background).
#
#   bash scripts/ray-local/start.sh && source "${RAY_LOCAL_DIR:-/tmp/me5-ray}/env.sh"
#   python app.py --multirun hydra/launcher=ray "hydra.launcher.ray.init.address=$RAY_ADDRESS" \
#       +hydra.launcher.ray.init.object_store_memory=null shard=0,1 out_dir=/abs/path
#   bash scripts/ray-local/stop.sh
#
# Idempotent (a live head recorded in $RAY_LOCAL_DIR is kept). Every listener of the head's process tree must be on
# a loopback address, otherwise it stops the head and fails. Pitfalls handled (see docs/cluster.md):
#   RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0  without it Ray resolves 127.0.0.1 to the eth0 address and listens on *
#   RAY_AUTH_MODE=disabled               token auth is on by default in ray 2.60; clients then fail InvalidAuthToken
# Workers run the head's Python: start it from the same venv as the drivers (default: <repo>/.venv/bin/ray).
#
# Environment (all optional):
#   RAY_LOCAL_DIR              state dir (default /tmp/me5-ray; short: Ray's socket paths live under it)
#   RAY_LOCAL_PORT             GCS port, i.e. the address clients use (default 6380)
#   RAY_LOCAL_CLIENT_PORT      ray client server port (default 10001)
#   RAY_LOCAL_AGENT_PORT       dashboard agent http port (default 52365)
#   RAY_LOCAL_CPUS             --num-cpus (default: nproc)
#   RAY_LOCAL_OBJECT_STORE_MB  --object-store-memory in MB (default 512)
#   RAY_LOCAL_WAIT_S           how long to wait for the head (default 60)
#   RAY_BIN                    the ray CLI (default <repo>/.venv/bin/ray, else `ray` on PATH)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
STATE=${RAY_LOCAL_DIR:-/tmp/me5-ray}
STATE=${STATE%/}
PORT=${RAY_LOCAL_PORT:-6380}
CLIENT_PORT=${RAY_LOCAL_CLIENT_PORT:-10001}
AGENT_PORT=${RAY_LOCAL_AGENT_PORT:-52365}
CPUS=${RAY_LOCAL_CPUS:-$(nproc)}
OBJ_MB=${RAY_LOCAL_OBJECT_STORE_MB:-512}
WAIT_S=${RAY_LOCAL_WAIT_S:-60}
if [ -z "${RAY_BIN:-}" ]; then
    if [ -x "$REPO/.venv/bin/ray" ]; then RAY_BIN=$REPO/.venv/bin/ray; else RAY_BIN=$(command -v ray || true); fi
fi

log() { echo "ray-local: $*" >&2; }
die() { echo "ray-local: ERROR: $*" >&2; exit 1; }

[ -n "$RAY_BIN" ] && [ -x "$RAY_BIN" ] || die "ray CLI not found (set RAY_BIN or install ray in $REPO/.venv)"
case "$STATE" in /*) ;; *) die "RAY_LOCAL_DIR must be absolute, got '$STATE'" ;; esac
[ "${#STATE}" -le 40 ] || die "RAY_LOCAL_DIR is ${#STATE} chars long (max 40: Ray's unix socket paths must stay < 108 bytes)"
for v in PORT CLIENT_PORT AGENT_PORT CPUS OBJ_MB WAIT_S; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a number, got '${!v}'"
done

for v in PORT CLIENT_PORT AGENT_PORT; do # Ray refuses ports inside its worker port range
    if [ "${!v}" -ge 10002 ] && [ "${!v}" -le 19999 ]; then die "$v=${!v} is inside Ray's worker port range 10002-19999"; fi
done

export RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 RAY_AUTH_MODE=disabled RAY_USAGE_STATS_ENABLED=0

pid_is_head() { [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q -- "--temp-dir=$STATE/tmp"; }

# ---------------------------------------------------------------- already running?
if [ -s "$STATE/pid" ]; then
    old=$(cat "$STATE/pid")
    if pid_is_head "$old" && [ -s "$STATE/env.sh" ] && grep -q "Ray runtime started" "$STATE/ray-start.log" 2>/dev/null; then
        log "already running in $STATE (source $STATE/env.sh)"
        exit 0
    fi
    log "stale state in $STATE: stopping it first"
    RAY_LOCAL_DIR=$STATE bash "$HERE/stop.sh" || true
fi

port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
for p in "$PORT" "$CLIENT_PORT" "$AGENT_PORT"; do
    port_busy "$p" && die "TCP port $p is already in use ($(ss -Hltnp "sport = :$p" | head -n1)); set RAY_LOCAL_PORT/RAY_LOCAL_CLIENT_PORT/RAY_LOCAL_AGENT_PORT"
done

mkdir -p "$STATE/tmp"
chmod 755 "$STATE"
rm -f "$STATE/pid" "$STATE/env.sh"
LOG=$STATE/ray-start.log

# setsid: the head survives this script and a Ctrl-C in the caller's terminal; stop.sh ends it.
setsid "$RAY_BIN" start --head --block --node-ip-address=127.0.0.1 --port="$PORT" \
    --ray-client-server-port="$CLIENT_PORT" --dashboard-agent-listen-port="$AGENT_PORT" \
    --num-cpus="$CPUS" --object-store-memory="$((OBJ_MB * 1024 * 1024))" --include-dashboard=false \
    --disable-usage-stats --temp-dir="$STATE/tmp" </dev/null >"$LOG" 2>&1 &
pid=$!
echo "$pid" >"$STATE/pid"

fail() {
    echo "ray-local: ERROR: $*" >&2
    echo "---- tail $LOG" >&2
    tail -n 30 "$LOG" >&2 || true
    RAY_LOCAL_DIR=$STATE bash "$HERE/stop.sh" >/dev/null 2>&1 || true
    exit 1
}

deadline=$((SECONDS + WAIT_S))
until grep -q "Ray runtime started" "$LOG" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || fail "ray start exited early"
    [ "$SECONDS" -lt "$deadline" ] || fail "head not up after ${WAIT_S}s"
    sleep 0.2
done

# ---------------------------------------------------------------- loopback only
descendants() { # pid -> pid and all its descendants
    local p=$1 c
    echo "$p"
    for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do descendants "$c"; done
}
tree=" $(descendants "$pid" | tr '\n' ' ') "
bad=$(ss -Hltnp 2>/dev/null | awk '{print $4, $NF}' | while read -r addr users; do
    for p in $(grep -o 'pid=[0-9]*' <<<"$users" | cut -d= -f2); do
        case "$tree" in *" $p "*)
            case "$addr" in 127.* | "[::1]":* | "[::ffff:127."*) ;; *) echo "$addr $users" ;; esac ;;
        esac
    done
done)
[ -z "$bad" ] || fail "Ray listens on non-loopback addresses (is RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 honoured?): $bad"

{
    echo "# generated by $HERE/start.sh"
    printf "export RAY_LOCAL_DIR='%s'\n" "$STATE"
    printf "export RAY_ADDRESS='127.0.0.1:%s'\n" "$PORT"
    echo "export RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0"
    echo "export RAY_AUTH_MODE=disabled"
    echo "export RAY_USAGE_STATS_ENABLED=0"
} >"$STATE/env.sh"
log "up: 127.0.0.1:$PORT, $CPUS CPUs, pid $pid, logs $STATE/tmp (source $STATE/env.sh)"
