/**
 * A load run through the collector tier, on loopback, bounded in spans and time: `--apps` app
 * processes (default 4) each burst `--spans` GenAI spans (default 50,000, in traces of 100) into a
 * Jaeger in collector mode (`deploy/collector.yaml`: tail sampling at `--percent`% plus the LLM
 * policies, spanmetrics) in front of a Jaeger in storage mode (`deploy/storage.yaml`), with a
 * Prometheus taking the metrics. It reports delivered spans/s, what each hop accepted, refused and
 * dropped (the apps' own counts, then the collectors' telemetry), and the collector's CPU time and
 * peak memory (from /proc).
 *
 *   node --experimental-transform-types bench/collector.ts [--apps=4] [--spans=50000] [--percent=10]
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { setTimeout as sleep } from "node:timers/promises"
import { resultOf, runFixture } from "../test/support/processes.ts"
import { args, count, table } from "./stats.ts"

const argv = args()
const apps = argv.number("apps", 4)
const spansPerApp = argv.number("spans", 50_000)
const percent = argv.number("percent", 10)
const root = path.resolve(import.meta.dirname, "..")
const ports = {
  collectorHttp: 24318,
  collectorGrpc: 24317,
  collectorHealth: 23235,
  collectorTelemetry: 28888,
  storageGrpc: 24417,
  storageQuery: 26687,
  storageQueryGrpc: 26689,
  storageHealth: 23134,
  storageTelemetry: 28889,
  prometheus: 29090
} as const
const decisionWait = 5000

const children: Array<ChildProcess> = []
const state = fs.mkdtempSync(path.join(os.tmpdir(), "beluga-collector-load-"))

const script = (name: string, command: string, env: Record<string, string> = {}) =>
  execFileSync(path.join(root, "scripts", name), [command], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"]
  }).trim()

const startJaeger = async (config: string, env: Record<string, string>, health: number): Promise<ChildProcess> => {
  const child = spawn(script("jaeger.sh", "bin"), ["--config", path.join(root, config)], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", fs.openSync(path.join(state, `${path.basename(config)}.log`), "w")]
  })
  children.push(child)
  for (let i = 0; i < 300; i++) {
    if (await fetch(`http://127.0.0.1:${health}/status`).then((r) => r.ok, () => false)) return child
    await sleep(100)
  }
  throw new Error(`${config} not healthy; log in ${state}`)
}

/** CPU seconds (user + system) and peak RSS of a process, from /proc. */
const usage = (pid: number) => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  const ticks = Number(stat[11]) + Number(stat[12])
  const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))
  return { cpuSeconds: ticks / 100, peakRssBytes: Number(hwm?.[1] ?? 0) * 1024 }
}

/** Sums of the collector's own counters (Prometheus text format), by metric name and label filter. */
const telemetry = async (port: number) => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  return (name: string, labels: Record<string, string> = {}) => {
    let sum = 0
    for (const line of text.split("\n")) {
      if (!line.startsWith(name)) continue
      const match = /^(\w+)(\{[^}]*\})?\s+(\S+)/.exec(line)
      if (match === null || match[1] !== name) continue
      const set = match[2] ?? ""
      if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(match[3])
    }
    return sum
  }
}

const main = async () => {
  console.log(`collector load: ${apps} apps × ${count(spansPerApp)} spans, ${percent}% of ordinary traces kept`)
  script("prometheus.sh", "start", { PROMETHEUS_PORT: String(ports.prometheus), PROMETHEUS_STATE_DIR: state })
  const storage = await startJaeger("deploy/storage.yaml", {
    STORAGE_OTLP_GRPC_PORT: String(ports.storageGrpc),
    STORAGE_QUERY_HTTP_PORT: String(ports.storageQuery),
    STORAGE_QUERY_GRPC_PORT: String(ports.storageQueryGrpc),
    STORAGE_HEALTH_PORT: String(ports.storageHealth),
    STORAGE_TELEMETRY_LEVEL: "detailed",
    STORAGE_TELEMETRY_PORT: String(ports.storageTelemetry),
    STORAGE_MAX_TRACES: "1000000"
  }, ports.storageHealth)
  const collector = await startJaeger("deploy/collector.yaml", {
    COLLECTOR_OTLP_HTTP_PORT: String(ports.collectorHttp),
    COLLECTOR_OTLP_GRPC_PORT: String(ports.collectorGrpc),
    COLLECTOR_HEALTH_PORT: String(ports.collectorHealth),
    COLLECTOR_TELEMETRY_PORT: String(ports.collectorTelemetry),
    STORAGE_OTLP_GRPC_ENDPOINT: `127.0.0.1:${ports.storageGrpc}`,
    PROMETHEUS_OTLP_URL: `http://127.0.0.1:${ports.prometheus}/api/v1/otlp/v1/metrics`,
    COLLECTOR_DECISION_WAIT: `${decisionWait}ms`,
    COLLECTOR_SAMPLE_PERCENT: String(percent)
  }, ports.collectorHealth)
  const before = usage(collector.pid!)
  const started = performance.now()
  const runs = await Promise.all(Array.from({ length: apps }, () =>
    runFixture("workload", {
      env: {
        FIXTURE_WORKLOAD: "burst",
        FIXTURE_SPANS: String(spansPerApp),
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${ports.collectorHttp}`
      },
      timeoutMs: 300_000
    })))
  const appsDone = performance.now() - started
  const results = runs.map((run) => resultOf(run))
  // Every decision is made decision_wait after a trace's first span; then the exporter's batch.
  await sleep(decisionWait + 3000)
  const after = usage(collector.pid!)
  const c = await telemetry(ports.collectorTelemetry)
  const s = await telemetry(ports.storageTelemetry)
  // Each app's rate over its own pipeline and final flush (its clock), summed: they ran side by side.
  const rate = results.reduce(
    (n, r) => n + r.stats.exportedSpans / ((r.times.released - r.times.pipelineStart) / 1000),
    0
  )
  const created = results.reduce((n, r) => n + r.created, 0)
  const exported = results.reduce((n, r) => n + r.stats.exportedSpans, 0)
  const appDropped = results.reduce((n, r) => n + r.stats.droppedSpans + r.stats.failedSpans + r.stats.rejectedSpans, 0)
  const sampledTraces = c("otelcol_processor_tail_sampling_global_count_traces_sampled_total", { sampled: "true" })
  const notSampledTraces = c("otelcol_processor_tail_sampling_global_count_traces_sampled_total", { sampled: "false" })
  console.log(table(["hop", "accepted", "refused / dropped", "notes"], [
    [
      `${apps} apps → collector (OTLP/HTTP protobuf)`,
      `${count(exported)} spans`,
      `${count(appDropped)}`,
      `${count(created)} made; ${count(Math.round(rate))} spans/s delivered (the apps' rates summed); ` +
      `${(appsDone / 1000).toFixed(1)} s for all, process start included`
    ],
    [
      "collector receiver",
      `${count(c("otelcol_receiver_accepted_spans_total"))} spans`,
      `${count(c("otelcol_receiver_refused_spans_total"))} refused`,
      "memory_limiter refuses before the collector runs out of memory"
    ],
    [
      "tail sampling",
      `${count(sampledTraces)} traces kept`,
      `${count(notSampledTraces)} traces dropped by policy`,
      `late spans for decided traces: ${count(c("otelcol_processor_tail_sampling_sampling_late_span_age_count"))}`
    ],
    [
      "collector → storage (OTLP/gRPC)",
      `${count(c("otelcol_exporter_sent_spans_total", { exporter: "otlp/storage" }))} spans sent`,
      `${count(c("otelcol_exporter_send_failed_spans_total", { exporter: "otlp/storage" }))} failed`,
      `queue at the end: ${count(c("otelcol_exporter_queue_size", { exporter: "otlp/storage" }))}`
    ],
    [
      "storage receiver",
      `${count(s("otelcol_receiver_accepted_spans_total"))} spans`,
      `${count(s("otelcol_receiver_refused_spans_total"))} refused`,
      "in-memory storage"
    ]
  ]))
  console.log(
    `collector process: ${(after.cpuSeconds - before.cpuSeconds).toFixed(1)} CPU seconds for the run, ` +
      `peak RSS ${Math.round(after.peakRssBytes / 1e6)} MB; storage peak RSS ${
        Math.round(usage(storage.pid!).peakRssBytes / 1e6)
      } MB; ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`
  )
}

try {
  await main()
} finally {
  for (const child of children) child.kill("SIGTERM")
  script("prometheus.sh", "stop", { PROMETHEUS_PORT: String(ports.prometheus), PROMETHEUS_STATE_DIR: state })
  await sleep(300)
  fs.rmSync(state, { recursive: true, force: true })
}
