/**
 * The terminal view: prints each finished trace as an indented tree, with durations, status and
 * the key `gen_ai.*` attributes. It is what a newcomer sees with no collector running.
 *
 * Spans arrive one at a time as they end, children before parents. They are held per trace until
 * the trace's local root ends (a span with no parent, or whose parent is in another process), and
 * the whole tree is printed then.
 *
 * A trace that crosses processes (an MCP server called over stdio or HTTP, a service behind an
 * HTTP call) is printed by each process in its piece, under the same trace id. A piece whose root
 * has its parent in another process is printed as a subtree under a line naming that parent
 * (`⇠ continues span <id> of another process`); an MCP call whose context went to a server not in
 * this process says which span it sent (`⇢ span <id>`), so the two pieces can be matched by eye.
 */
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import { type ExportResult, ExportResultCode, hrTimeToMilliseconds } from "@opentelemetry/core"
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base"
import { quantile, type SeriesSummary } from "./metrics.ts"
import * as N from "./semconv.ts"

export interface TerminalOptions {
  /** Where lines go; defaults to standard output. */
  readonly write?: ((text: string) => void) | undefined
  /** Use ANSI colours; defaults to whether standard output is a TTY. */
  readonly colors?: boolean | undefined
}

export class TerminalExporter implements SpanExporter {
  private readonly pending = new Map<string, Array<ReadableSpan>>()
  private readonly write: (text: string) => void
  private readonly colors: boolean

  constructor(options: TerminalOptions = {}) {
    this.write = options.write ?? ((text) => process.stdout.write(text))
    this.colors = options.colors ?? (process.stdout.isTTY === true)
  }

  export(spans: Array<ReadableSpan>, resultCallback: (result: ExportResult) => void): void {
    for (const span of spans) {
      const traceId = span.spanContext().traceId
      let trace = this.pending.get(traceId)
      if (trace === undefined) {
        trace = []
        this.pending.set(traceId, trace)
      }
      trace.push(span)
      if (isLocalRoot(span)) {
        this.pending.delete(traceId)
        this.write(renderTrace(trace, this.colors))
      }
    }
    resultCallback({ code: ExportResultCode.SUCCESS })
  }

  /** Prints traces whose root never ended (the program was cut short), so nothing is hidden. */
  forceFlush(): Promise<void> {
    for (const trace of this.pending.values()) this.write(renderTrace(trace, this.colors))
    this.pending.clear()
    return Promise.resolve()
  }

  shutdown(): Promise<void> {
    return this.forceFlush()
  }
}

const isLocalRoot = (span: ReadableSpan): boolean =>
  span.parentSpanContext === undefined || span.parentSpanContext.isRemote === true

/**
 * Renders one trace; spans whose parent is not in the set are printed as roots, those whose parent
 * is in another process as a subtree under a line naming that parent.
 */
export const renderTrace = (spans: ReadonlyArray<ReadableSpan>, colors = false): string => {
  const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]))
  const children = new Map<string | undefined, Array<ReadableSpan>>()
  for (const span of spans) {
    const parentId = span.parentSpanContext?.spanId
    const key = parentId !== undefined && byId.has(parentId) ? parentId : undefined
    const list = children.get(key) ?? []
    list.push(span)
    children.set(key, list)
  }
  for (const list of children.values()) list.sort((a, b) => compareHrTime(a.startTime, b.startTime))

  const paint = (code: string, text: string) => colors ? `\x1b[${code}m${text}\x1b[0m` : text
  const lines: Array<string> = []
  const first = spans[0]
  if (first !== undefined) {
    const service = first.resource.attributes[N.ATTR_SERVICE_NAME]
    lines.push(paint("2", `trace ${first.spanContext().traceId}${service !== undefined ? ` · ${service}` : ""}`))
  }
  const visit = (span: ReadableSpan, prefix: string, last: boolean, root: boolean) => {
    const branch = root ? "" : last ? "└─ " : "├─ "
    const kids = children.get(span.spanContext().spanId) ?? []
    lines.push(`${prefix}${branch}${describeSpan(span, paint, sentElsewhere(span, kids))}`)
    const nextPrefix = root ? prefix : prefix + (last ? "   " : "│  ")
    kids.forEach((kid, i) => visit(kid, nextPrefix, i === kids.length - 1, false))
  }
  // Roots in start order; those continuing the same remote span share one heading line.
  const roots = children.get(undefined) ?? []
  for (let i = 0; i < roots.length;) {
    const root = roots[i]!
    const remote = remoteParentOf(root)
    if (remote === undefined) {
      visit(root, "", true, true)
      i++
      continue
    }
    let j = i + 1
    while (j < roots.length && remoteParentOf(roots[j]!) === remote) j++
    lines.push(paint("2", `⇠ continues span ${remote} of another process`))
    roots.slice(i, j).forEach((span, k) => visit(span, "", k === j - i - 1, false))
    i = j
  }
  return lines.join("\n") + "\n\n"
}

/** The id of the span in another process that `span` continues, if its parent is remote. */
const remoteParentOf = (span: ReadableSpan): string | undefined =>
  span.parentSpanContext?.isRemote === true ? span.parentSpanContext.spanId : undefined

/**
 * The span id an MCP call sent as the parent of a span this process does not hold: a span with
 * `mcp.method.name` that is not itself the server's, with no SERVER span beneath it here.
 */
const sentElsewhere = (span: ReadableSpan, kids: ReadonlyArray<ReadableSpan>): string | undefined =>
  span.attributes[N.ATTR_MCP_METHOD_NAME] !== undefined && span.kind !== SpanKind.SERVER &&
    !kids.some((kid) => kid.kind === SpanKind.SERVER)
    ? span.spanContext().spanId
    : undefined

const compareHrTime = (a: readonly [number, number], b: readonly [number, number]) => a[0] - b[0] || a[1] - b[1]

const formatDuration = (ms: number): string =>
  ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : ms >= 10 ? `${Math.round(ms)}ms` : `${ms.toFixed(1)}ms`

/** The attributes worth a glance in a terminal, in reading order. */
const highlights: ReadonlyArray<readonly [key: string, label: string]> = [
  [N.ATTR_GEN_AI_PROVIDER_NAME, "provider"],
  [N.ATTR_GEN_AI_REQUEST_MODEL, "model"],
  [N.ATTR_GEN_AI_RESPONSE_MODEL, "response.model"],
  [N.ATTR_GEN_AI_USAGE_INPUT_TOKENS, "in"],
  [N.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, "out"],
  [N.ATTR_GEN_AI_RESPONSE_FINISH_REASONS, "finish"],
  [N.ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT, "dims"],
  [N.ATTR_GEN_AI_TOOL_CALL_ID, "call"],
  [N.ATTR_BELUGA_ATTEMPT, "attempt"],
  [N.ATTR_ERROR_TYPE, N.ATTR_ERROR_TYPE]
]

const describeSpan = (
  span: ReadableSpan,
  paint: (code: string, text: string) => string,
  sent: string | undefined
): string => {
  const parts = [paint("1", span.name), paint("36", formatDuration(hrTimeToMilliseconds(span.duration)))]
  const details: Array<string> = []
  for (const [key, label] of highlights) {
    const value = span.attributes[key]
    if (value === undefined) continue
    // The response model repeats the request model more often than not.
    if (key === N.ATTR_GEN_AI_RESPONSE_MODEL && value === span.attributes[N.ATTR_GEN_AI_REQUEST_MODEL]) continue
    details.push(`${label}=${Array.isArray(value) ? value.join(",") : String(value)}`)
  }
  const cost = span.attributes[N.ATTR_GEN_AI_USAGE_COST_AMOUNT] ?? span.attributes[N.ATTR_GEN_AI_USAGE_COST] ??
    span.attributes[N.ATTR_BELUGA_ROLLUP_COST]
  const rolledIn = span.attributes[N.ATTR_BELUGA_ROLLUP_INPUT_TOKENS]
  if (rolledIn !== undefined) {
    details.push(`Σin=${String(rolledIn)} Σout=${String(span.attributes[N.ATTR_BELUGA_ROLLUP_OUTPUT_TOKENS])}`)
  }
  if (typeof cost === "number") {
    const own = span.attributes[N.ATTR_GEN_AI_USAGE_COST_AMOUNT] ?? span.attributes[N.ATTR_GEN_AI_USAGE_COST]
    const currency = span.attributes[N.ATTR_GEN_AI_USAGE_COST_CURRENCY] ?? span.attributes[N.ATTR_BELUGA_COST_CURRENCY]
    details.push(`${own === undefined ? "Σ" : ""}cost=${cost.toPrecision(3)} ${String(currency ?? "")}`.trimEnd())
  }
  const ttft = span.attributes[N.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]
  if (typeof ttft === "number") details.push(`ttft=${formatDuration(ttft * 1000)}`)
  if (details.length > 0) parts.push(paint("2", details.join(" ")))
  if (sent !== undefined) parts.push(paint("2", `⇢ span ${sent}`))
  for (const event of span.events) {
    if (event.name === N.EVENT_EXCEPTION) continue
    const attrs = Object.entries(event.attributes ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(" ")
    parts.push(paint("35", `⚑ ${event.name}${attrs !== "" ? ` ${attrs}` : ""}`))
  }
  if (span.attributes[N.ATTR_BELUGA_STREAM_ABANDONED] === true) parts.push(paint("33", "⊘ stream abandoned"))
  else if (span.attributes[N.ATTR_EFFECT_FIBER_INTERRUPTED] === true) parts.push(paint("33", "⊘ interrupted"))
  if (span.status.code === SpanStatusCode.ERROR) {
    parts.push(paint("31", `✗ ERROR${span.status.message !== undefined ? ` ${span.status.message}` : ""}`))
  }
  return parts.join("  ")
}

/**
 * The metrics at exit, in a few lines: tokens per model, and the median and 95th percentile
 * duration per operation (estimated from the histogram buckets, as a backend would).
 */
export const renderMetricsSummary = (
  histograms: ReadonlyMap<string, ReadonlyArray<SeriesSummary>>,
  names: {
    /**
     * The token histograms: one with `gen_ai.token.type` on its points (v1.41), or one per type
     * (the latest names), each with the type its points count.
     */
    readonly tokens: ReadonlyArray<
      { readonly name: string; readonly type?: (typeof N.TokenType)[keyof typeof N.TokenType] | undefined }
    >
    readonly durations: ReadonlyArray<string>
  },
  colors: boolean
): string => {
  const dim = (s: string) => (colors ? `\x1b[2m${s}\x1b[22m` : s)
  const lines: Array<string> = []
  const tokens = new Map<string, { input: number; output: number }>()
  const tokenSeries = names.tokens.flatMap(({ name, type }) =>
    (histograms.get(name) ?? []).map((series) => ({ series, type }))
  )
  for (const { series, type } of tokenSeries) {
    const a = series.attributes
    const model = String(a[N.ATTR_GEN_AI_RESPONSE_MODEL] ?? a[N.ATTR_GEN_AI_REQUEST_MODEL] ?? "unknown model")
    const provider = a[N.ATTR_GEN_AI_PROVIDER_NAME] !== undefined ? ` (${String(a[N.ATTR_GEN_AI_PROVIDER_NAME])})` : ""
    const key = `${model}${provider}`
    const total = tokens.get(key) ?? { input: 0, output: 0 }
    if ((type ?? a[N.ATTR_GEN_AI_TOKEN_TYPE]) === N.TokenType.input) total.input += series.sum
    else total.output += series.sum
    tokens.set(key, total)
  }
  for (const [model, total] of tokens) {
    lines.push(`  tokens    ${model}: ${total.input} in, ${total.output} out`)
  }
  const durations = new Map<string, SeriesSummary>()
  for (const name of names.durations) {
    for (const series of histograms.get(name) ?? []) {
      const operation = String(series.attributes[N.ATTR_GEN_AI_OPERATION_NAME] ?? name)
      const merged = durations.get(operation)
      durations.set(
        operation,
        merged === undefined ? series : {
          attributes: merged.attributes,
          boundaries: merged.boundaries,
          counts: merged.counts.map((c, i) => c + (series.counts[i] ?? 0)),
          count: merged.count + series.count,
          sum: merged.sum + series.sum,
          min: Math.min(merged.min, series.min),
          max: Math.max(merged.max, series.max)
        }
      )
    }
  }
  for (const [operation, series] of durations) {
    const p50 = quantile(series, 0.5)
    const p95 = quantile(series, 0.95)
    lines.push(
      `  duration  ${operation}: ${series.count} call${series.count === 1 ? "" : "s"}, ` +
        `p50 ≈ ${seconds(p50)}, p95 ≈ ${seconds(p95)}`
    )
  }
  if (lines.length === 0) return ""
  return `${dim("metrics (p50/p95 estimated from histogram buckets)")}\n${lines.join("\n")}\n`
}

const seconds = (value: number | undefined): string =>
  value === undefined ? "-" : value < 1 ? `${(value * 1000).toFixed(0)} ms` : `${value.toFixed(2)} s`
