/**
 * The store's log records: one SQLite table, indexed by trace, beside the spans. A record whose
 * trace is stored counts in that trace's bytes and goes when the trace goes; the others (no trace
 * id, or a trace whose spans have not arrived, such as a sampled-out one) are "loose": counted
 * here, and bounded by the store on their own, oldest first. When a trace's first spans arrive,
 * its loose records join it.
 */
import { createHash } from "node:crypto"
import type { DatabaseSync, StatementSync } from "node:sqlite"
import { type LogView, logView, type StoredLog } from "./logView.ts"

export const logsSchema = `
CREATE TABLE IF NOT EXISTS logs (id INTEGER PRIMARY KEY, trace_id TEXT NOT NULL, span_id TEXT NOT NULL,
  time_ms REAL NOT NULL, severity_number INTEGER NOT NULL, severity_text TEXT NOT NULL,
  event_name TEXT NOT NULL, service TEXT NOT NULL, body TEXT NOT NULL, attributes TEXT NOT NULL,
  bytes INTEGER NOT NULL, in_trace INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS logs_trace ON logs (trace_id, time_ms);
CREATE INDEX IF NOT EXISTS logs_loose ON logs (id) WHERE in_trace = 0;
CREATE INDEX IF NOT EXISTS logs_time ON logs (time_ms);
`

export interface LogQuery {
  /** The lowest severity number shown. */
  readonly severity?: number
  /** Text in the body or the event name. */
  readonly text?: string
  readonly offset?: number
  readonly limit?: number
}

export interface LogList {
  readonly total: number
  readonly rows: ReadonlyArray<LogView>
}

/** What a row costs beyond its text: the ids, the numbers and SQLite's own keeping. */
const rowOverhead = 96

/** Batches remembered to store a request sent twice once: an exporter retrying after a timeout. */
const recentBatches = 1024

export class LogTable {
  /** Loose records and their bytes. */
  looseCount: number
  looseBytes: number
  private readonly recent = new Set<string>()
  private readonly insertLog: StatementSync
  private readonly waiting: StatementSync
  private readonly join: StatementSync
  private readonly dropOfTrace: StatementSync

  constructor(private readonly db: DatabaseSync) {
    this.insertLog = db.prepare("INSERT INTO logs VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    this.waiting = db.prepare(
      "SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM logs WHERE trace_id = ? AND in_trace = 0"
    )
    this.join = db.prepare("UPDATE logs SET in_trace = 1 WHERE trace_id = ? AND in_trace = 0")
    this.dropOfTrace = db.prepare("DELETE FROM logs WHERE trace_id = ? AND in_trace = 1")
    const loose = db.prepare("SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM logs WHERE in_trace = 0").get()!
    this.looseCount = Number(loose["n"])
    this.looseBytes = Number(loose["b"])
  }

  /**
   * The batch's digest, or `undefined` when the same records were stored lately; `times` are the
   * records' own, in nanoseconds, finer than the stored milliseconds.
   */
  digest(logs: ReadonlyArray<StoredLog>, times: ReadonlyArray<bigint>): string | undefined {
    const hash = createHash("sha256")
    logs.forEach((log, i) => hash.update(`${times[i]}${JSON.stringify(log)}`))
    const digest = hash.digest("base64")
    return this.recent.has(digest) ? undefined : digest
  }

  /** Remembers a stored batch by its digest. */
  remember(digest: string): void {
    this.recent.add(digest)
    if (this.recent.size > recentBatches) this.recent.delete(this.recent.values().next().value!)
  }

  /**
   * Inserts records (inside the caller's transaction); `stored` says whether a trace is. Returns
   * the bytes added, in all and per stored trace.
   */
  insert(
    logs: ReadonlyArray<StoredLog>,
    stored: (traceId: string) => boolean
  ): { readonly bytes: number; readonly perTrace: ReadonlyMap<string, number> } {
    const perTrace = new Map<string, number>()
    const known = new Map<string, boolean>()
    let bytes = 0
    for (const log of logs) {
      let inTrace = known.get(log.traceId)
      if (inTrace === undefined) {
        inTrace = log.traceId !== "" && stored(log.traceId)
        known.set(log.traceId, inTrace)
      }
      const size = rowOverhead + log.body.length + log.attributes.length + log.eventName.length +
        log.severityText.length + log.service.length
      this.insertLog.run(
        log.traceId,
        log.spanId,
        log.time,
        log.severityNumber,
        log.severityText,
        log.eventName,
        log.service,
        log.body,
        log.attributes,
        size,
        inTrace ? 1 : 0
      )
      bytes += size
      if (inTrace) perTrace.set(log.traceId, (perTrace.get(log.traceId) ?? 0) + size)
      else {
        this.looseCount++
        this.looseBytes += size
      }
    }
    return { bytes, perTrace }
  }

  /** A trace's first spans arrived: its loose records join it. Returns their bytes. */
  joinTrace(traceId: string): number {
    const waiting = this.waiting.get(traceId)!
    const count = Number(waiting["n"])
    if (count === 0) return 0
    const bytes = Number(waiting["b"])
    this.join.run(traceId)
    this.looseCount -= count
    this.looseBytes -= bytes
    return bytes
  }

  /** The records of a trace being deleted (their bytes are in its row). */
  dropTrace(traceId: string): void {
    this.dropOfTrace.run(traceId)
  }

  /** Deletes the oldest `count` loose records; returns the bytes freed, 0 when there were none. */
  dropLoose(count: number): number {
    const victims = this.db.prepare("SELECT id, bytes FROM logs WHERE in_trace = 0 ORDER BY id LIMIT ?").all(count)
    if (victims.length === 0) return 0
    let bytes = 0
    for (const victim of victims) bytes += Number(victim["bytes"])
    this.db.prepare("DELETE FROM logs WHERE in_trace = 0 AND id <= ?").run(Number(victims.at(-1)!["id"]))
    this.looseCount -= victims.length
    this.looseBytes -= bytes
    return bytes
  }

  /** A stored trace's records in time order, the first `limit` of them, and how many it has. */
  ofTrace(traceId: string, limit: number): { readonly logs: Array<LogView>; readonly total: number } {
    const rows = this.db.prepare("SELECT * FROM logs WHERE trace_id = ? AND in_trace = 1 ORDER BY time_ms, id LIMIT ?")
      .all(traceId, limit)
    const total = rows.length < limit ? rows.length : Number(
      this.db.prepare("SELECT count(*) AS n FROM logs WHERE trace_id = ? AND in_trace = 1").get(traceId)!["n"]
    )
    return { logs: rows.map(toView), total }
  }

  /** One page of every record, the latest in time first. */
  list(query: LogQuery = {}): LogList {
    const where: Array<string> = []
    const params: Array<string | number> = []
    if (query.severity !== undefined && query.severity > 0) {
      where.push("severity_number >= ?")
      params.push(query.severity)
    }
    if (query.text !== undefined && query.text !== "") {
      const like = `%${query.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
      where.push("(body LIKE ? ESCAPE '\\' OR event_name LIKE ? ESCAPE '\\')")
      params.push(like, like)
    }
    const clause = where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`
    const total = Number(this.db.prepare(`SELECT count(*) AS n FROM logs ${clause}`).get(...params)!["n"])
    const limit = Math.min(Math.max(1, query.limit ?? 100), 500)
    const offset = Math.max(0, query.offset ?? 0)
    const rows = this.db.prepare(`SELECT * FROM logs ${clause} ORDER BY time_ms DESC, id DESC LIMIT ? OFFSET ?`)
      .all(...params, limit, offset)
    return { total, rows: rows.map(toView) }
  }

  /** Every record, the latest in time first: what a report embeds. */
  all(): Array<LogView> {
    return this.db.prepare("SELECT * FROM logs ORDER BY time_ms DESC, id DESC").all().map(toView)
  }

  count(): number {
    return Number(this.db.prepare("SELECT count(*) AS n FROM logs").get()!["n"])
  }
}

const toView = (row: Record<string, unknown>): LogView =>
  logView({
    traceId: row["trace_id"] as string,
    spanId: row["span_id"] as string,
    time: Number(row["time_ms"]),
    severityNumber: Number(row["severity_number"]),
    severityText: row["severity_text"] as string,
    eventName: row["event_name"] as string,
    service: row["service"] as string,
    body: row["body"] as string,
    attributes: row["attributes"] as string
  }, row["in_trace"] === 1 || row["in_trace"] === 1n)
