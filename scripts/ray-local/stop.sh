#!/usr/bin/env bash
# Stop the Ray head started by start.sh: SIGTERM to its `ray start --block` process (which stops gcs_server,
# raylet, agents and workers), wait up to 15 s, then SIGKILL whatever is left of the process tree snapshot taken
# before the SIGTERM (matched by PID and start time, so a reused PID is never hit). Never uses `ray stop`,
# which kills by process name and would also stop other users' Ray clusters. RAY_LOCAL_PURGE=1 deletes the state dir.
set -uo pipefail

STATE=${RAY_LOCAL_DIR:-/tmp/me5-ray}
STATE=${STATE%/}
log() { echo "ray-local: $*" >&2; }

starttime() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }
descendants() {
    local p=$1 c
    echo "$p"
    for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do descendants "$c"; done
}

pid=$(cat "$STATE/pid" 2>/dev/null || true)
if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--temp-dir=$STATE/tmp"; then
    declare -a snap=()
    for p in $(descendants "$pid"); do
        st=$(starttime "$p")
        [ -n "$st" ] && snap+=("$p $st")
    done
    kill -TERM "$pid" 2>/dev/null || true
    alive() {
        local e p st
        for e in "${snap[@]}"; do
            read -r p st <<<"$e"
            [ "$(starttime "$p")" = "$st" ] && return 0
        done
        return 1
    }
    for _ in $(seq 150); do
        alive || break
        sleep 0.1
    done
    for e in "${snap[@]}"; do
        read -r p st <<<"$e"
        if [ "$(starttime "$p")" = "$st" ]; then
            log "pid $p ($(cat "/proc/$p/comm" 2>/dev/null)) still alive after 15 s: SIGKILL"
            kill -KILL "$p" 2>/dev/null || true
        fi
    done
elif [ -n "$pid" ]; then
    log "pid $pid in $STATE/pid is not this head any more: nothing to signal"
fi
rm -f "$STATE/pid" "$STATE/env.sh"
if [ "${RAY_LOCAL_PURGE:-0}" = 1 ] && [ -d "$STATE/tmp" ]; then
    rm -rf "$STATE"
fi
log "stopped ($STATE)"
exit 0
