/**
 * The Jaeger the e2e suite runs (see `globalSetup.ts`) and a small client for its query API.
 *
 * Everything is read from the v3 API, which returns OTLP JSON exactly as it was received: kinds and
 * status codes as numbers, `intValue` as a string, `doubleValue` as a number, arrays as
 * `arrayValue`. Assertions compare those raw values, so an integer that arrived as a double (or a
 * number that arrived as a string) fails the test.
 *
 * Stored spans may take a moment to become queryable, so every lookup polls with a deadline; a
 * timeout reports what Jaeger returned last.
 */
import { setTimeout as sleep } from "node:timers/promises"

/** The examples export to the default endpoint, so Jaeger listens on the default ports. */
export const ports = {
  otlpHttp: 4318,
  otlpGrpc: 4317,
  queryHttp: 16686,
  queryGrpc: 16685,
  health: 13133,
  metrics: 8889
} as const

export const otlpHttpUrl = `http://127.0.0.1:${ports.otlpHttp}`
export const queryUrl = `http://127.0.0.1:${ports.queryHttp}`

// -----------------------------------------------------------------------------
// OTLP JSON as Jaeger returns it
// -----------------------------------------------------------------------------

/** An OTLP/JSON `AnyValue`. */
export type AnyValue =
  | { readonly stringValue: string }
  | { readonly boolValue: boolean }
  | { readonly intValue: string }
  | { readonly doubleValue: number }
  | { readonly arrayValue: { readonly values?: ReadonlyArray<AnyValue> } }
  | { readonly kvlistValue: { readonly values?: ReadonlyArray<KeyValue> } }
  | { readonly bytesValue: string }

export interface KeyValue {
  readonly key: string
  readonly value: AnyValue
}

interface OtlpEvent {
  readonly name: string
  readonly timeUnixNano: string
  readonly attributes?: ReadonlyArray<KeyValue>
}

interface OtlpSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly kind: number
  readonly startTimeUnixNano: string
  readonly endTimeUnixNano: string
  readonly attributes?: ReadonlyArray<KeyValue>
  readonly events?: ReadonlyArray<OtlpEvent>
  readonly status?: { readonly code?: number; readonly message?: string }
}

interface TracesData {
  readonly resourceSpans?: ReadonlyArray<{
    readonly resource?: { readonly attributes?: ReadonlyArray<KeyValue> }
    readonly scopeSpans?: ReadonlyArray<{ readonly spans?: ReadonlyArray<OtlpSpan> }>
  }>
}

/** `Span.kind` in OTLP. */
export const Kind = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const
/** `Status.code` in OTLP; Jaeger leaves `code` out when it is unset. */
export const StatusCode = { unset: 0, ok: 1, error: 2 } as const

export type Attributes = Readonly<Record<string, AnyValue>>

export interface SpanEvent {
  readonly name: string
  readonly attributes: Attributes
}

/** One stored span, flattened: its resource's attributes travel with it. */
export interface Span {
  readonly traceId: string
  readonly spanId: string
  /** `undefined` for a root span. */
  readonly parentSpanId: string | undefined
  readonly name: string
  readonly kind: number
  readonly start: bigint
  readonly end: bigint
  readonly statusCode: number
  readonly statusMessage: string | undefined
  readonly attributes: Attributes
  readonly events: ReadonlyArray<SpanEvent>
  readonly resource: Attributes
}

const toRecord = (list: ReadonlyArray<KeyValue> | undefined): Attributes =>
  Object.fromEntries((list ?? []).map((kv) => [kv.key, kv.value]))

const flatten = (data: TracesData): Array<Span> =>
  (data.resourceSpans ?? []).flatMap((rs) => {
    const resource = toRecord(rs.resource?.attributes)
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s): Span => ({
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId === undefined || s.parentSpanId === "" ? undefined : s.parentSpanId,
        name: s.name,
        kind: s.kind,
        start: BigInt(s.startTimeUnixNano),
        end: BigInt(s.endTimeUnixNano),
        statusCode: s.status?.code ?? StatusCode.unset,
        statusMessage: s.status?.message,
        attributes: toRecord(s.attributes),
        events: (s.events ?? []).map((e) => ({ name: e.name, attributes: toRecord(e.attributes) })),
        resource
      }))
    )
  })

// -----------------------------------------------------------------------------
// Queries
// -----------------------------------------------------------------------------

interface Answer {
  readonly status: number
  readonly body: string
}

const get = async (path: string): Promise<Answer> => {
  const response = await fetch(`${queryUrl}${path}`, { signal: AbortSignal.timeout(10_000) })
  return { status: response.status, body: await response.text() }
}

const truncate = (text: string, max = 4000) =>
  text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`

const parseTraces = (path: string, answer: Answer): Array<Span> => {
  // Jaeger answers 404 "No traces found" for an unknown trace id or an empty search.
  if (answer.status === 404) return []
  if (answer.status !== 200) {
    throw new Error(`Jaeger answered ${answer.status} to GET ${path}: ${truncate(answer.body)}`)
  }
  return flatten((JSON.parse(answer.body) as { result: TracesData }).result)
}

/** Every stored span of one trace (none if Jaeger does not know it). */
export const getTrace = async (traceId: string): Promise<Array<Span>> => {
  const path = `/api/v3/traces/${traceId}`
  return parseTraces(path, await get(path))
}

/**
 * Polls a trace until `ready` accepts its spans, and returns them. On timeout the error shows the
 * spans Jaeger had (or that it had none).
 */
export const waitForTrace = async (
  traceId: string,
  ready: (spans: ReadonlyArray<Span>) => boolean,
  { timeoutMs = 15_000, what = "the trace" }: { readonly timeoutMs?: number; readonly what?: string } = {}
): Promise<Array<Span>> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const spans = await getTrace(traceId)
    if (ready(spans)) return spans
    if (Date.now() >= deadline) {
      throw new Error(
        `Jaeger did not have ${what} (trace ${traceId}) within ${timeoutMs} ms. ` +
          (spans.length === 0 ? "It knows no such trace." : `What it had (${spans.length} spans):\n${render(spans)}`)
      )
    }
    await sleep(100)
  }
}

/** Waits until the trace has at least `count` spans. */
export const waitForSpans = (traceId: string, count: number, options?: { readonly timeoutMs?: number }) =>
  waitForTrace(traceId, (spans) => spans.length >= count, { ...options, what: `${count} spans` })

/**
 * The ids of every trace of `service` that started in the last hour. The v3 search needs all four
 * parameters and returns the matching traces merged into one answer, so ids are collected from
 * the spans.
 */
export const traceIdsOf = async (service: string): Promise<Set<string>> => {
  const now = Date.now()
  const params = new URLSearchParams({
    "query.service_name": service,
    "query.start_time_min": new Date(now - 3_600_000).toISOString(),
    "query.start_time_max": new Date(now + 60_000).toISOString(),
    "query.num_traces": "1000"
  })
  const path = `/api/v3/traces?${params}`
  return new Set(parseTraces(path, await get(path)).map((span) => span.traceId))
}

/** The services Jaeger has stored spans for. */
export const services = async (): Promise<Array<string>> => {
  const answer = await get("/api/v3/services")
  if (answer.status !== 200) {
    throw new Error(`Jaeger answered ${answer.status} to GET /api/v3/services: ${truncate(answer.body)}`)
  }
  return (JSON.parse(answer.body) as { services?: Array<string> }).services ?? []
}

// -----------------------------------------------------------------------------
// Reading a trace
// -----------------------------------------------------------------------------

const kindNames: Record<number, string> = {
  0: "UNSPECIFIED",
  1: "INTERNAL",
  2: "SERVER",
  3: "CLIENT",
  4: "PRODUCER",
  5: "CONSUMER"
}
export const kindName = (kind: number): string => kindNames[kind] ?? `kind ${kind}`

const byStart = (a: Span, b: Span) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0)
const byNameThenStart = (a: Span, b: Span) => a.name.localeCompare(b.name) || byStart(a, b)

/** The spans whose parent is `parent` (the roots for `undefined`), in start order. */
export const childrenOf = (spans: ReadonlyArray<Span>, parent: Span | undefined): Array<Span> =>
  spans.filter((s) => s.parentSpanId === parent?.spanId).toSorted(byStart)

/**
 * The trace's shape as an indented outline of `name (KIND)` lines; siblings are sorted by name,
 * then start time, so the outline of a trace does not depend on which parallel span started first.
 * Spans whose parent is not in the trace are listed under `(orphans)`.
 */
export const outline = (spans: ReadonlyArray<Span>): string => {
  const lines: Array<string> = []
  const walk = (parent: Span | undefined, depth: number) => {
    for (const span of spans.filter((s) => s.parentSpanId === parent?.spanId).toSorted(byNameThenStart)) {
      lines.push(`${"  ".repeat(depth)}${span.name} (${kindName(span.kind)})`)
      walk(span, depth + 1)
    }
  }
  walk(undefined, 0)
  const ids = new Set(spans.map((s) => s.spanId))
  const orphans = spans.filter((s) => s.parentSpanId !== undefined && !ids.has(s.parentSpanId))
  if (orphans.length > 0) {
    lines.push("(orphans)")
    for (const span of orphans.toSorted(byNameThenStart)) {
      lines.push(`  ${span.name} (${kindName(span.kind)}) parent=${span.parentSpanId}`)
    }
  }
  return lines.join("\n")
}

const show = (value: AnyValue): string => JSON.stringify(value)

/**
 * A trace in full, for failure messages: every span with its kind, status, attributes and events
 * (cut after `maxLines` lines).
 */
export const render = (spans: ReadonlyArray<Span>, maxLines = 200): string => {
  const ids = new Set(spans.map((s) => s.spanId))
  const lines: Array<string> = []
  const walk = (depth: number, list: ReadonlyArray<Span>) => {
    for (const span of list) {
      const pad = "  ".repeat(depth)
      const status = span.statusCode === StatusCode.unset
        ? ""
        : ` status=${span.statusCode}${span.statusMessage !== undefined ? ` "${span.statusMessage}"` : ""}`
      lines.push(`${pad}${span.name} [${kindName(span.kind)}] span=${span.spanId}${status}`)
      for (const [key, value] of Object.entries(span.attributes)) lines.push(`${pad}    ${key}=${show(value)}`)
      for (const event of span.events) {
        const attrs = Object.entries(event.attributes)
          .filter(([key]) => key !== "exception.stacktrace")
          .map(([key, value]) => `${key}=${show(value)}`)
        lines.push(`${pad}    ⚑ ${event.name} ${attrs.join(" ")}`)
      }
      walk(depth + 1, childrenOf(spans, span))
    }
  }
  walk(0, childrenOf(spans, undefined))
  const orphans = spans.filter((s) => s.parentSpanId !== undefined && !ids.has(s.parentSpanId))
  if (orphans.length > 0) {
    lines.push("(spans whose parent is not in the trace)")
    walk(1, orphans.toSorted(byStart))
  }
  const resource = spans[0]?.resource ?? {}
  lines.push(`resource: ${Object.entries(resource).map(([key, value]) => `${key}=${show(value)}`).join(" ")}`)
  if (lines.length <= maxLines) return lines.join("\n")
  // A burst of thousands of spans: a count per name says more than the first screenful.
  const counts = new Map<string, number>()
  for (const span of spans) counts.set(span.name, (counts.get(span.name) ?? 0) + 1)
  return [
    ...[...counts].map(([name, count]) => `${count} × ${name}`),
    ...lines.slice(0, maxLines),
    `… ${lines.length - maxLines} more lines`
  ].join("\n")
}

/**
 * Runs assertions about a trace; if one fails, its message gets the whole trace as Jaeger returned
 * it, so a failure shows what arrived and not only what was expected.
 */
export const explainTrace = <A>(spans: ReadonlyArray<Span>, assertions: () => A): A => {
  try {
    return assertions()
  } catch (error) {
    if (error instanceof Error) {
      error.message += `\n\nThe trace as Jaeger returned it (${spans.length} spans):\n${render(spans)}`
    }
    throw error
  }
}

/** Whether two spans were running at the same time. */
export const overlap = (a: Span, b: Span): boolean => a.start < b.end && b.start < a.end

// -----------------------------------------------------------------------------
// The v1 API's view of a trace: one process entry per resource
// -----------------------------------------------------------------------------

/** A process of a trace as Jaeger's v1 API (the UI's) lists it, with the names of its spans. */
export interface TraceProcess {
  readonly processId: string
  readonly serviceName: string
  readonly spanNames: ReadonlyArray<string>
}

/**
 * The processes of one trace from `GET /api/traces/{id}` (the API the Jaeger UI reads): the
 * `processes` table and which spans each holds. A trace that crosses processes has one entry per
 * process that sent spans (per distinct resource).
 */
export const traceProcesses = async (traceId: string): Promise<Array<TraceProcess>> => {
  const path = `/api/traces/${traceId}`
  const answer = await get(path)
  if (answer.status !== 200) {
    throw new Error(`Jaeger answered ${answer.status} to GET ${path}: ${truncate(answer.body)}`)
  }
  const { data } = JSON.parse(answer.body) as {
    readonly data: ReadonlyArray<{
      readonly processes: Readonly<Record<string, { readonly serviceName: string }>>
      readonly spans: ReadonlyArray<{ readonly operationName: string; readonly processID: string }>
    }>
  }
  const trace = data[0]
  if (trace === undefined) return []
  return Object.entries(trace.processes).map(([processId, process]) => ({
    processId,
    serviceName: process.serviceName,
    spanNames: trace.spans.filter((span) => span.processID === processId).map((span) => span.operationName)
  }))
}
