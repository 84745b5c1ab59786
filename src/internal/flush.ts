/**
 * What a flush came to (`Tracing.flush`, `Serverless`), and the result of one that had nothing
 * to do: the same shape everywhere a flush is answered.
 */

/**
 * What one `Tracing.flush` came to, for spans, metric data points or log records.
 */
export interface FlushCounts {
  /** Accepted by the collector while the flush ran. */
  readonly delivered: number
  /** Lost while the flush ran: failed after retries, rejected by the collector, or dropped from a full queue. */
  readonly lost: number
  /** Still queued or on the wire when the flush returned: it ran out of time. They go on in the background. */
  readonly pending: number
}

/**
 * What `Tracing.flush` came to.
 */
export interface FlushResult {
  /** Everything that had ended was answered for within the timeout (`pending` is 0 on every side). */
  readonly complete: boolean
  /** The tracing layer had been released: its last spans went out then, and there was nothing to do. */
  readonly released: boolean
  readonly spans: FlushCounts
  readonly metricPoints: FlushCounts
  readonly logRecords: FlushCounts
}

const nothing: FlushCounts = { delivered: 0, lost: 0, pending: 0 }

/** A flush with nothing to send: in memory (`complete`), or after the layer's release (`released` too). */
export const nothingFlushed = (released: boolean): FlushResult => ({
  complete: true,
  released,
  spans: nothing,
  metricPoints: nothing,
  logRecords: nothing
})
