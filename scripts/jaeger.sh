#!/usr/bin/env bash
# Install and run Jaeger v2 all-in-one (in-memory storage, 127.0.0.1 only)
# without Docker: the binary is built with the Go toolchain from the Go module
# proxy, via the wrapper module in scripts/jaeger/ (go.mod + go.sum, no Jaeger code).
#
#   scripts/jaeger.sh install   build the binary into the cache (once)
#   scripts/jaeger.sh start     install if needed, start in background, wait until healthy
#   scripts/jaeger.sh stop      stop the instance started by `start` (via its PID file)
#   scripts/jaeger.sh status    exit 0 if running and healthy
#   scripts/jaeger.sh run       run in the foreground
#   scripts/jaeger.sh bin       install if needed, print the binary's path (to run it with another
#                               config, such as deploy/collector.yaml)
set -euo pipefail

# Jaeger v2.13.0. Its Go module tag is v1.76.0: later v2.x tags sit on a module
# path without /v2, which Go refuses, so this is the newest v2 the proxy can give
# `go build`. Upgrading means changing scripts/jaeger/go.mod (and these lines).
JAEGER_VERSION=v2.13.0
JAEGER_MODULE_VERSION=v1.76.0
JAEGER_COMMIT=63b27e1810a710ac54dc4522da0538e540bdc545

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mod_dir=$here/jaeger
config=$mod_dir/config.yaml
cache_dir=${JAEGER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/beluga-o11y/jaeger-$JAEGER_VERSION}
bin=$cache_dir/jaeger
state_dir=${JAEGER_STATE_DIR:-${TMPDIR:-/tmp}/beluga-o11y-jaeger}
pid_file=$state_dir/jaeger.pid
log_file=$state_dir/jaeger.log
start_timeout=${JAEGER_START_TIMEOUT:-60}

# config.yaml reads these same variables; export them so both always agree.
export JAEGER_OTLP_GRPC_PORT=${JAEGER_OTLP_GRPC_PORT:-4317}
export JAEGER_OTLP_HTTP_PORT=${JAEGER_OTLP_HTTP_PORT:-4318}
export JAEGER_QUERY_HTTP_PORT=${JAEGER_QUERY_HTTP_PORT:-16686}
export JAEGER_QUERY_GRPC_PORT=${JAEGER_QUERY_GRPC_PORT:-16685}
export JAEGER_HEALTH_PORT=${JAEGER_HEALTH_PORT:-13133}
export JAEGER_METRICS_PORT=${JAEGER_METRICS_PORT:-8889}
health_url=http://127.0.0.1:$JAEGER_HEALTH_PORT/status
query_url=http://127.0.0.1:$JAEGER_QUERY_HTTP_PORT

die() { echo "jaeger.sh: $*" >&2; exit 1; }

install() {
  if [[ -x $bin ]]; then echo "jaeger $JAEGER_VERSION: $bin"; return; fi
  command -v go >/dev/null 2>&1 ||
    die "the e2e test needs the Go toolchain to build Jaeger: install Go >= 1.24 (https://go.dev/dl/)"
  # Go >= 1.21 can fetch the go1.24 toolchain that Jaeger's go.mod asks for by itself.
  local minor
  minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
  [[ -n $minor && $minor -ge 21 ]] ||
    die "Go $(go env GOVERSION) is too old to build Jaeger: install Go >= 1.24"
  echo "building jaeger $JAEGER_VERSION (module $JAEGER_MODULE_VERSION) into $bin; a cold build takes minutes..."
  mkdir -p "$cache_dir"
  local pkg=github.com/jaegertracing/jaeger
  # -mod=readonly: never rewrite the committed go.mod/go.sum; GOWORK=off: ignore any
  # go.work above us. CGO off like Jaeger's release builds (no C compiler needed).
  # -X fills in `jaeger version`.
  (cd "$mod_dir" && GOWORK=off CGO_ENABLED=0 go build -mod=readonly -trimpath -o "$bin.tmp" \
    -ldflags "-s -w -X $pkg/internal/version.latestVersion=$JAEGER_VERSION -X $pkg/internal/version.commitSHA=$JAEGER_COMMIT" \
    "$pkg/cmd/jaeger")
  # Rename last, so an interrupted build never leaves a half-written binary behind.
  mv -f "$bin.tmp" "$bin"
  echo "installed: $bin"
}


healthy() {
  curl -fsS -o /dev/null --max-time 2 "$health_url" 2>/dev/null &&
    curl -fsS -o /dev/null --max-time 2 "$query_url/api/services" 2>/dev/null
}

info() {
  cat <<EOF
jaeger $JAEGER_VERSION running, pid $1
  OTLP/HTTP   http://127.0.0.1:$JAEGER_OTLP_HTTP_PORT/v1/traces
  OTLP/gRPC   127.0.0.1:$JAEGER_OTLP_GRPC_PORT
  query HTTP  $query_url  (api: /api/services, /api/traces, /api/v3/...)
  query gRPC  127.0.0.1:$JAEGER_QUERY_GRPC_PORT
  metrics     http://127.0.0.1:$JAEGER_METRICS_PORT/metrics  (the OTLP metrics it received, for scraping)
  health      $health_url
  log         $log_file
  pid file    $pid_file
EOF
}




launch() {
  # stdin/stdout/stderr detached from the caller, so e.g. a Node child_process pipe is not held
  # open by the background server.
  nohup "$bin" --config "$config" </dev/null >"$log_file" 2>&1 &
}

name=jaeger
# shellcheck source=scripts/lib/service.sh
source "$here/lib/service.sh"
start() { start_service; }

run() {
  install
  exec "$bin" --config "$config"
}

bin() {
  install >&2
  echo "$bin"
}

case ${1:-} in
  install | start | stop | status | run | bin) "$1" ;;
  *) die "usage: $0 {install|start|stop|status|run|bin}" ;;
esac
