#!/usr/bin/env bash
# Start a private single-node Slurm cluster on localhost (munged + slurmctld + slurmd), as root, without systemd.
#
#   bash scripts/slurm-local/start.sh && source "${SLURM_LOCAL_DIR:-/tmp/me5-slurm}/env.sh"
#   ... sbatch / srun / python app.py --multirun hydra/launcher=submitit_slurm ...
#   bash scripts/slurm-local/stop.sh
#
# Idempotent: if the cluster recorded in $SLURM_LOCAL_DIR is up, it does nothing. Installs slurm-wlm with apt-get
# when slurmctld is missing. On any failure it stops what it started and exits non-zero with the daemon's log tail.
#
# Environment (all optional):
#   SLURM_LOCAL_DIR          state dir (default /tmp/me5-slurm; keep it short: unix socket paths are < 108 bytes)
#   SLURM_LOCAL_CPUS         CPUs of the node (default: nproc)
#   SLURM_LOCAL_MEM_MB       RealMemory of the node (default: 85 % of MemTotal)
#   SLURM_LOCAL_CTLD_PORT    slurmctld port (default 6817)
#   SLURM_LOCAL_SLURMD_PORT  slurmd port (default 6818)
#   SLURM_LOCAL_WAIT_S       how long to wait for the node to become idle (default 30)
#   SLURM_LOCAL_SACCT_SHIM   1 (default): env.sh puts bin/sacct (answers from squeue) first on PATH
#   SLURM_LOCAL_LINK_ETC     1: symlink /etc/slurm/slurm.conf to the rendered config if that path is free (default 0)
#   SLURM_LOCAL_NO_INSTALL   1: never run apt-get, fail if slurm is missing
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE=${SLURM_LOCAL_DIR:-/tmp/me5-slurm}
CPUS=${SLURM_LOCAL_CPUS:-$(nproc)}
MEM_MB=${SLURM_LOCAL_MEM_MB:-$(awk '/^MemTotal:/ {printf "%d", $2 * 0.85 / 1024}' /proc/meminfo)}
CTLD_PORT=${SLURM_LOCAL_CTLD_PORT:-6817}
SLURMD_PORT=${SLURM_LOCAL_SLURMD_PORT:-6818}
WAIT_S=${SLURM_LOCAL_WAIT_S:-30}
SHIM=${SLURM_LOCAL_SACCT_SHIM:-1}
LINK_ETC=${SLURM_LOCAL_LINK_ETC:-0}
NO_INSTALL=${SLURM_LOCAL_NO_INSTALL:-0}
export PATH="$PATH:/usr/sbin:/sbin"

log() { echo "slurm-local: $*" >&2; }
die() { echo "slurm-local: ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (munged/slurmd run as root with a private key)"
case "$STATE" in /*) ;; *) die "SLURM_LOCAL_DIR must be an absolute path, got '$STATE'" ;; esac
STATE=${STATE%/}
# slurmd puts per-step sockets under <state>/slurmd/<node>_<job>.<step>: keep well below the 108-byte limit.
[ "${#STATE}" -le 60 ] || die "SLURM_LOCAL_DIR is ${#STATE} chars long (max 60: unix socket paths must stay < 108 bytes): $STATE"
for v in CPUS MEM_MB CTLD_PORT SLURMD_PORT WAIT_S; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a number, got '${!v}'"
done

CONF=$STATE/slurm.conf
MUNGE_DIR=$STATE/munge
MUNGE_SOCKET=$MUNGE_DIR/munge.socket
PIDS=$STATE/pids
LOGDIR=$STATE/log

# ---------------------------------------------------------------- already running? (idempotent)
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
all_recorded_alive() {
    [ -s "$PIDS" ] || return 1
    local name pid n=0
    while read -r name pid; do
        pid_alive "$name" "$pid" || return 1
        n=$((n + 1))
    done <"$PIDS"
    [ "$n" -eq 3 ]
}
RENDERED=$(sed -e "s|@STATE_DIR@|$STATE|g" -e "s|@MUNGE_SOCKET@|$MUNGE_SOCKET|g" -e "s|@CPUS@|$CPUS|g" \
    -e "s|@REAL_MEMORY@|$MEM_MB|g" -e "s|@CTLD_PORT@|$CTLD_PORT|g" -e "s|@SLURMD_PORT@|$SLURMD_PORT|g" \
    "$HERE/slurm.conf.template")
if [ -e "$PIDS" ]; then
    if all_recorded_alive && [ "$(cat "$CONF" 2>/dev/null)" = "$RENDERED" ] &&
        SLURM_CONF=$CONF timeout 5 sinfo -h -o %T >/dev/null 2>&1; then
        log "already running in $STATE (source $STATE/env.sh)"
        exit 0
    fi
    log "stale, partial or reconfigured cluster in $STATE: stopping it first"
    SLURM_LOCAL_DIR=$STATE bash "$HERE/stop.sh" || true
fi

# ---------------------------------------------------------------- install
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    [ "$NO_INSTALL" = 1 ] && die "slurmctld/slurmd/munged not found and SLURM_LOCAL_NO_INSTALL=1"
    command -v apt-get >/dev/null 2>&1 || die "slurmctld not found and apt-get is not available: install slurm-wlm by hand"
    log "slurmctld not found: installing slurm-wlm with apt-get (about 10-30 s)"
    aptlog=$(mktemp /tmp/slurm-local-apt.XXXXXX)
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get -o DPkg::Lock::Timeout=120 update >"$aptlog" 2>&1; then
        tail -n 20 "$aptlog" >&2
        die "apt-get update failed (see above, full log $aptlog): cannot install slurm-wlm"
    fi
    if ! apt-get -o DPkg::Lock::Timeout=120 install -y --no-install-recommends slurm-wlm >>"$aptlog" 2>&1; then
        tail -n 20 "$aptlog" >&2
        die "apt-get install slurm-wlm failed (see above, full log $aptlog)"
    fi
    rm -f "$aptlog"
    command -v slurmctld >/dev/null 2>&1 || die "slurm-wlm installed but slurmctld is still not on PATH"
fi

# ---------------------------------------------------------------- ports
port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
for p in "$CTLD_PORT" "$SLURMD_PORT"; do
    if port_busy "$p"; then
        die "TCP port $p is already in use ($(ss -Hltnp "sport = :$p" | head -n1)); set SLURM_LOCAL_CTLD_PORT/SLURM_LOCAL_SLURMD_PORT"
    fi
done
[ "$CTLD_PORT" != "$SLURMD_PORT" ] || die "slurmctld and slurmd ports must differ"

# ---------------------------------------------------------------- state dir
mkdir -p "$STATE" "$MUNGE_DIR" "$STATE/ctld" "$STATE/slurmd" "$LOGDIR" "$STATE/run"
# munged refuses a socket dir (or any parent) that is not a+x; --force below turns the parent check into a warning.
chmod 755 "$STATE" "$MUNGE_DIR" "$STATE/run" "$LOGDIR"
rm -f "$PIDS" "$STATE"/run/*.pid "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
: >"$LOGDIR/munged.log"
: >"$LOGDIR/slurmctld.log"
: >"$LOGDIR/slurmd.log"

STARTED=() # "name pid"
cleanup_started() {
    stop_entries 5 "${STARTED[@]}"
    rm -f "$PIDS"
}
fail() {
    echo "slurm-local: ERROR: $*" >&2
    local f
    for f in "$LOGDIR/munged.log" "$LOGDIR/slurmctld.log" "$LOGDIR/slurmd.log"; do
        if [ -s "$f" ]; then
            echo "---- tail $f" >&2
            tail -n 15 "$f" >&2
        fi
    done
    [ "${#STARTED[@]}" -gt 0 ] && cleanup_started
    exit 1
}
trap 'fail "unexpected error at line $LINENO"' ERR

wait_pidfile() { # name pidfile -> echoes pid
    local name=$1 file=$2 pid
    for _ in $(seq 100); do
        if [ -s "$file" ]; then
            pid=$(tr -dc 0-9 <"$file")
            if pid_alive "$name" "$pid"; then
                echo "$pid"
                return 0
            fi
        fi
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------- munge
KEY=$MUNGE_DIR/munge.key
if [ ! -s "$KEY" ]; then
    if command -v mungekey >/dev/null 2>&1; then
        mungekey --create --keyfile="$KEY" --force >/dev/null 2>&1 || fail "mungekey --create failed"
    else
        dd if=/dev/urandom of="$KEY" bs=1024 count=1 status=none
    fi
fi
chown root:root "$KEY"
chmod 400 "$KEY"
munged --force --key-file="$KEY" --socket="$MUNGE_SOCKET" --pid-file="$STATE/run/munged.pid" \
    --log-file="$LOGDIR/munged.log" --seed-file="$MUNGE_DIR/munge.seed" >>"$LOGDIR/munged.log" 2>&1 ||
    fail "munged did not start"
pid=$(wait_pidfile munged "$STATE/run/munged.pid") || fail "munged did not write its pid file"
STARTED+=("munged $pid")
for _ in $(seq 50); do [ -S "$MUNGE_SOCKET" ] && break; sleep 0.1; done
munge -S "$MUNGE_SOCKET" -n 2>/dev/null | unmunge -S "$MUNGE_SOCKET" >/dev/null 2>&1 || fail "munge round trip failed on $MUNGE_SOCKET"

# ---------------------------------------------------------------- config
printf '%s\n' "$RENDERED" >"$CONF.tmp"
mv "$CONF.tmp" "$CONF"
chmod 644 "$CONF"
export SLURM_CONF=$CONF

# ---------------------------------------------------------------- slurmctld + slurmd
slurmctld -c -f "$CONF" >>"$LOGDIR/slurmctld.log" 2>&1 || fail "slurmctld exited with an error"
pid=$(wait_pidfile slurmctld "$STATE/run/slurmctld.pid") || fail "slurmctld did not stay up"
STARTED+=("slurmctld $pid")
slurmd -N localhost -f "$CONF" >>"$LOGDIR/slurmd.log" 2>&1 || fail "slurmd exited with an error"
pid=$(wait_pidfile slurmd "$STATE/run/slurmd.pid") || fail "slurmd did not stay up"
STARTED+=("slurmd $pid")
printf '%s\n' "${STARTED[@]}" >"$PIDS"

# ---------------------------------------------------------------- wait for the node
deadline=$((SECONDS + WAIT_S))
state=""
while :; do
    state=$(timeout 5 sinfo -h -N -n localhost -o %T 2>/dev/null | head -n1 || true)
    [ "$state" = idle ] && break
    for entry in "${STARTED[@]}"; do
        read -r name pid <<<"$entry"
        pid_alive "$name" "$pid" || fail "$name (pid $pid) died while waiting for the node"
    done
    [ "$SECONDS" -lt "$deadline" ] || fail "node 'localhost' not idle after ${WAIT_S}s (state: '${state:-no answer}')"
    sleep 0.1
done

# ---------------------------------------------------------------- env.sh (+ optional /etc link)
{
    echo "# generated by $HERE/start.sh"
    printf "export SLURM_LOCAL_DIR='%s'\n" "$STATE"
    printf "export SLURM_CONF='%s'\n" "$CONF"
    if [ "$SHIM" = 1 ]; then
        printf 'case ":$PATH:" in *":%s:"*) ;; *) export PATH="%s:$PATH" ;; esac\n' "$HERE/bin" "$HERE/bin"
    fi
} >"$STATE/env.sh"
if [ "$LINK_ETC" = 1 ]; then
    if [ ! -e /etc/slurm/slurm.conf ] && [ ! -L /etc/slurm/slurm.conf ]; then
        mkdir -p /etc/slurm
        ln -s "$CONF" /etc/slurm/slurm.conf
        echo /etc/slurm/slurm.conf >"$STATE/etc_link"
    else
        log "warning: /etc/slurm/slurm.conf exists, not linking it (use SLURM_CONF)"
    fi
fi
trap - ERR
log "up in $STATE: node localhost idle, $CPUS CPUs, ${MEM_MB} MB, ports $CTLD_PORT/$SLURMD_PORT (source $STATE/env.sh)"
