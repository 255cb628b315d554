# Shared by start.sh and stop.sh (sourced). Needs a `log` function.

# True if PID is alive AND is the daemon we recorded (/proc/PID/comm matches): never signal a recycled PID.
pid_alive() { # name pid
    [ -n "$2" ] && [ -r "/proc/$2/comm" ] && [ "$(cat "/proc/$2/comm" 2>/dev/null)" = "$1" ]
}

# SIGTERM every "name pid" entry still alive, wait up to SECONDS for all to exit, SIGKILL the rest.
stop_entries() { # seconds entry...
    local seconds=$1 entry name pid left
    shift
    for entry in "$@"; do
        read -r name pid <<<"$entry"
        pid_alive "$name" "$pid" && { kill -TERM "$pid" 2>/dev/null || true; }
    done
    for _ in $(seq $((seconds * 10))); do
        left=0
        for entry in "$@"; do
            read -r name pid <<<"$entry"
            pid_alive "$name" "$pid" && left=1
        done
        [ "$left" = 0 ] && break
        sleep 0.1
    done
    for entry in "$@"; do
        read -r name pid <<<"$entry"
        if pid_alive "$name" "$pid"; then
            log "$name (pid $pid) still alive after $seconds s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    return 0
}
