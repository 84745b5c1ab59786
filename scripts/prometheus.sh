#!/usr/bin/env bash
# Install and run Prometheus (127.0.0.1 only, OTLP receiver and exemplar storage on) without
# Docker: the binary is built with the Go toolchain from the Go module proxy
# (github.com/prometheus/prometheus/cmd/prometheus) and cached like Jaeger's.
#
#   scripts/prometheus.sh install   build the binary into the cache (once, ~2 minutes cold)
#   scripts/prometheus.sh start     install if needed, start in background, wait until ready
#   scripts/prometheus.sh stop      stop the instance started by `start` (via its PID file)
#   scripts/prometheus.sh status    exit 0 if running and ready
#   scripts/prometheus.sh run       run in the foreground
#
# Send metrics with OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=http://127.0.0.1:$PROMETHEUS_PORT/api/v1/otlp/v1/metrics
# (cumulative temporality, the default: Prometheus does not take delta without a feature flag).
set -euo pipefail

# Prometheus 3.x; its Go module tags are v0.3xx.y (the module has no /v3 path). The web UI's
# assets are not in the module, so a built binary serves the HTTP API only: query it with curl
# or a Grafana pointed at it.
PROMETHEUS_VERSION=v0.316.0

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=$here/prometheus/prometheus.yml
cache_dir=${PROMETHEUS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/beluga-o11y/prometheus-$PROMETHEUS_VERSION}
bin=$cache_dir/prometheus
state_dir=${PROMETHEUS_STATE_DIR:-${TMPDIR:-/tmp}/beluga-o11y-prometheus}
pid_file=$state_dir/prometheus.pid
log_file=$state_dir/prometheus.log
start_timeout=${PROMETHEUS_START_TIMEOUT:-60}
export PROMETHEUS_PORT=${PROMETHEUS_PORT:-9090}
url=http://127.0.0.1:$PROMETHEUS_PORT

die() { echo "prometheus.sh: $*" >&2; exit 1; }

install() {
  if [[ -x $bin ]]; then echo "prometheus $PROMETHEUS_VERSION: $bin"; return; fi
  command -v go >/dev/null 2>&1 ||
    die "building Prometheus needs the Go toolchain (>= 1.26.7 for $PROMETHEUS_VERSION): https://go.dev/dl/"
  echo "building prometheus $PROMETHEUS_VERSION into $bin; a cold build takes minutes..."
  mkdir -p "$cache_dir"
  local gobin=$cache_dir/bin.tmp
  rm -rf "$gobin"
  # remove_all_sd leaves out the cloud service-discovery plugins (nothing is scraped here); CGO
  # off like the release builds; GOWORK off so no go.work above us interferes.
  GOWORK=off CGO_ENABLED=0 GOBIN=$gobin go install -trimpath -tags remove_all_sd \
    "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_VERSION"
  # Move last, so an interrupted build never leaves a half-written binary behind.
  mv -f "$gobin/prometheus" "$bin"
  rm -rf "$gobin"
  echo "installed: $bin"
}


healthy() { curl -fsS -o /dev/null --max-time 2 "$url/-/ready" 2>/dev/null; }

args() {
  echo --config.file="$config" --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" \
    --storage.tsdb.path="$state_dir/data" --web.enable-otlp-receiver --enable-feature=exemplar-storage
}

info() {
  cat <<INFO
prometheus $PROMETHEUS_VERSION running, pid $1
  OTLP/HTTP   $url/api/v1/otlp/v1/metrics
  query API   $url/api/v1/query?query=...   exemplars: $url/api/v1/query_exemplars
  log         $log_file
  data        $state_dir/data
INFO
}




launch() {
  # shellcheck disable=SC2046 # args are word-split on purpose; no path here has spaces
  nohup "$bin" $(args) </dev/null >"$log_file" 2>&1 &
}

name=prometheus
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
