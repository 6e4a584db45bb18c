#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster from the system binaries (/usr/lib/postgresql/15/bin),
# for tests. Runs as the `postgres` user (PostgreSQL refuses to run as root).
#
# Usage: infra/postgres15.sh {start|stop|status|url|install|needs-apt}
#
#   install    apt-get install postgresql-15 if the binaries are missing
#   start      install if needed, then start a cluster with a fresh data dir
#   stop       fast-stop the cluster (no-op if not running)
#   status     print "running ..." (exit 0) or "stopped" (exit 3)
#   url        print the admin connection URL
#   needs-apt  exit 0 if `start` would have to apt-get install host packages
set -euo pipefail

SCRIPT_NAME="postgres15.sh"
# shellcheck source=infra/common.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/common.sh"

PORT="${POSTGRES15_PORT:-55433}"
PGBIN="/usr/lib/postgresql/15/bin"
RUN="${SPECFLEET_RUN_DIR}/postgres15"

url() {
  echo "postgres://postgres@127.0.0.1:${PORT}/postgres"
}

needs_apt() {
  [[ ! -x "${PGBIN}/postgres" ]]
}

install() {
  if ! needs_apt; then
    return 0
  fi
  require_root install
  apt_install postgresql-15
  # The Debian package creates and starts a "main" cluster on 5432; we don't want it.
  if command -v pg_lsclusters >/dev/null 2>&1 &&
    pg_lsclusters --no-header 2>/dev/null | awk '$1 == "15" && $2 == "main" && $4 == "online"' | grep -q .; then
    log "stopping the Debian-packaged 15/main cluster started by apt"
    pg_ctlcluster 15 main stop || true
  fi
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now postgresql >/dev/null 2>&1 || true
  fi
  [[ -x "${PGBIN}/postgres" ]] || die "postgres 15 binaries still missing after install"
}

# Run a command as the postgres OS user with a clean environment.
as_pg() {
  local envv=(HOME="${RUN}" LANG=C.UTF-8 LC_ALL=C.UTF-8 PATH="${PGBIN}:/usr/bin:/bin"
    PGHOST=127.0.0.1 PGPORT="${PORT}" PGUSER=postgres PGOPTIONS="-c client_min_messages=warning")
  if [[ "$(id -un)" == "postgres" ]]; then
    env -i "${envv[@]}" "$@"
  else
    runuser -u postgres -- env -i "${envv[@]}" "$@"
  fi
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

need_privileges() {
  if [[ "$(id -un)" != "postgres" ]]; then
    require_root "$@"
  fi
}

start() {
  install
  need_privileges start
  id postgres >/dev/null 2>&1 || die "no 'postgres' OS user (is postgresql-15 installed?)"
  if is_running; then
    log "already running (pid $(server_pid)) at $(url)"
    return 0
  fi
  if port_in_use "${PORT}"; then
    die "port ${PORT} is already in use by another process (set POSTGRES15_PORT)"
  fi
  local started=${SECONDS}
  # Fresh data dir per start.
  rm -rf --one-file-system -- "${RUN}"
  mkdir -p "${RUN}"
  [[ "${EUID}" -eq 0 ]] && chmod 755 "${SPECFLEET_RUN_DIR}" && chown postgres: "${RUN}"
  as_pg test -w "${RUN}" || die "${RUN} is not writable by the postgres user (check SPECFLEET_RUN_DIR permissions)"
  as_pg mkdir -p "${RUN}/sock"

  log "initdb ${RUN}/data"
  as_pg initdb -D "${RUN}/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"${RUN}/initdb.log" 2>&1 || { cat "${RUN}/initdb.log" >&2; die "initdb failed"; }
  cat >>"${RUN}/data/postgresql.conf" <<EOF

# ---- specfleet throwaway test cluster ----
listen_addresses = '127.0.0.1'
port = ${PORT}
unix_socket_directories = '${RUN}/sock'
# Throwaway cluster: losing the last commits on a crash is fine (fsync stays on).
synchronous_commit = off
max_connections = 200
EOF

  log "starting PostgreSQL 15 on 127.0.0.1:${PORT}"
  trap 'log "start failed; cleaning up"; stop_server || true' EXIT
  as_pg pg_ctl start -D "${RUN}/data" -l "${RUN}/postgres.log" -w -t 60 >/dev/null ||
    { tail -n 40 "${RUN}/postgres.log" >&2 || true; die "pg_ctl start failed"; }
  local i
  for ((i = 0; i < 120; i++)); do
    as_pg pg_isready -q -h 127.0.0.1 -p "${PORT}" && break
    is_running || break
    sleep 0.5
  done
  as_pg pg_isready -q -h 127.0.0.1 -p "${PORT}" || { tail -n 40 "${RUN}/postgres.log" >&2 || true; die "server did not become ready"; }
  local ver
  ver="$(as_pg psql -X -At -v ON_ERROR_STOP=1 -d postgres -c 'SHOW server_version')"
  trap - EXIT
  log "ready after $((SECONDS - started))s: PostgreSQL ${ver} (pid $(server_pid)) at $(url)"
}

stop_server() {
  local pid i
  pid="$(server_pid)"
  [[ -n "${pid}" ]] || return 0
  log "stopping (pid ${pid})"
  if ! as_pg pg_ctl stop -D "${RUN}/data" -m fast -w -t 60 >/dev/null; then
    log "pg_ctl stop failed; sending SIGQUIT"
    kill -QUIT "${pid}" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do pid_alive_as "${pid}" postgres || break; sleep 0.5; done
    pid_alive_as "${pid}" postgres && kill -KILL "${pid}" 2>/dev/null || true
  fi
  log "stopped"
}

stop() {
  is_running || return 0 # nothing to do, stay quiet
  need_privileges stop
  stop_server
}

status() {
  local pid
  pid="$(server_pid)"
  if [[ -n "${pid}" ]]; then
    echo "running (pid ${pid}, port ${PORT}, data ${RUN}/data) $(url)"
    return 0
  fi
  echo "stopped"
  return 3
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
url) url ;;
install) install ;;
needs-apt) needs_apt ;;
*)
  echo "usage: $0 {start|stop|status|url|install|needs-apt}" >&2
  exit 2
  ;;
esac
