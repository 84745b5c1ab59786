/**
 * The Prometheus the e2e suite sends metrics to: `scripts/prometheus.sh` (built once from the Go
 * module proxy and cached), on a port of its own so that a developer's Prometheus on 9090 is never
 * touched, with its data in a fresh directory, read back through its HTTP API (PromQL and
 * exemplar queries).
 */
import { runScript } from "./phoenix.ts"

export const prometheusPort = 19091
export const prometheusUrl = `http://127.0.0.1:${prometheusPort}`
/** Where a program sends its metrics: Prometheus's OTLP receiver. */
export const prometheusOtlpUrl = `${prometheusUrl}/api/v1/otlp/v1/metrics`

/** Runs `scripts/prometheus.sh <command>` with the suite's port and `stateDir`. */
export const prometheusSh = (command: string, stateDir: string) =>
  runScript("prometheus.sh", command, {
    ...process.env,
    PROMETHEUS_PORT: String(prometheusPort),
    PROMETHEUS_STATE_DIR: stateDir
  })

export interface Sample {
  readonly metric: Record<string, string>
  readonly value: number
}

const api = async <A>(path: string, params: Record<string, string>): Promise<A> => {
  const response = await fetch(`${prometheusUrl}${path}?${new URLSearchParams(params)}`)
  const body = (await response.json()) as { status: string; data: A; error?: string }
  if (body.status !== "success") throw new Error(`Prometheus ${path}: ${body.error ?? response.status}`)
  return body.data
}

/** An instant PromQL query, as samples. */
export const query = async (promql: string): Promise<Array<Sample>> => {
  const data = await api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(
    "/api/v1/query",
    { query: promql }
  )
  return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }))
}

/** Polls `promql` until `ready` accepts its samples (OTLP ingestion is asynchronous). */
export const waitForQuery = async (
  promql: string,
  ready: (samples: ReadonlyArray<Sample>) => boolean,
  timeoutMs = 15_000
): Promise<Array<Sample>> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const samples = await query(promql)
    if (ready(samples)) return samples
    if (Date.now() >= deadline) {
      throw new Error(`Prometheus: \`${promql}\` gave ${JSON.stringify(samples)} after ${timeoutMs} ms`)
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

export interface ExemplarSeries {
  readonly seriesLabels: Record<string, string>
  readonly exemplars: ReadonlyArray<
    { readonly labels: Record<string, string>; readonly value: string; readonly timestamp: number }
  >
}

/** The exemplars of the series `promql` selects, over the last hour. */
export const exemplars = (promql: string): Promise<Array<ExemplarSeries>> => {
  const now = Date.now() / 1000
  return api<Array<ExemplarSeries>>("/api/v1/query_exemplars", {
    query: promql,
    start: String(now - 3600),
    end: String(now + 60)
  })
}
