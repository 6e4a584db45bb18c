#!/usr/bin/env bash
# TimescaleDB (PostgreSQL 17 + postgresql-17-timescaledb from Debian 13 "trixie")
# without Docker, for tests.
#
# Usage: infra/timescaledb.sh {start|stop|status|url|provision|needs-apt}
#
#   provision  build (or reuse) the cached trixie root with PostgreSQL 17 + TimescaleDB
#   start      provision, then start a throwaway cluster with a fresh data dir
#   stop       fast-stop the cluster and release the mounts (no-op if not running)
#   status     print "running ..." (exit 0) or "stopped" (exit 3)
#   url        print the admin connection URL
#   needs-apt  exit 0 if `start` would have to apt-get install host packages
#
# Why chroot instead of running the trixie binaries with LD_LIBRARY_PATH:
# the trixie binaries need trixie's glibc (newer than bookworm's), so they would
# have to be started through the root's own ld-linux loader, and PostgreSQL has
# its pkglibdir/sharedir (/usr/lib/postgresql/17/lib, /usr/share/postgresql/17)
# compiled in, so extension loading (timescaledb*.so, timescaledb--*.sql) would
# look at the *host's* paths. Inside a chroot every compiled-in path and every
# library resolves to the trixie files with no hacks. The cost is that start/stop
# need root (chroot + mounts) and that the data/socket dir must be inside the root:
# we bind-mount $SPECFLEET_RUN_DIR/timescaledb to $ROOT/specfleet, and give the
# chroot its own /proc and a private tmpfs /dev/shm (PostgreSQL's default
# dynamic_shared_memory_type=posix needs /dev/shm). All three mounts are released
# by `stop`. The server runs as the chroot's own `postgres` user.
set -euo pipefail

SCRIPT_NAME="timescaledb.sh"
# shellcheck source=infra/common.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/common.sh"

PORT="${TIMESCALEDB_PORT:-55432}"
SUITE="trixie"
MIRROR="${SPECFLEET_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ROOT="${SPECFLEET_CACHE_DIR}/trixie-pg17-timescaledb"
MARKER=".specfleet-root-complete"      # written last, inside the temp root, before the rename
RUN="${SPECFLEET_RUN_DIR}/timescaledb" # host view of the run dir
IN_RUN="/specfleet"                    # the same dir as seen inside the chroot
PGBIN="/usr/lib/postgresql/17/bin"
CHECK_DB="specfleet_tsdb_check"

url() {
  echo "postgres://postgres@127.0.0.1:${PORT}/postgres"
}

root_ready() {
  [[ -f "${ROOT}/${MARKER}" ]]
}

# ---------------------------------------------------------------- mounts

mounts_under() { # list mount points at or below $1 (deepest first)
  local prefix="$1"
  awk -v p="${prefix}" '$2 == p || index($2, p "/") == 1 { print $2 }' /proc/self/mounts | sort -r
}

umount_all_under() {
  local m
  for m in $(mounts_under "$1"); do
    log "umount ${m}"
    umount "${m}" 2>/dev/null || umount -l "${m}"
  done
}

# Remove a directory tree that may once have had mounts in it, never crossing
# into a mounted filesystem.
safe_rm_tree() {
  local dir="$1"
  [[ -e "${dir}" ]] || return 0
  umount_all_under "${dir}"
  if [[ -n "$(mounts_under "${dir}")" ]]; then
    die "refusing to delete ${dir}: still has mounts"
  fi
  rm -rf --one-file-system -- "${dir}"
}

mount_runtime() {
  mkdir -p "${ROOT}/proc" "${ROOT}/dev/shm" "${ROOT}${IN_RUN}" "${RUN}"
  if ! mountpoint -q "${ROOT}/proc"; then
    mount -t proc proc "${ROOT}/proc"
  fi
  if ! mountpoint -q "${ROOT}/dev/shm"; then
    mount -t tmpfs -o mode=1777,size=1g,nosuid,nodev specfleet-shm "${ROOT}/dev/shm"
  fi
  if ! mountpoint -q "${ROOT}${IN_RUN}"; then
    mount --bind "${RUN}" "${ROOT}${IN_RUN}"
  fi
}

umount_runtime() {
  local m
  for m in "${ROOT}${IN_RUN}" "${ROOT}/dev/shm" "${ROOT}/proc"; do
    if mountpoint -q "${m}" 2>/dev/null; then
      umount "${m}" 2>/dev/null || umount -l "${m}"
    fi
  done
}

# ---------------------------------------------------------------- provisioning

needs_apt() {
  ! root_ready && ! command -v debootstrap >/dev/null 2>&1
}

BUILD_TMP=""
cleanup_build() {
  if [[ -n "${BUILD_TMP}" ]]; then
    log "cleaning up incomplete build ${BUILD_TMP}"
    safe_rm_tree "${BUILD_TMP}" || true
    rm -f "${BUILD_TMP}.debootstrap.log"
  fi
}

provision() {
  if root_ready; then
    log "using cached root ${ROOT} ($(head -n1 "${ROOT}/${MARKER}"))"
    return 0
  fi
  require_root provision
  mkdir -p "${SPECFLEET_CACHE_DIR}"
  # Serialise concurrent builds on the same machine.
  exec 9>"${SPECFLEET_CACHE_DIR}/.trixie-pg17-timescaledb.lock"
  flock 9
  if root_ready; then
    log "using cached root ${ROOT} (built by a concurrent run)"
    return 0
  fi

  local started=${SECONDS}
  command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap

  # Leftovers of interrupted builds (never renamed, so never mistaken for a cache).
  local old
  for old in "${SPECFLEET_CACHE_DIR}"/.trixie-pg17-timescaledb.tmp.*; do
    [[ -e "${old}" ]] || continue
    log "removing stale partial build ${old}"
    safe_rm_tree "${old}"
  done
  # A root without marker cannot come from the atomic rename; treat as garbage.
  if [[ -e "${ROOT}" ]]; then
    log "removing incomplete root ${ROOT}"
    safe_rm_tree "${ROOT}"
  fi

  BUILD_TMP="$(mktemp -d "${SPECFLEET_CACHE_DIR}/.trixie-pg17-timescaledb.tmp.XXXXXX")"
  trap cleanup_build EXIT
  chmod 755 "${BUILD_TMP}"

  log "debootstrap --variant=minbase ${SUITE} ${BUILD_TMP} ${MIRROR}"
  debootstrap --variant=minbase "${SUITE}" "${BUILD_TMP}" "${MIRROR}" >"${BUILD_TMP}.debootstrap.log" 2>&1 || {
    tail -n 40 "${BUILD_TMP}.debootstrap.log" >&2
    rm -f "${BUILD_TMP}.debootstrap.log"
    die "debootstrap failed"
  }
  rm -f "${BUILD_TMP}.debootstrap.log"
  log "debootstrap done after $((SECONDS - started))s"

  # Never let maintainer scripts start services inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"${BUILD_TMP}/usr/sbin/policy-rc.d"
  chmod 755 "${BUILD_TMP}/usr/sbin/policy-rc.d"
  # Don't create the Debian "main" cluster at install time; we initdb ourselves.
  mkdir -p "${BUILD_TMP}/etc/postgresql-common/createcluster.d"
  echo "create_main_cluster = false" >"${BUILD_TMP}/etc/postgresql-common/createcluster.d/specfleet.conf"

  mount -t proc proc "${BUILD_TMP}/proc"
  log "chroot apt-get install postgresql-17 postgresql-17-timescaledb"
  chroot "${BUILD_TMP}" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  chroot "${BUILD_TMP}" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    postgresql-17 postgresql-17-timescaledb >&2
  chroot "${BUILD_TMP}" apt-get clean
  umount "${BUILD_TMP}/proc"

  if ! chroot "${BUILD_TMP}" id -u postgres >/dev/null 2>&1; then
    log "creating postgres user inside the root"
    chroot "${BUILD_TMP}" useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
  fi
  [[ -x "${BUILD_TMP}${PGBIN}/postgres" ]] || die "postgres 17 binary missing after install"
  [[ -f "${BUILD_TMP}/usr/share/postgresql/17/extension/timescaledb.control" ]] || die "timescaledb extension missing after install"
  [[ -c "${BUILD_TMP}/dev/null" ]] || { rm -f "${BUILD_TMP}/dev/null"; mknod -m 666 "${BUILD_TMP}/dev/null" c 1 3; }
  mkdir -p "${BUILD_TMP}${IN_RUN}" "${BUILD_TMP}/dev/shm"

  local tsver pgver
  tsver="$(chroot "${BUILD_TMP}" dpkg-query -W -f='${Version}' postgresql-17-timescaledb)"
  pgver="$(chroot "${BUILD_TMP}" dpkg-query -W -f='${Version}' postgresql-17)"
  printf 'postgresql-17=%s postgresql-17-timescaledb=%s built=%s\n' "${pgver}" "${tsver}" \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"${BUILD_TMP}/${MARKER}"

  mv -T "${BUILD_TMP}" "${ROOT}" # atomic rename on the same filesystem
  BUILD_TMP=""
  trap - EXIT
  log "root ready in ${ROOT} after $((SECONDS - started))s ($(head -n1 "${ROOT}/${MARKER}"))"
}

# ---------------------------------------------------------------- server

pg_ids() {
  PG_UID="$(chroot "${ROOT}" id -u postgres)"
  PG_GID="$(chroot "${ROOT}" id -g postgres)"
}

# Run a command inside the root as its postgres user with a clean environment.
in_root_as_pg() {
  chroot --userspec="${PG_UID}:${PG_GID}" --groups="${PG_GID}" "${ROOT}" /usr/bin/env -i \
    HOME=/var/lib/postgresql LANG=C.UTF-8 LC_ALL=C.UTF-8 PATH="${PGBIN}:/usr/bin:/bin" \
    PGHOST=127.0.0.1 PGPORT="${PORT}" PGUSER=postgres PGOPTIONS="-c client_min_messages=warning" "$@"
}

server_pid() {
  local pid
  pid="$(postmaster_pid "${RUN}/data/postmaster.pid")"
  if pid_alive_as "${pid}" postgres; then
    echo "${pid}"
  fi
}

is_running() {
  [[ -n "$(server_pid)" ]]
}

wait_ready() {
  local i
  for ((i = 0; i < 120; i++)); do
    if in_root_as_pg pg_isready -q -h 127.0.0.1 -p "${PORT}"; then
      return 0
    fi
    is_running || break
    sleep 0.5
  done
  tail -n 40 "${RUN}/postgres.log" >&2 || true
  return 1
}

start() {
  require_root start
  provision
  if is_running; then
    log "already running (pid $(server_pid)) at $(url)"
    return 0
  fi
  if port_in_use "${PORT}"; then
    die "port ${PORT} is already in use by another process (set TIMESCALEDB_PORT)"
  fi
  local started=${SECONDS}
  umount_runtime # stale mounts from a crashed run
  # Fresh data dir per start.
  [[ -d "${RUN}" ]] && safe_rm_tree "${RUN}"
  mkdir -p "${RUN}"
  chmod 755 "${SPECFLEET_RUN_DIR}" "${RUN}"
  trap 'log "start failed; cleaning up"; stop_server || true' EXIT
  mount_runtime
  pg_ids
  chown "${PG_UID}:${PG_GID}" "${RUN}"

  log "initdb ${RUN}/data"
  in_root_as_pg initdb -D "${IN_RUN}/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"${RUN}/initdb.log" 2>&1 || { cat "${RUN}/initdb.log" >&2; die "initdb failed"; }
  mkdir -p "${RUN}/sock"
  chown "${PG_UID}:${PG_GID}" "${RUN}/sock"
  cat >>"${RUN}/data/postgresql.conf" <<EOF

# ---- specfleet throwaway test cluster ----
listen_addresses = '127.0.0.1'
port = ${PORT}
unix_socket_directories = '${IN_RUN}/sock'
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = off
# Throwaway cluster: losing the last commits on a crash is fine (fsync stays on).
synchronous_commit = off
max_connections = 200
max_worker_processes = 32
timescaledb.max_background_workers = 16
EOF

  log "starting PostgreSQL 17 + TimescaleDB on 127.0.0.1:${PORT}"
  in_root_as_pg pg_ctl start -D "${IN_RUN}/data" -l "${IN_RUN}/postgres.log" -w -t 60 >/dev/null ||
    { tail -n 40 "${RUN}/postgres.log" >&2 || true; die "pg_ctl start failed"; }
  wait_ready || die "server did not become ready"

  # Prove the extension loads, in a scratch database.
  local tsver
  in_root_as_pg psql -X -q -v ON_ERROR_STOP=1 -d postgres \
    -c "DROP DATABASE IF EXISTS ${CHECK_DB}" -c "CREATE DATABASE ${CHECK_DB}" >/dev/null
  tsver="$(in_root_as_pg psql -X -q -At -v ON_ERROR_STOP=1 -d "${CHECK_DB}" \
    -c "CREATE EXTENSION IF NOT EXISTS timescaledb" \
    -c "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")"
  in_root_as_pg psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE ${CHECK_DB}" >/dev/null
  [[ -n "${tsver}" ]] || die "CREATE EXTENSION timescaledb did not work"
  trap - EXIT
  log "ready after $((SECONDS - started))s: $(in_root_as_pg psql -X -At -d postgres -c 'SHOW server_version') with TimescaleDB ${tsver} (pid $(server_pid)) at $(url)"
}

stop_server() {
  local pid i
  pid="$(server_pid)"
  if [[ -n "${pid}" ]]; then
    log "stopping (pid ${pid})"
    mount_runtime
    pg_ids
    if ! in_root_as_pg pg_ctl stop -D "${IN_RUN}/data" -m fast -w -t 60 >/dev/null; then
      log "pg_ctl stop failed; sending SIGQUIT"
      kill -QUIT "${pid}" 2>/dev/null || true
      for ((i = 0; i < 20; i++)); do pid_alive_as "${pid}" postgres || break; sleep 0.5; done
      pid_alive_as "${pid}" postgres && kill -KILL "${pid}" 2>/dev/null || true
    fi
    log "stopped"
  fi
  umount_runtime
}

stop() {
  if ! is_running && [[ -z "$(mounts_under "${ROOT}")" ]]; then
    return 0 # nothing to do, stay quiet
  fi
  require_root stop
  stop_server
}

status() {
  local pid
  pid="$(server_pid)"
  if [[ -n "${pid}" ]]; then
    echo "running (pid ${pid}, port ${PORT}, data ${RUN}/data) $(url)"
    return 0
  fi
  if root_ready; then
    echo "stopped (cached root: ${ROOT})"
  else
    echo "stopped (root not provisioned yet)"
  fi
  return 3
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
url) url ;;
provision) require_root provision; provision ;;
needs-apt) needs_apt ;;
*)
  echo "usage: $0 {start|stop|status|url|provision|needs-apt}" >&2
  exit 2
  ;;
esac
