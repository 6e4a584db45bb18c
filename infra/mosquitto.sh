#!/usr/bin/env bash
# Mosquitto MQTT broker binary for tests (tests start their own brokers on
# ephemeral ports; this script only makes sure the binary is there).
#
# Usage: infra/mosquitto.sh {install|bin|start|stop|status|url|needs-apt}
#
#   install    apt-get install mosquitto mosquitto-clients if missing, and make sure
#              the Debian-packaged service is not left running on 1883
#   bin        print the path of the mosquitto binary
#   start      (optional helper) run one throwaway broker on 127.0.0.1:${MOSQUITTO_PORT:-51883}
#   stop       stop that broker (no-op if not running)
#   status     print "running ..." (exit 0) or "stopped" (exit 3)
#   url        print mqtt://127.0.0.1:PORT
#   needs-apt  exit 0 if `install` would have to apt-get install host packages
set -euo pipefail

SCRIPT_NAME="mosquitto.sh"
# shellcheck source=infra/common.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/common.sh"

PORT="${MOSQUITTO_PORT:-51883}"
RUN="${SPECFLEET_RUN_DIR}/mosquitto"
PACKAGED_CONF="/etc/mosquitto/mosquitto.conf"

mosquitto_bin() {
  if [[ -x /usr/sbin/mosquitto ]]; then
    echo /usr/sbin/mosquitto
  else
    command -v mosquitto 2>/dev/null || true
  fi
}

needs_apt() {
  [[ -z "$(mosquitto_bin)" ]] || ! command -v mosquitto_pub >/dev/null 2>&1
}

# PIDs of mosquitto processes running the Debian package's config (the system service).
packaged_pids() {
  pgrep -f "^(/usr/sbin/)?mosquitto -c ${PACKAGED_CONF}( |\$)" || true
}

install() {
  if ! needs_apt; then
    return 0
  fi
  require_root install
  local before
  before="$(packaged_pids)"
  apt_install mosquitto mosquitto-clients
  # apt starts the packaged service (systemd or sysv init script) on 1883; tests
  # need the port range to themselves, so stop and disable it.
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    log "disabling the packaged mosquitto service (systemd)"
    systemctl disable --now mosquitto.service >/dev/null 2>&1 || true
  else
    if [[ -x /etc/init.d/mosquitto ]]; then
      /etc/init.d/mosquitto stop >/dev/null 2>&1 || true
    fi
    command -v update-rc.d >/dev/null 2>&1 && update-rc.d mosquitto disable >/dev/null 2>&1 || true
  fi
  local pid i
  for pid in $(packaged_pids); do
    if grep -qw -- "${pid}" <<<"${before}"; then
      continue # was already running before we installed; not ours to kill
    fi
    log "killing packaged mosquitto instance started by apt (pid ${pid})"
    kill -TERM "${pid}" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "${pid}" 2>/dev/null || true
  done
  [[ -n "$(mosquitto_bin)" ]] || die "mosquitto still missing after install"
  log "installed $("$(mosquitto_bin)" -h 2>/dev/null | head -n1 || true)"
}

bin() {
  local b
  b="$(mosquitto_bin)"
  [[ -n "${b}" ]] || die "mosquitto is not installed (run: $0 install)"
  echo "${b}"
}

url() {
  echo "mqtt://127.0.0.1:${PORT}"
}

server_pid() {
  local pid
  pid="$(cat "${RUN}/mosquitto.pid" 2>/dev/null || true)"
  if pid_alive_as "${pid}" mosquitto; then
    echo "${pid}"
  fi
}

start() {
  install
  if [[ -n "$(server_pid)" ]]; then
    log "already running (pid $(server_pid)) at $(url)"
    return 0
  fi
  port_in_use "${PORT}" && die "port ${PORT} is already in use (set MOSQUITTO_PORT)"
  rm -rf -- "${RUN}"
  mkdir -p "${RUN}"
  cat >"${RUN}/mosquitto.conf" <<EOF
listener ${PORT} 127.0.0.1
allow_anonymous true
persistence false
log_dest stdout
EOF
  [[ "${EUID}" -eq 0 ]] && id mosquitto >/dev/null 2>&1 && echo "user mosquitto" >>"${RUN}/mosquitto.conf"
  setsid "$(bin)" -c "${RUN}/mosquitto.conf" >"${RUN}/mosquitto.log" 2>&1 </dev/null &
  echo $! >"${RUN}/mosquitto.pid"
  local i
  for ((i = 0; i < 40; i++)); do
    port_in_use "${PORT}" && break
    [[ -n "$(server_pid)" ]] || break
    sleep 0.25
  done
  port_in_use "${PORT}" || { cat "${RUN}/mosquitto.log" >&2 || true; die "mosquitto did not start"; }
  log "ready (pid $(server_pid)) at $(url)"
}

stop() {
  local pid i
  pid="$(server_pid)"
  [[ -n "${pid}" ]] || return 0
  log "stopping (pid ${pid})"
  kill -TERM "${pid}" 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "${pid}" 2>/dev/null || true
  rm -f "${RUN}/mosquitto.pid"
  log "stopped"
}

status() {
  local pid
  pid="$(server_pid)"
  if [[ -n "${pid}" ]]; then
    echo "running (pid ${pid}) $(url)"
    return 0
  fi
  echo "stopped"
  return 3
}

case "${1:-}" in
install) install ;;
bin) bin ;;
start) start ;;
stop) stop ;;
status) status ;;
url) url ;;
needs-apt) needs_apt ;;
*)
  echo "usage: $0 {install|bin|start|stop|status|url|needs-apt}" >&2
  exit 2
  ;;
esac
