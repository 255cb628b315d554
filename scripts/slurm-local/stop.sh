#!/usr/bin/env bash
# Stop the cluster started by start.sh: cancel every job, then SIGTERM the recorded daemons (munged, slurmctld, slurmd)
# all at once, wait up to 15 s, SIGKILL what is left. Only PIDs recorded in $SLURM_LOCAL_DIR/pids whose
# /proc/PID/comm matches are signalled. SLURM_LOCAL_PURGE=1 also deletes the state dir.
set -uo pipefail

STATE=${SLURM_LOCAL_DIR:-/tmp/me5-slurm}
STATE=${STATE%/}
PIDS=$STATE/pids
CONF=$STATE/slurm.conf
export PATH="$PATH:/usr/sbin:/sbin"

log() { echo "slurm-local: $*" >&2; }
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

declare -a ENTRIES=()
if [ -s "$PIDS" ]; then
    mapfile -t ENTRIES <"$PIDS"
fi

ctld_up=0
for entry in "${ENTRIES[@]}"; do
    read -r name pid <<<"$entry"
    [ "$name" = slurmctld ] && pid_alive slurmctld "$pid" && ctld_up=1
done

# ---------------------------------------------------------------- cancel jobs
if [ "$ctld_up" = 1 ] && [ -f "$CONF" ]; then
    export SLURM_CONF=$CONF
    if [ -n "$(timeout 5 squeue -h -t PD,R,CG,S,CF -o %A 2>/dev/null)" ]; then
        timeout 5 scancel --full --quiet --user=root 2>/dev/null || timeout 5 scancel --quiet --user=root 2>/dev/null || true
        for _ in $(seq 100); do # <= 10 s: KillWait is 5 s
            [ -z "$(timeout 5 squeue -h -t PD,R,CG,S,CF -o %A 2>/dev/null)" ] && break
            sleep 0.1
        done
    fi
fi

# ---------------------------------------------------------------- stop daemons
stop_entries 15 "${ENTRIES[@]}"
rm -f "$PIDS"

# ---------------------------------------------------------------- /etc link, purge
if [ -s "$STATE/etc_link" ]; then
    link=$(cat "$STATE/etc_link")
    if [ -L "$link" ] && [ "$(readlink "$link")" = "$CONF" ]; then
        rm -f "$link"
    fi
    rm -f "$STATE/etc_link"
fi
if [ "${SLURM_LOCAL_PURGE:-0}" = 1 ]; then
    if [ -d "$STATE/munge" ] || [ -f "$STATE/slurm.conf" ]; then
        rm -rf "$STATE"
    elif [ -d "$STATE" ]; then
        log "not purging $STATE: it does not look like a slurm-local state dir"
    fi
fi
log "stopped ($STATE)"
exit 0
