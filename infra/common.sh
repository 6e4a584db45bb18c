# shellcheck shell=bash
# Shared helpers for the infra/*.sh scripts. Sourced, never executed directly.
#
# Expects the sourcing script to set SCRIPT_NAME before sourcing.

SPECFLEET_CACHE_DIR="${SPECFLEET_CACHE_DIR:-/var/cache/specfleet}"
SPECFLEET_RUN_DIR="${SPECFLEET_RUN_DIR:-/tmp/specfleet-run}"
export DEBIAN_FRONTEND=noninteractive

# Make INT/TERM go through normal exit so EXIT traps (cleanup) always run.
trap 'exit 130' INT
trap 'exit 143' TERM

log() {
  printf '%s [%s] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${SCRIPT_NAME}" "$*" >&2
}

die() {
  log "ERROR: $*"
  exit 1
}

# Re-exec as root (via passwordless sudo) when needed; otherwise fail clearly.
require_root() {
  if [[ "${EUID}" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      log "not root: re-running via sudo"
      exec sudo -n -E -- bash "$0" "$@"
    fi
    die "must run as root (needs apt-get / chroot / mount / runuser)"
  fi
}

# Run `apt-get update` at most once per CI run: .ci/run exports
# SPECFLEET_APT_UPDATED=1 after updating, and so does this helper for its own
# process tree.
apt_update_once() {
  if [[ "${SPECFLEET_APT_UPDATED:-0}" != "1" ]]; then
    log "apt-get update"
    apt-get update -q >&2
    export SPECFLEET_APT_UPDATED=1
  fi
}

apt_install() {
  apt_update_once
  log "apt-get install -y --no-install-recommends $*"
  apt-get install -y -q --no-install-recommends "$@" >&2
}

# True if something accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True if $1 is a live process whose command name is $2.
pid_alive_as() {
  local pid="$1" comm="$2"
  [[ -n "${pid}" && -r "/proc/${pid}/comm" ]] && [[ "$(cat "/proc/${pid}/comm" 2>/dev/null)" == "${comm}" ]]
}

# First line of a postmaster.pid file = pid of the postmaster.
postmaster_pid() {
  local pidfile="$1"
  [[ -f "${pidfile}" ]] && head -n1 "${pidfile}" 2>/dev/null || true
}
