#!/usr/bin/env bash
# Install and run VictoriaLogs (127.0.0.1 only; it takes OTLP/HTTP logs and answers LogsQL) without
# Docker: the binary is built with the Go toolchain from the Go module proxy
# (github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs) and cached like Jaeger's and Prometheus'.
#
#   scripts/victorialogs.sh install   build the binary into the cache (once; the cold build is timed)
#   scripts/victorialogs.sh start     install if needed, start in background, wait until ready
#   scripts/victorialogs.sh stop      stop the instance started by `start` (via its PID file)
#   scripts/victorialogs.sh status    exit 0 if running and ready
#   scripts/victorialogs.sh run       run in the foreground
#
# Send logs with OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http://127.0.0.1:$VICTORIALOGS_PORT/insert/opentelemetry/v1/logs
# and query them with curl "$url/select/logsql/query" -d 'query=trace_id:...'.
set -euo pipefail

VICTORIALOGS_VERSION=v1.52.2

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_dir=${VICTORIALOGS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/beluga-o11y/victorialogs-$VICTORIALOGS_VERSION}
bin=$cache_dir/victoria-logs
state_dir=${VICTORIALOGS_STATE_DIR:-${TMPDIR:-/tmp}/beluga-o11y-victorialogs}
pid_file=$state_dir/victorialogs.pid
log_file=$state_dir/victorialogs.log
start_timeout=${VICTORIALOGS_START_TIMEOUT:-60}
export VICTORIALOGS_PORT=${VICTORIALOGS_PORT:-9428}
url=http://127.0.0.1:$VICTORIALOGS_PORT

die() { echo "victorialogs.sh: $*" >&2; exit 1; }

install() {
  if [[ -x $bin ]]; then echo "victorialogs $VICTORIALOGS_VERSION: $bin"; return; fi
  command -v go >/dev/null 2>&1 || die "building VictoriaLogs needs the Go toolchain: https://go.dev/dl/"
  echo "building victoria-logs $VICTORIALOGS_VERSION into $bin; a cold build takes minutes..."
  mkdir -p "$cache_dir"
  local gobin=$cache_dir/bin.tmp started=$SECONDS
  rm -rf "$gobin"
  # CGO off like the release builds; GOWORK off so no go.work above us interferes.
  GOWORK=off CGO_ENABLED=0 GOBIN=$gobin go install -trimpath \
    "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$VICTORIALOGS_VERSION"
  # Move last, so an interrupted build never leaves a half-written binary behind.
  mv -f "$gobin/victoria-logs" "$bin"
  rm -rf "$gobin"
  echo "installed: $bin (built in $((SECONDS - started)) s)"
}

healthy() { curl -fsS -o /dev/null --max-time 2 "$url/health" 2>/dev/null; }

args() {
  # -retentionPeriod: the store is a test fixture, so records older than a day go.
  echo -httpListenAddr="127.0.0.1:$VICTORIALOGS_PORT" -storageDataPath="$state_dir/data" -retentionPeriod=1d
}

info() {
  cat <<INFO
victorialogs $VICTORIALOGS_VERSION running, pid $1
  OTLP/HTTP   $url/insert/opentelemetry/v1/logs
  LogsQL      $url/select/logsql/query?query=...
  log         $log_file
  data        $state_dir/data
INFO
}

launch() {
  # shellcheck disable=SC2046 # args are word-split on purpose; no path here has spaces
  nohup "$bin" $(args) </dev/null >"$log_file" 2>&1 &
}

name=victorialogs
# shellcheck source=scripts/lib/service.sh
source "$here/lib/service.sh"
start() { start_service; }

run() {
  install
  mkdir -p "$state_dir"
  # shellcheck disable=SC2046
  exec "$bin" $(args)
}

case ${1:-} in
  install | start | stop | status | run) "$1" ;;
  *) die "usage: $0 {install|start|stop|status|run}" ;;
esac
