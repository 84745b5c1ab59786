/**
 * Starts the real Jaeger, Phoenix, Prometheus and VictoriaLogs the e2e suite exports to, and stops
 * them afterwards. Prometheus and VictoriaLogs (`scripts/prometheus.sh`, `scripts/victorialogs.sh`,
 * built with Go like Jaeger and cached) run on ports of their own (`support/prometheus.ts`,
 * `support/victorialogs.ts`) with their data in fresh directories.
 *
 * Jaeger comes from `scripts/jaeger.sh` (built once with the Go toolchain from the Go module proxy
 * and cached). It must listen on the default ports: the examples export to the default endpoint
 * `http://localhost:4318`, exactly as a user runs them. So if anything already listens on one of
 * those ports, the suite stops with a message saying which port, instead of testing against
 * something it did not start.
 *
 * The instance gets its own state directory (PID file and log), so it never touches a Jaeger a
 * developer started with `scripts/jaeger.sh start`, and it is stopped by its own PID.
 *
 * Without Jaeger there is no end-to-end test: a missing Go toolchain (when the binary is not cached)
 * fails the suite with a plain message, on CI and everywhere else. It never turns into skipped tests.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { setTimeout as sleep } from "node:timers/promises"
import { ports } from "./support/jaeger.ts"
import { phoenixSh, runScript } from "./support/phoenix.ts"
import { prometheusSh } from "./support/prometheus.ts"
import { victoriaLogsSh } from "./support/victorialogs.ts"

const portNames: ReadonlyArray<readonly [string, number]> = [
  ["OTLP/HTTP", ports.otlpHttp],
  ["OTLP/gRPC", ports.otlpGrpc],
  ["query HTTP", ports.queryHttp],
  ["query gRPC", ports.queryGrpc],
  ["health", ports.health],
  ["metrics for scraping", ports.metrics]
]

/** Runs `scripts/jaeger.sh <command>`, echoing its output (a first build prints progress). */
const jaegerSh = (command: string, env: NodeJS.ProcessEnv) => runScript("jaeger.sh", command, env)

/** Whether `port` on `host` is taken: binding it fails, or something accepts connections there. */
const canListen = (port: number, host: string) =>
  new Promise<boolean>((resolve) => {
    const server = net.createServer()
    server.once("error", () => resolve(false))
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)))
  })
const answers = (port: number, host: string) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect({ port, host, timeout: 1000 })
    const done = (result: boolean) => {
      socket.destroy()
      resolve(result)
    }
    socket.once("connect", () => done(true))
    socket.once("error", () => done(false))
    socket.once("timeout", () => done(false))
  })

const checkPortsFree = async () => {
  const taken: Array<string> = []
  for (const [name, port] of portNames) {
    // `localhost` may resolve to ::1 first: a collector there would get the examples' spans.
    if (!(await canListen(port, "127.0.0.1")) || await answers(port, "::1")) taken.push(`${port} (${name})`)
  }
  if (taken.length > 0) {
    throw new Error(
      `e2e: ${taken.length === 1 ? "port" : "ports"} ${
        taken.join(", ")
      } on localhost already in use. The examples export to the default ` +
        "endpoint http://localhost:4318, so the e2e suite runs its own Jaeger on the default ports " +
        `${portNames.map(([, port]) => port).join("/")}. Stop what listens there first ` +
        "(a Jaeger from `scripts/jaeger.sh start`: `scripts/jaeger.sh stop`; to find it: `ss -ltnp`)."
    )
  }
}

const hasGo = () => spawnSync("go", ["version"], { stdio: "ignore" }).error === undefined

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** SIGTERM, then SIGKILL if Jaeger has not exited within 10 s. */
const stop = async (pid: number) => {
  if (!alive(pid)) return
  process.kill(pid, "SIGTERM")
  const deadline = Date.now() + 10_000
  while (alive(pid) && Date.now() < deadline) await sleep(50)
  if (alive(pid)) process.kill(pid, "SIGKILL")
}

/** Builds (if needed) and starts Jaeger with its state in `stateDir`; returns its PID. */
const startJaeger = async (stateDir: string): Promise<number> => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JAEGER_STATE_DIR: stateDir,
    JAEGER_OTLP_HTTP_PORT: String(ports.otlpHttp),
    JAEGER_OTLP_GRPC_PORT: String(ports.otlpGrpc),
    JAEGER_QUERY_HTTP_PORT: String(ports.queryHttp),
    JAEGER_QUERY_GRPC_PORT: String(ports.queryGrpc),
    JAEGER_HEALTH_PORT: String(ports.health),
    JAEGER_METRICS_PORT: String(ports.metrics)
  }

  // 1. The binary: cached, or built now (minutes, needs Go).
  const install = await jaegerSh("install", env)
  if (install.code !== 0) {
    throw new Error(
      hasGo()
        ? `e2e: could not build Jaeger with \`scripts/jaeger.sh install\`:\n${install.output}`
        : "e2e: the end-to-end tests need Jaeger, and building Jaeger needs the Go toolchain, which is not " +
          "installed (`go` is not on PATH). Install Go >= 1.24 (https://go.dev/dl/) and run the suite again; " +
          `the binary is built once and cached.${
            process.env.CI !== undefined ? " (CI is set: this is a failure.)" : ""
          }`
    )
  }

  // 2. The default ports, all ours.
  await checkPortsFree()

  // 3. Start and wait until healthy (the script waits).
  const start = await jaegerSh("start", env)
  const pidFile = path.join(stateDir, "jaeger.pid")
  const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, "utf8").trim()) : Number.NaN
  if (start.code !== 0 || !Number.isInteger(pid)) {
    if (Number.isInteger(pid)) await stop(pid)
    throw new Error(`e2e: \`scripts/jaeger.sh start\` failed:\n${start.output}`)
  }
  return pid
}

/** Installs (if needed) and starts Phoenix with its data in `stateDir`. */
const startPhoenix = async (stateDir: string): Promise<void> => {
  const start = await phoenixSh("start", stateDir)
  if (start.code !== 0) {
    throw new Error(
      `e2e: \`scripts/phoenix.sh start\` failed (Phoenix comes from PyPI and needs python3 with venv):\n${start.output}`
    )
  }
}

/** Builds (if needed) and starts Prometheus with its data in `stateDir`. */
const startPrometheus = async (stateDir: string): Promise<void> => {
  const start = await prometheusSh("start", stateDir)
  if (start.code !== 0) {
    throw new Error(
      `e2e: \`scripts/prometheus.sh start\` failed (Prometheus is built with the Go toolchain):\n${start.output}`
    )
  }
}

/** Builds (if needed) and starts VictoriaLogs with its data in `stateDir`. */
const startVictoriaLogs = async (stateDir: string): Promise<void> => {
  const start = await victoriaLogsSh("start", stateDir)
  if (start.code !== 0) {
    throw new Error(
      `e2e: \`scripts/victorialogs.sh start\` failed (VictoriaLogs is built with the Go toolchain):\n${start.output}`
    )
  }
}

export default async function setup(): Promise<() => Promise<void>> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "beluga-e2e-jaeger-"))
  const phoenixDir = fs.mkdtempSync(path.join(os.tmpdir(), "beluga-e2e-phoenix-"))
  const prometheusDir = fs.mkdtempSync(path.join(os.tmpdir(), "beluga-e2e-prometheus-"))
  const victoriaLogsDir = fs.mkdtempSync(path.join(os.tmpdir(), "beluga-e2e-victorialogs-"))
  const started = performance.now()
  // All at once: a first run builds Jaeger, Prometheus and VictoriaLogs with Go and installs Phoenix with pip.
  const results = await Promise.allSettled([
    startJaeger(stateDir),
    startPhoenix(phoenixDir),
    startPrometheus(prometheusDir),
    startVictoriaLogs(victoriaLogsDir)
  ])
  const [jaeger] = results
  const removeDirs = () => {
    for (const dir of [stateDir, phoenixDir, prometheusDir, victoriaLogsDir]) {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
  if (results.some((r) => r.status === "rejected")) {
    if (jaeger.status === "fulfilled") await stop(jaeger.value)
    await phoenixSh("stop", phoenixDir)
    await prometheusSh("stop", prometheusDir)
    await victoriaLogsSh("stop", victoriaLogsDir)
    removeDirs()
    throw results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []))[0]
  }
  const pid = (jaeger as PromiseFulfilledResult<number>).value
  process.stderr.write(
    `e2e: Jaeger pid ${pid}, Phoenix, Prometheus and VictoriaLogs ready after ${
      Math.round(performance.now() - started)
    } ms\n`
  )

  // If vitest dies without running the teardown, do not leave Jaeger holding the ports.
  const onExit = () => {
    if (alive(pid)) process.kill(pid, "SIGKILL")
    const phoenixPid = Number(
      fs.readFileSync(path.join(phoenixDir, "phoenix.pid"), { encoding: "utf8", flag: "a+" }).trim()
    )
    if (Number.isInteger(phoenixPid) && phoenixPid > 0 && alive(phoenixPid)) process.kill(phoenixPid, "SIGKILL")
    const prometheusPid = Number(
      fs.readFileSync(path.join(prometheusDir, "prometheus.pid"), { encoding: "utf8", flag: "a+" }).trim()
    )
    if (Number.isInteger(prometheusPid) && prometheusPid > 0 && alive(prometheusPid)) {
      process.kill(prometheusPid, "SIGKILL")
    }
    const victoriaLogsPid = Number(
      fs.readFileSync(path.join(victoriaLogsDir, "victorialogs.pid"), { encoding: "utf8", flag: "a+" }).trim()
    )
    if (Number.isInteger(victoriaLogsPid) && victoriaLogsPid > 0 && alive(victoriaLogsPid)) {
      process.kill(victoriaLogsPid, "SIGKILL")
    }
  }
  process.once("exit", onExit)

  return async () => {
    process.off("exit", onExit)
    await stop(pid)
    await phoenixSh("stop", phoenixDir)
    await prometheusSh("stop", prometheusDir)
    await victoriaLogsSh("stop", victoriaLogsDir)
    removeDirs()
    process.stderr.write(`e2e: Jaeger pid ${pid} stopped\n`)
  }
}
