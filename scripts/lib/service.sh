# Shared by scripts/jaeger.sh, prometheus.sh and phoenix.sh: run one local server in the background,
# tracked by its own PID file, and wait for it to answer. Source it after setting:
#   name         what the messages call it ("jaeger")
#   bin          the executable (also how a PID is recognised as ours)
#   state_dir    pid_file  log_file  start_timeout
# and defining:
#   healthy      exit 0 when the server answers
#   info PID     what to print once it runs
#   launch       start it in the background (stdin from /dev/null, output to $log_file); the
#                script records $! as its PID
# It defines running_pid, start_service, stop and status.

# The PID from our PID file, if that process is alive and is really ours (a stale file's PID may
# have been reused by something else).
running_pid() {
  [[ -f $pid_file ]] || return 1
  local pid
  pid=$(<"$pid_file")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ $(ps -o args= -p "$pid" 2>/dev/null) == *"$bin"* ]] || return 1
  echo "$pid"
}

# Starts the server unless ours already runs, and waits until it answers.
start_service() {
  local pid
  if pid=$(running_pid); then info "$pid"; return; fi
  command -v curl >/dev/null 2>&1 || die "curl is needed for the health check"
  install
  # Something else answering where ours will listen would fool the health check.
  if healthy; then die "something is already serving where $name listens (not started by this script)"; fi
  mkdir -p "$state_dir"
  launch
  pid=$!
  echo "$pid" >"$pid_file"
  local deadline=$((SECONDS + start_timeout))
  until healthy; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pid_file"
      tail -n 30 "$log_file" >&2
      die "$name exited during startup; log: $log_file"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$log_file" >&2
      stop >&2
      die "$name did not answer within ${start_timeout}s; log: $log_file"
    fi
    sleep 0.2
  done
  info "$pid"
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$pid_file"
    echo "$name not running"
    return
  fi
  kill -TERM "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  rm -f "$pid_file"
  echo "$name stopped (pid $pid)"
}

status() {
  local pid
  pid=$(running_pid) || { echo "$name not running"; return 1; }
  healthy || { echo "$name pid $pid is running but not answering; log: $log_file"; return 1; }
  info "$pid"
}
