/**
 * The shapes the viewer's UI reads, from the server's JSON API or from a report's embedded data:
 * one trace's summary row, a page of them, a conversation and its turns, and merged histograms.
 */

export interface TraceRow {
  readonly traceId: string
  readonly name: string
  readonly service: string
  readonly start: number
  readonly durationMs: number
  readonly spans: number
  readonly errors: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cost: number | null
  readonly currency: string | null
  readonly models: ReadonlyArray<string>
  readonly conversation: string | null
  readonly session: string | null
  readonly user: string | null
}

export interface TraceList {
  readonly total: number
  readonly rows: ReadonlyArray<TraceRow>
  readonly services: ReadonlyArray<string>
  readonly models: ReadonlyArray<string>
}

export interface ConversationRow {
  readonly conversation: string
  readonly turns: number
  readonly start: number
  readonly end: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cost: number | null
}

export interface HistogramSeries {
  readonly metric: string
  readonly unit: string
  readonly operation: string
  readonly model: string
  readonly tokenType: string
  readonly bounds: ReadonlyArray<number>
  readonly counts: ReadonlyArray<number>
  readonly count: number
  readonly sum: number
  readonly min: number
  readonly max: number
  /** Estimated from the buckets; `null` with no measurement. */
  readonly p50: number | null
  readonly p95: number | null
}

export interface Turn {
  readonly traceId: string
  readonly name: string
  readonly start: number
  readonly durationMs: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cost: number | null
  readonly currency: string | null
  readonly errors: number
  readonly models: ReadonlyArray<string>
  /** Model calls in the turn. */
  readonly calls: number
  readonly tools: ReadonlyArray<string>
  /** The user's last message, when content was captured. */
  readonly question?: string
  /** The reply's text, when content was captured. */
  readonly answer?: string
}
