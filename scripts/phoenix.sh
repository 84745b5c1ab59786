#!/usr/bin/env bash
# Install and run Arize Phoenix (an LLM trace UI) without Docker: `arize-phoenix` from PyPI into a
# virtual environment cached under ~/.cache, served on 127.0.0.1 only.
#
#   scripts/phoenix.sh install   create the venv and pip-install Phoenix (once, ~2 minutes)
#   scripts/phoenix.sh start     install if needed, start in background, wait until it answers
#   scripts/phoenix.sh stop      stop the instance started by `start` (via its PID file)
#   scripts/phoenix.sh status    exit 0 if running and answering
#
# Ports: PHOENIX_PORT (HTTP: UI, REST, GraphQL and OTLP/HTTP at /v1/traces; default 6006) and
# PHOENIX_GRPC_PORT (OTLP/gRPC; default 4327, since Phoenix's own default 4317 is Jaeger's).
# Send traces with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$PHOENIX_PORT.
set -euo pipefail

PHOENIX_VERSION=${PHOENIX_VERSION:-20.26.1}
cache_dir=${PHOENIX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/beluga-o11y/phoenix-$PHOENIX_VERSION}
venv=$cache_dir/venv
bin=$venv/bin/phoenix
state_dir=${PHOENIX_STATE_DIR:-${TMPDIR:-/tmp}/beluga-o11y-phoenix}
pid_file=$state_dir/phoenix.pid
log_file=$state_dir/phoenix.log
start_timeout=${PHOENIX_START_TIMEOUT:-120}
export PHOENIX_PORT=${PHOENIX_PORT:-6006}
export PHOENIX_GRPC_PORT=${PHOENIX_GRPC_PORT:-4327}
export PHOENIX_HOST=127.0.0.1
url=http://127.0.0.1:$PHOENIX_PORT

die() { echo "phoenix.sh: $*" >&2; exit 1; }

install() {
  if [[ -f $venv/.installed ]]; then echo "phoenix $PHOENIX_VERSION: $bin"; return; fi
  command -v python3 >/dev/null 2>&1 || die "Phoenix needs Python 3 (python3 -m venv)"
  echo "installing arize-phoenix $PHOENIX_VERSION into $venv; the first install takes minutes..."
  # A venv records its own path, so it is built where it stays; the marker is written last, so an
  # interrupted install is redone rather than used.
  rm -rf "$venv"
  mkdir -p "$cache_dir"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "arize-phoenix==$PHOENIX_VERSION" ||
    { rm -rf "$venv"; die "pip install arize-phoenix==$PHOENIX_VERSION failed"; }
  touch "$venv/.installed"
  echo "installed: $bin"
}


healthy() { curl -fsS -o /dev/null --max-time 2 "$url/v1/projects" 2>/dev/null; }

info() {
  cat <<EOF
phoenix $PHOENIX_VERSION running, pid $1
  UI, REST, GraphQL  $url   (REST: /v1/projects/{name}/spans, GraphQL: /graphql)
  OTLP/HTTP          $url/v1/traces   (OTEL_EXPORTER_OTLP_ENDPOINT=$url)
  OTLP/gRPC          127.0.0.1:$PHOENIX_GRPC_PORT
  data               $state_dir
  log                $log_file
EOF
}




launch() {
  PHOENIX_WORKING_DIR=$state_dir nohup "$bin" serve </dev/null >"$log_file" 2>&1 &
}

name=phoenix
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib/service.sh
source "$here/lib/service.sh"
start() { start_service; }

case ${1:-} in
  install | start | stop | status) "$1" ;;
  *) die "usage: $0 {install|start|stop|status}" ;;
esac
