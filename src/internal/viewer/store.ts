/**
 * The viewer's storage: Node's built-in SQLite (`node:sqlite`), in a file or in memory, so there is
 * no server to install. Spans are stored as their display form ({@link SpanView}) with one summary
 * row per trace kept up to date as batches arrive, which is what the traces list reads; log
 * records beside them (`storeLogs.ts`). Retention is by trace count and by stored bytes, spans and
 * records alike: the oldest traces go first, with their records, so a flood costs disk and memory
 * up to the limits and no more; records that belong to no stored trace have a count of their own.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { DatabaseSync, type StatementSync } from "node:sqlite"
import { quantile } from "../metrics.ts"
import * as N from "../semconv.ts"
import type { ConversationRow, HistogramSeries, TraceList, TraceRow, Turn } from "./api.ts"
import { type LogView, toStored } from "./logView.ts"
import type { RawHistogramPoint, RawSpan } from "./otlpDecode.ts"
import type { RawLog } from "./otlpDecodeLogs.ts"
import { display, identityOf, modelOf, type SpanView, spanView } from "./spanView.ts"
import { type LogList, type LogQuery, logsSchema, LogTable } from "./storeLogs.ts"
import { turnOf } from "./turns.ts"

export interface StoreOptions {
  /** A file path, or `":memory:"`. */
  readonly file: string
  /** Traces kept; the oldest beyond it are deleted. */
  readonly maxTraces: number
  /** Bytes of stored spans and log records kept; the oldest traces beyond it are deleted. */
  readonly maxBytes: number
  /**
   * Log records kept that belong to no stored trace (no trace id, or spans that never came); the
   * oldest beyond it are deleted. Default 10,000.
   */
  readonly maxLooseLogs?: number
}

/** A trace's records the API sends at most: beyond it, the first ones in time and the count. */
const maxTraceLogs = 10_000

export interface TraceQuery {
  /** A service with any span in the trace. */
  readonly service?: string
  readonly status?: "error" | "ok"
  readonly model?: string
  /** A conversation, session or user id. */
  readonly identity?: string
  /** Text in any span's name. */
  readonly text?: string
  readonly sort?: SortKey
  readonly order?: "asc" | "desc"
  readonly offset?: number
  readonly limit?: number
}

export const sortKeys = {
  start: "start_ms",
  duration: "(end_ms - start_ms)",
  name: "coalesce(root_name, first_name)",
  spans: "spans",
  inputTokens: "input_tokens",
  outputTokens: "output_tokens",
  cost: "coalesce(cost, 0)"
} as const
export type SortKey = keyof typeof sortKeys

/** The trace's summary contributed by one batch, merged into its row. */
interface Contribution {
  rootName: string | null
  firstName: string
  service: string | null
  start: number
  end: number
  spans: number
  errors: number
  inputTokens: number
  outputTokens: number
  cost: number | null
  currency: string | null
  conversation: string | null
  session: string | null
  user: string | null
  bytes: number
  readonly models: Set<string>
  /** Every service with a span in the trace: the filter finds a trace by any of them. */
  readonly services: Set<string>
}

const schema = `
CREATE TABLE IF NOT EXISTS traces (
  trace_id TEXT PRIMARY KEY, root_name TEXT, first_name TEXT NOT NULL, service TEXT,
  start_ms REAL NOT NULL, end_ms REAL NOT NULL, spans INTEGER NOT NULL, errors INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cost REAL, currency TEXT,
  conversation TEXT, session TEXT, user_id TEXT, bytes INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS traces_start ON traces (start_ms);
CREATE INDEX IF NOT EXISTS traces_conversation ON traces (conversation);
CREATE TABLE IF NOT EXISTS spans (trace_id TEXT NOT NULL, span_id TEXT NOT NULL, name TEXT NOT NULL,
  start_ms REAL NOT NULL, data TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS spans_id ON spans (trace_id, span_id);
CREATE TABLE IF NOT EXISTS trace_models (trace_id TEXT NOT NULL, model TEXT NOT NULL,
  PRIMARY KEY (trace_id, model)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trace_services (trace_id TEXT NOT NULL, service TEXT NOT NULL,
  PRIMARY KEY (trace_id, service)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS histograms (series TEXT PRIMARY KEY, metric TEXT NOT NULL, unit TEXT NOT NULL,
  operation TEXT NOT NULL, model TEXT NOT NULL, token_type TEXT NOT NULL, bounds TEXT NOT NULL,
  counts TEXT NOT NULL, count INTEGER NOT NULL, sum REAL NOT NULL, min REAL, max REAL);
`

/** Bumped when the tables change shape: an older file is emptied and rebuilt, its data being disposable. */
const schemaVersion = 4

/** Series kept per viewer: the metrics' own cardinality limit, times the handful of GenAI histograms. */
const maxSeries = 20_000

export class Store {
  /** Bumped on every change, so the UI can poll for "anything new". */
  version = 0
  private traceCount: number
  private bytes: number
  private seriesCount: number
  private readonly db: DatabaseSync
  private readonly insertSpan: StatementSync
  private readonly upsertTrace: StatementSync
  private readonly insertModel: StatementSync
  private readonly insertService: StatementSync
  private readonly logs: LogTable

  constructor(readonly options: StoreOptions) {
    if (options.file !== ":memory:") fs.mkdirSync(path.dirname(options.file), { recursive: true })
    this.db = new DatabaseSync(options.file)
    // The data is a local, disposable copy of telemetry: speed over durability.
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY;")
    const version = Number(this.db.prepare("PRAGMA user_version").get()!["user_version"])
    if (version !== schemaVersion) {
      this.db.exec("DROP TABLE IF EXISTS traces; DROP TABLE IF EXISTS spans; DROP TABLE IF EXISTS trace_models;")
      this.db.exec("DROP TABLE IF EXISTS trace_services; DROP TABLE IF EXISTS logs;")
      this.db.exec(`DROP TABLE IF EXISTS histograms; PRAGMA user_version = ${schemaVersion};`)
    }
    this.db.exec(schema + logsSchema)
    this.logs = new LogTable(this.db)
    // An exporter that timed out may send a batch again: a span already stored is kept once.
    this.insertSpan = this.db.prepare(
      "INSERT OR IGNORE INTO spans (trace_id, span_id, name, start_ms, data) VALUES (?, ?, ?, ?, ?)"
    )
    this.insertModel = this.db.prepare("INSERT OR IGNORE INTO trace_models (trace_id, model) VALUES (?, ?)")
    this.insertService = this.db.prepare("INSERT OR IGNORE INTO trace_services (trace_id, service) VALUES (?, ?)")
    this.upsertTrace = this.db.prepare(`
      INSERT INTO traces VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (trace_id) DO UPDATE SET
        service = CASE WHEN traces.root_name IS NULL AND excluded.root_name IS NOT NULL
          THEN excluded.service ELSE coalesce(traces.service, excluded.service) END,
        root_name = coalesce(traces.root_name, excluded.root_name),
        start_ms = min(traces.start_ms, excluded.start_ms), end_ms = max(traces.end_ms, excluded.end_ms),
        spans = traces.spans + excluded.spans, errors = traces.errors + excluded.errors,
        input_tokens = traces.input_tokens + excluded.input_tokens,
        output_tokens = traces.output_tokens + excluded.output_tokens,
        cost = CASE WHEN traces.cost IS NULL AND excluded.cost IS NULL THEN NULL
          ELSE coalesce(traces.cost, 0) + coalesce(excluded.cost, 0) END,
        currency = coalesce(traces.currency, excluded.currency),
        conversation = coalesce(traces.conversation, excluded.conversation),
        session = coalesce(traces.session, excluded.session), user_id = coalesce(traces.user_id, excluded.user_id),
        bytes = traces.bytes + excluded.bytes`)
    const totals = this.db.prepare("SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM traces").get()!
    this.traceCount = Number(totals["n"])
    this.bytes = Number(totals["b"]) + this.logs.looseBytes
    this.seriesCount = Number(this.db.prepare("SELECT count(*) AS n FROM histograms").get()!["n"])
  }

  /** Stores a batch of spans in one transaction, then applies retention. */
  addSpans(spans: ReadonlyArray<RawSpan>): void {
    if (spans.length === 0) return
    const byTrace = new Map<string, Contribution>()
    this.db.exec("BEGIN")
    try {
      for (const raw of spans) {
        const view = spanView(raw)
        const data = JSON.stringify(view)
        if (this.insertSpan.run(view.traceId, view.spanId, view.name, view.start, data).changes === 0) continue
        let c = byTrace.get(view.traceId)
        if (c === undefined) {
          c = {
            rootName: null,
            firstName: view.name,
            service: null,
            start: view.start,
            end: view.end,
            spans: 0,
            errors: 0,
            inputTokens: 0,
            outputTokens: 0,
            cost: null,
            currency: null,
            conversation: null,
            session: null,
            user: null,
            bytes: 0,
            models: new Set(),
            services: new Set()
          }
          byTrace.set(view.traceId, c)
        }
        if (view.parentId === "" && c.rootName === null) {
          c.rootName = view.name
          c.service = view.service
        }
        c.service ??= view.service
        c.start = Math.min(c.start, view.start)
        c.end = Math.max(c.end, view.end)
        c.spans++
        if (view.status === 2) c.errors++
        c.bytes += data.length
        const genai = view.genai
        if (genai?.inference === true) {
          c.inputTokens += genai.inputTokens ?? 0
          c.outputTokens += genai.outputTokens ?? 0
          if (genai.cost !== undefined) c.cost = (c.cost ?? 0) + genai.cost
          c.currency ??= genai.currency ?? null
        }
        const model = modelOf(genai)
        if (model !== undefined) c.models.add(model)
        c.services.add(view.service)
        const identity = identityOf(raw)
        c.conversation ??= identity.conversation ?? null
        c.session ??= identity.session ?? null
        c.user ??= identity.user ?? null
      }
      const exists = this.db.prepare("SELECT 1 FROM traces WHERE trace_id = ?")
      for (const [traceId, c] of byTrace) {
        this.bytes += c.bytes
        if (exists.get(traceId) === undefined) {
          this.traceCount++
          // Counted in this.bytes already, as loose records; from now on in the trace's row.
          c.bytes += this.logs.joinTrace(traceId)
        }
        this.upsertTrace.run(
          traceId,
          c.rootName,
          c.firstName,
          c.service,
          c.start,
          c.end,
          c.spans,
          c.errors,
          c.inputTokens,
          c.outputTokens,
          c.cost,
          c.currency,
          c.conversation,
          c.session,
          c.user,
          c.bytes
        )
        for (const model of c.models) this.insertModel.run(traceId, model)
        for (const service of c.services) this.insertService.run(traceId, service)
      }
      this.db.exec("COMMIT")
    } catch (error) {
      this.db.exec("ROLLBACK")
      throw error
    }
    this.version++
    this.retain()
  }

  /**
   * Stores a batch of log records in one transaction, then applies retention. A record of a stored
   * trace counts in its bytes; the rest wait, loose, for their trace's spans.
   */
  addLogs(logs: ReadonlyArray<RawLog>): void {
    if (logs.length === 0) return
    const stored = logs.map(toStored)
    const digest = this.logs.digest(stored, logs.map((log) => log.timeNs))
    if (digest === undefined) return
    const exists = this.db.prepare("SELECT 1 FROM traces WHERE trace_id = ?")
    const grow = this.db.prepare("UPDATE traces SET bytes = bytes + ? WHERE trace_id = ?")
    this.db.exec("BEGIN")
    try {
      const added = this.logs.insert(stored, (traceId) => exists.get(traceId) !== undefined)
      for (const [traceId, bytes] of added.perTrace) grow.run(bytes, traceId)
      this.bytes += added.bytes
      this.db.exec("COMMIT")
    } catch (error) {
      this.db.exec("ROLLBACK")
      throw error
    }
    this.logs.remember(digest)
    this.version++
    this.retain()
  }

  /**
   * Deletes the oldest traces (with their records) and loose records until every limit holds.
   * Over the bytes, loose records go first while they hold more than a quarter of them, so a
   * flood of records of no trace cannot push out the traces.
   */
  private retain(): void {
    const maxLoose = this.options.maxLooseLogs ?? 10_000
    while (
      this.traceCount > this.options.maxTraces || this.bytes > this.options.maxBytes
      || this.logs.looseCount > maxLoose
    ) {
      const overBytes = this.bytes > this.options.maxBytes
      const loose = this.logs.looseCount > 0 && (this.logs.looseCount > maxLoose
        || (overBytes && (this.traceCount === 0 || this.logs.looseBytes * 4 > this.bytes)))
      if (loose) {
        const over = this.logs.looseCount - maxLoose
        const freed = this.logs.dropLoose(Math.max(1, over, Math.ceil(this.logs.looseCount / 50)))
        if (freed === 0) break
        this.bytes -= freed
      } else if (!this.dropOldestTraces()) break
    }
  }

  /** Deletes a few percent of the traces, oldest first, so a flood does not pay one delete per trace. */
  private dropOldestTraces(): boolean {
    const overCount = this.traceCount - this.options.maxTraces
    const step = Math.max(1, overCount, Math.ceil(this.traceCount / 50))
    const victims = this.db.prepare("SELECT trace_id, bytes FROM traces ORDER BY rowid LIMIT ?").all(step)
    if (victims.length === 0) return false
    this.db.exec("BEGIN")
    const spans = this.db.prepare("DELETE FROM spans WHERE trace_id = ?")
    const models = this.db.prepare("DELETE FROM trace_models WHERE trace_id = ?")
    const services = this.db.prepare("DELETE FROM trace_services WHERE trace_id = ?")
    const traces = this.db.prepare("DELETE FROM traces WHERE trace_id = ?")
    for (const victim of victims) {
      const id = victim["trace_id"] as string
      spans.run(id)
      models.run(id)
      services.run(id)
      traces.run(id)
      this.logs.dropTrace(id)
      this.traceCount--
      this.bytes -= Number(victim["bytes"])
    }
    this.db.exec("COMMIT")
    return true
  }

  /** One page of traces matching the query, with the values the filters can take. */
  traces(query: TraceQuery = {}): TraceList {
    const where: Array<string> = []
    const params: Array<string | number> = []
    if (query.service !== undefined) {
      where.push("EXISTS (SELECT 1 FROM trace_services s WHERE s.trace_id = t.trace_id AND s.service = ?)")
      params.push(query.service)
    }
    if (query.status === "error") where.push("errors > 0")
    if (query.status === "ok") where.push("errors = 0")
    if (query.model !== undefined) {
      where.push("EXISTS (SELECT 1 FROM trace_models m WHERE m.trace_id = t.trace_id AND m.model = ?)")
      params.push(query.model)
    }
    if (query.identity !== undefined) {
      where.push("(conversation = ? OR session = ? OR user_id = ?)")
      params.push(query.identity, query.identity, query.identity)
    }
    if (query.text !== undefined) {
      where.push("EXISTS (SELECT 1 FROM spans s WHERE s.trace_id = t.trace_id AND s.name LIKE ? ESCAPE '\\')")
      params.push(`%${query.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
    }
    const clause = where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`
    const total = Number(this.db.prepare(`SELECT count(*) AS n FROM traces t ${clause}`).get(...params)!["n"])
    const sort = sortKeys[query.sort ?? "start"] ?? sortKeys.start
    const order = query.order === "asc" ? "ASC" : "DESC"
    const limit = Math.min(Math.max(1, query.limit ?? 50), 500)
    const offset = Math.max(0, query.offset ?? 0)
    const rows = this.db.prepare(
      `SELECT * FROM traces t ${clause} ORDER BY ${sort} ${order}, rowid ${order} LIMIT ? OFFSET ?`
    ).all(...params, limit, offset)
    const models = new Map<string, Array<string>>()
    const modelsOf = this.db.prepare("SELECT model FROM trace_models WHERE trace_id = ? ORDER BY model")
    for (const row of rows) {
      models.set(row["trace_id"] as string, modelsOf.all(row["trace_id"] as string).map((m) => m["model"] as string))
    }
    return {
      total,
      rows: rows.map((row) => toRow(row, models.get(row["trace_id"] as string) ?? [])),
      services: this.db.prepare("SELECT DISTINCT service FROM trace_services ORDER BY service LIMIT 500")
        .all().map((r) => r["service"] as string),
      models: this.db.prepare("SELECT DISTINCT model FROM trace_models ORDER BY model LIMIT 500").all()
        .map((r) => r["model"] as string)
    }
  }

  /** Every stored span of a trace, in start order. */
  trace(traceId: string): Array<SpanView> {
    return JSON.parse(this.traceJson(traceId)) as Array<SpanView>
  }

  /** The same, as the JSON array the API sends: the stored text joined, never parsed. */
  traceJson(traceId: string): string {
    const rows = this.db.prepare("SELECT data FROM spans WHERE trace_id = ? ORDER BY start_ms").all(traceId)
    return `[${rows.map((row) => row["data"] as string).join(",")}]`
  }

  /** A stored trace's log records in time order (at most {@link maxTraceLogs}), and how many it has. */
  traceLogs(traceId: string): { readonly logs: Array<LogView>; readonly total: number } {
    return this.logs.ofTrace(traceId, maxTraceLogs)
  }

  /** One page of every log record, newest first. */
  logList(query: LogQuery = {}): LogList {
    return this.logs.list(query)
  }

  /** Every log record, newest first. */
  allLogs(): Array<LogView> {
    return this.logs.all()
  }

  /** The summary row of one trace. */
  traceRow(traceId: string): TraceRow | undefined {
    const row = this.db.prepare("SELECT * FROM traces WHERE trace_id = ?").get(traceId)
    if (row === undefined) return undefined
    const models = this.db.prepare("SELECT model FROM trace_models WHERE trace_id = ? ORDER BY model").all(traceId)
    return toRow(row, models.map((m) => m["model"] as string))
  }

  /** The most recent conversations. */
  conversations(limit = 200): Array<ConversationRow> {
    return this.db.prepare(`
      SELECT conversation, count(*) AS turns, min(start_ms) AS start, max(end_ms) AS end,
        sum(input_tokens) AS input, sum(output_tokens) AS output, sum(cost) AS cost
      FROM traces WHERE conversation IS NOT NULL GROUP BY conversation ORDER BY max(start_ms) DESC LIMIT ?`)
      .all(limit).map((r) => ({
        conversation: r["conversation"] as string,
        turns: Number(r["turns"]),
        start: Number(r["start"]),
        end: Number(r["end"]),
        inputTokens: Number(r["input"]),
        outputTokens: Number(r["output"]),
        cost: r["cost"] === null ? null : Number(r["cost"])
      }))
  }

  /** The turns of one conversation, one per trace, in order. */
  conversation(id: string): Array<Turn> {
    return this.db.prepare("SELECT trace_id FROM traces WHERE conversation = ? ORDER BY start_ms LIMIT 1000").all(id)
      .map((row) => row["trace_id"] as string)
      .map((traceId) => turnOf(this.traceRow(traceId)!, this.trace(traceId), this.traceLogs(traceId).logs))
  }

  /** Stores histogram points: a cumulative point replaces its series, a delta point adds to it. */
  addHistograms(points: ReadonlyArray<RawHistogramPoint>): void {
    if (points.length === 0) return
    const get = this.db.prepare("SELECT counts, count, sum, min, max FROM histograms WHERE series = ?")
    const put = this.db.prepare("INSERT OR REPLACE INTO histograms VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    this.db.exec("BEGIN")
    for (const point of points) {
      const a = point.attributes
      const service = point.resource[N.ATTR_SERVICE_NAME] ?? ""
      const operation = display(a[N.ATTR_GEN_AI_OPERATION_NAME] ?? a[N.ATTR_MCP_METHOD_NAME] ?? "")
      const model = display(a[N.ATTR_GEN_AI_RESPONSE_MODEL] ?? a[N.ATTR_GEN_AI_REQUEST_MODEL] ?? "")
      const tokenType = display(a[N.ATTR_GEN_AI_TOKEN_TYPE] ?? "")
      const attributes = Object.keys(a).toSorted().map((k) => [k, a[k]])
      const delta = point.temporality === 1
      const series = JSON.stringify([
        point.metric,
        service,
        attributes,
        point.bounds,
        delta ? "" : String(point.startNs)
      ])
      let { count, counts, max, min, sum } = point
      const previous = delta ? get.get(series) : undefined
      if (previous !== undefined) {
        const before = JSON.parse(previous["counts"] as string) as Array<number>
        counts = counts.map((c, i) => c + (before[i] ?? 0))
        count += Number(previous["count"])
        sum += Number(previous["sum"])
        if (min !== undefined && previous["min"] !== null) min = Math.min(min, Number(previous["min"]))
        if (max !== undefined && previous["max"] !== null) max = Math.max(max, Number(previous["max"]))
      } else if (get.get(series) === undefined) {
        if (this.seriesCount >= maxSeries) continue
        this.seriesCount++
      }
      put.run(
        series,
        point.metric,
        point.unit,
        operation,
        model,
        tokenType,
        JSON.stringify(point.bounds),
        JSON.stringify(counts),
        count,
        sum,
        min ?? null,
        max ?? null
      )
    }
    this.db.exec("COMMIT")
    this.version++
  }

  /** Every histogram, its series merged per metric, operation, model and token type. */
  histograms(): Array<HistogramSeries> {
    const merged = new Map<string, Omit<HistogramSeries, "p50" | "p95">>()
    for (const row of this.db.prepare("SELECT * FROM histograms").all()) {
      const bounds = JSON.parse(row["bounds"] as string) as Array<number>
      const key = JSON.stringify([row["metric"], row["operation"], row["model"], row["token_type"], bounds])
      const counts = JSON.parse(row["counts"] as string) as Array<number>
      const min = row["min"] === null ? -Infinity : Number(row["min"])
      const max = row["max"] === null ? Infinity : Number(row["max"])
      const seen = merged.get(key)
      if (seen === undefined) {
        merged.set(key, {
          metric: row["metric"] as string,
          unit: row["unit"] as string,
          operation: row["operation"] as string,
          model: row["model"] as string,
          tokenType: row["token_type"] as string,
          bounds,
          counts,
          count: Number(row["count"]),
          sum: Number(row["sum"]),
          min,
          max
        })
      } else {
        merged.set(key, {
          ...seen,
          counts: seen.counts.map((c, i) => c + (counts[i] ?? 0)),
          count: seen.count + Number(row["count"]),
          sum: seen.sum + Number(row["sum"]),
          min: Math.min(seen.min, min),
          max: Math.max(seen.max, max)
        })
      }
    }
    return [...merged.values()].map((s) => ({ ...s, p50: estimate(s, 0.5), p95: estimate(s, 0.95) })).toSorted((a, b) =>
      a.metric.localeCompare(b.metric) || a.operation.localeCompare(b.operation) || a.model.localeCompare(b.model)
      || a.tokenType.localeCompare(b.tokenType)
    )
  }

  /** What is stored: traces, spans, log records (those of no stored trace among them) and bytes. */
  stats(): {
    readonly traces: number
    readonly spans: number
    readonly logs: number
    readonly looseLogs: number
    readonly bytes: number
  } {
    const spans = Number(this.db.prepare("SELECT count(*) AS n FROM spans").get()!["n"])
    return {
      traces: this.traceCount,
      spans,
      logs: this.logs.count(),
      looseLogs: this.logs.looseCount,
      bytes: this.bytes
    }
  }

  close(): void {
    this.db.close()
  }
}

const estimate = (series: Omit<HistogramSeries, "p50" | "p95">, q: number) =>
  quantile({ attributes: {}, boundaries: series.bounds, ...series }, q) ?? null

const toRow = (row: Record<string, unknown>, models: ReadonlyArray<string>): TraceRow => ({
  traceId: row["trace_id"] as string,
  name: (row["root_name"] ?? row["first_name"]) as string,
  service: (row["service"] ?? "") as string,
  start: Number(row["start_ms"]),
  durationMs: Number(row["end_ms"]) - Number(row["start_ms"]),
  spans: Number(row["spans"]),
  errors: Number(row["errors"]),
  inputTokens: Number(row["input_tokens"]),
  outputTokens: Number(row["output_tokens"]),
  cost: row["cost"] === null ? null : Number(row["cost"]),
  currency: (row["currency"] ?? null) as string | null,
  models,
  conversation: (row["conversation"] ?? null) as string | null,
  session: (row["session"] ?? null) as string | null,
  user: (row["user_id"] ?? null) as string | null
})
