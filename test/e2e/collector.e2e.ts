/**
 * The collector tier, for real: a Jaeger in collector mode (`deploy/collector.yaml`: LLM-aware tail
 * sampling, spanmetrics) in front of a Jaeger in storage mode (`deploy/storage.yaml`), both the binary
 * `scripts/jaeger.sh` builds, on ports of their own. 200 agent runs with a known mix of errors, slow
 * steps, many tokens, high cost, flags and ordinary runs go through it with the ordinary rate at 0%:
 * exactly the runs a policy keeps must reach storage, each whole, and no other; spanmetrics must have
 * counted every span, kept or not, in Prometheus.
 */
import { assert, describe, it } from "@effect/vitest"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import * as path from "node:path"
import { setTimeout as sleep } from "node:timers/promises"
import { afterAll, beforeAll } from "vitest"
import { root, run, showRun } from "./support/child.ts"
import { prometheusOtlpUrl, waitForQuery } from "./support/prometheus.ts"

const ports = {
  collectorHttp: 14318,
  collectorGrpc: 14317,
  collectorHealth: 13235,
  collectorTelemetry: 18888,
  storageGrpc: 14417,
  storageQuery: 16687,
  storageQueryGrpc: 16689,
  storageHealth: 13134
} as const
const storageUrl = `http://127.0.0.1:${ports.storageQuery}`
const decisionWaitMs = 2000

const expected = { error: 20, slow: 20, tokens: 20, expensive: 20, flagged: 20, ordinary: 100 } as const
type Category = keyof typeof expected
const kept: ReadonlyArray<Category> = ["error", "slow", "tokens", "expensive", "flagged"]
const spansPerRun = 4

const children: Array<ChildProcess> = []
const logs = new Map<string, string>()

/** Starts the Jaeger binary with `config` and `env`, waits until its health endpoint answers. */
const startJaeger = async (name: string, config: string, env: Record<string, string>, health: number) => {
  const bin = execFileSync(path.join(root, "scripts", "jaeger.sh"), ["bin"], { cwd: root, encoding: "utf8" }).trim()
  const child = spawn(bin, ["--config", path.join(root, config)], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  children.push(child)
  logs.set(name, "")
  const keep = (chunk: Buffer) => logs.set(name, (logs.get(name)! + chunk.toString("utf8")).slice(-20_000))
  child.stdout!.on("data", keep)
  child.stderr!.on("data", keep)
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited during start-up:\n${logs.get(name)}`)
    const healthy = await fetch(`http://127.0.0.1:${health}/status`).then((r) => r.ok, () => false)
    if (healthy) return
    if (Date.now() > deadline) throw new Error(`${name} not healthy within 30 s:\n${logs.get(name)}`)
    await sleep(100)
  }
}

/** The spans storage holds for a trace (0 when it has none). */
const spanCount = async (traceId: string): Promise<number> => {
  const response = await fetch(`${storageUrl}/api/v3/traces/${traceId}`)
  if (response.status === 404) return 0
  if (!response.ok) throw new Error(`storage answered ${response.status} for trace ${traceId}`)
  const body = (await response.json()) as {
    result: { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Array<unknown> }> }> }
  }
  return (body.result.resourceSpans ?? []).flatMap((r) => r.scopeSpans ?? []).flatMap((s) => s.spans ?? []).length
}

beforeAll(async () => {
  await startJaeger("storage", "deploy/storage.yaml", {
    STORAGE_OTLP_GRPC_PORT: String(ports.storageGrpc),
    STORAGE_QUERY_HTTP_PORT: String(ports.storageQuery),
    STORAGE_QUERY_GRPC_PORT: String(ports.storageQueryGrpc),
    STORAGE_HEALTH_PORT: String(ports.storageHealth)
  }, ports.storageHealth)
  await startJaeger("collector", "deploy/collector.yaml", {
    COLLECTOR_OTLP_HTTP_PORT: String(ports.collectorHttp),
    COLLECTOR_OTLP_GRPC_PORT: String(ports.collectorGrpc),
    COLLECTOR_HEALTH_PORT: String(ports.collectorHealth),
    COLLECTOR_TELEMETRY_PORT: String(ports.collectorTelemetry),
    STORAGE_OTLP_GRPC_ENDPOINT: `127.0.0.1:${ports.storageGrpc}`,
    PROMETHEUS_OTLP_URL: prometheusOtlpUrl,
    COLLECTOR_DECISION_WAIT: `${decisionWaitMs}ms`,
    COLLECTOR_SAMPLE_PERCENT: "0",
    COLLECTOR_SLOW_SPAN_MS: "300",
    COLLECTOR_TOKENS: "5000",
    COLLECTOR_COST: "0.05"
  }, ports.collectorHealth)
}, 60_000)

afterAll(async () => {
  for (const child of children) child.kill("SIGTERM")
  await sleep(200)
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL")
})

describe("the collector tier: LLM-aware tail sampling in front of storage", () => {
  it("200 runs: exactly the errors, slow, token-heavy, expensive and flagged ones are stored, whole", async () => {
    const environment = `e2e-mix-${randomUUID().slice(0, 8)}`
    const finished = await run("npx", ["tsx", "test/e2e/fixtures/sampling-mix.ts"], {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${ports.collectorHttp}`,
        OTEL_RESOURCE_ATTRIBUTES: `deployment.environment.name=${environment}`,
        MIX_SLOW_MS: "600"
      }
    })
    assert.strictEqual(finished.code, 0, showRun(finished))
    assert.notInclude(finished.stderr, "beluga-o11y:", "the collector accepted every export")
    const runs = finished.stdout.split("\n").flatMap((line) => {
      const match = /^run (\w+) ([0-9a-f]{32})$/.exec(line)
      return match === null ? [] : [{ category: match[1] as Category, traceId: match[2]! }]
    })
    for (const [category, count] of Object.entries(expected)) {
      assert.strictEqual(runs.filter((r) => r.category === category).length, count, `${category} runs`)
    }

    // The kept runs arrive once their decision is made (decision_wait after their first span).
    const keep = runs.filter((r) => kept.includes(r.category))
    const deadline = Date.now() + 30_000
    for (;;) {
      const counts = await Promise.all(keep.map((r) => spanCount(r.traceId)))
      if (counts.every((c) => c === spansPerRun)) break
      if (Date.now() > deadline) {
        const missing = keep.filter((_, i) => counts[i] !== spansPerRun).map((r, i) =>
          `${r.category} ${r.traceId}: ${counts[i]}`
        )
        assert.fail(
          `kept runs not (or not wholly) in storage after 30 s:\n${missing.slice(0, 10).join("\n")}\n${
            logs.get("collector")
          }`
        )
      }
      await sleep(250)
    }
    // Past every decision: still whole (no late half decided again), and no ordinary run at all.
    await sleep(decisionWaitMs + 1500)
    const after = await Promise.all(runs.map(async (r) => ({ ...r, spans: await spanCount(r.traceId) })))
    for (const r of after) {
      assert.strictEqual(r.spans, kept.includes(r.category) ? spansPerRun : 0, `${r.category} run ${r.traceId}`)
    }

    // Storage's own search agrees (it is fresh for this suite): exactly the kept traces of the service.
    const now = Date.now()
    const params = new URLSearchParams({
      "query.service_name": "beluga-sampling-mix",
      "query.start_time_min": new Date(now - 600_000).toISOString(),
      "query.start_time_max": new Date(now + 60_000).toISOString(),
      "query.num_traces": "1000"
    })
    const search = (await (await fetch(`${storageUrl}/api/v3/traces?${params}`)).json()) as {
      result: { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ traceId: string }> }> }> }
    }
    const found = new Set(
      search.result.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => x.traceId)))
    )
    assert.deepStrictEqual([...found].toSorted(), keep.map((r) => r.traceId).toSorted())

    // spanmetrics counted every span before sampling: 200 runs × 4 spans.
    const selector = `deployment_environment_name="${environment}"`
    const calls = await waitForQuery(
      `sum(traces_span_metrics_calls_total{${selector}})`,
      (s) => s[0]?.value === 200 * spansPerRun,
      40_000
    )
    assert.strictEqual(calls[0]!.value, 800)
    const errors = await waitForQuery(
      `sum(traces_span_metrics_calls_total{${selector}, status_code="STATUS_CODE_ERROR"})`,
      (s) => s.length > 0
    )
    assert.strictEqual(errors[0]!.value, expected.error)
  }, 120_000)
})
