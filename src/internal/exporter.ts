/**
 * Counts what happened to exported spans and tells the user, once, when something goes wrong.
 *
 * The OTel SDK reports export failures through `diag`, which is silent unless a diag logger is
 * installed, so a newcomer with no collector running sees nothing and wonders where the traces
 * went. Printing every failure is no better: a stream of stack traces from a tracing library
 * hides the program's own output. So: one line when exports start failing, one when they
 * recover, one the first time the collector rejects spans, and counts for anyone who asks.
 */
import { CollectorError, type Outcome } from "./otlp.ts"
import { LIBRARY_NAME } from "./semconv.ts"

export interface DeliveryStats {
  /** Spans the collector accepted. */
  readonly exportedSpans: number
  /** Spans whose export failed after retries; they are lost. */
  readonly failedSpans: number
  /** Spans the collector received but rejected (OTLP partial success); they are lost. */
  readonly rejectedSpans: number
  /** Export calls that failed. */
  readonly failedExports: number
  /** Spans dropped because the export queue was full (the exporter could not keep up). */
  readonly droppedSpans: number
  /** Spans waiting in the export queue now. */
  readonly queuedSpans: number
  /** Retries performed. */
  readonly retries: number
  /** The last export error's message, while exports are failing. */
  readonly lastError: string | undefined
}

/** Nothing delivered and nothing lost: where there is no export (metrics off, in-memory tests). */
export const noDeliveries: DeliveryStats = {
  exportedSpans: 0,
  failedSpans: 0,
  rejectedSpans: 0,
  failedExports: 0,
  droppedSpans: 0,
  queuedSpans: 0,
  retries: 0,
  lastError: undefined
}

/**
 * The collectors whose failure one reporter has announced. Traces and metrics usually go to the
 * same collector: when it is down, the user hears it once, from whichever signal failed first.
 */
export class Outages {
  private readonly announced = new Set<string>()
  /** True if nobody has announced `origin` yet (and now this caller has). */
  claim(origin: string): boolean {
    if (this.announced.has(origin)) return false
    this.announced.add(origin)
    return true
  }
  release(origin: string): void {
    this.announced.delete(origin)
  }
}

/** What a reporter counts, in its messages. */
export interface Unit {
  readonly one: string
  readonly many: string
  /** Says the program is unaffected: "Tracing goes on". */
  readonly goesOn: string
}

const spanUnit: Unit = { one: "span", many: "spans", goesOn: "Tracing goes on" }

export class DeliveryReporter {
  private exported = 0
  private failed = 0
  private rejected = 0
  private failedExports = 0
  private lastError: string | undefined = undefined
  private failing = false
  private warnedRejection = false
  /** This reporter printed the failure now going on (another signal's reporter may have). */
  private announced = false
  private droppedSpans = 0
  /** Reads the export queue's length; set once the batch processor exists. */
  queued: () => number = () => 0

  private readonly warn: (message: string) => void

  constructor(
    /** Where spans go, with any credentials removed; used only in messages. */
    private readonly target: string,
    warn: (message: string) => void,
    private readonly retries: () => number,
    /** Values never to print (header values: API keys); a collector may echo them back. */
    private readonly secrets: ReadonlyArray<string> = [],
    private readonly unit: Unit = spanUnit,
    private readonly outages: Outages = new Outages()
  ) {
    this.warn = (message) => warn(this.scrub(message))
  }

  /** Replaces every configured secret in `text`. */
  scrub(text: string): string {
    let out = text
    for (const secret of this.secrets) if (secret.length >= 4) out = out.split(secret).join("<redacted>")
    return out
  }

  readonly report = (outcome: Outcome): void => {
    if (outcome._tag === "Delivered") {
      this.exported += outcome.items - outcome.rejected
      this.rejected += outcome.rejected
      if (outcome.rejected > 0 && !this.warnedRejection) {
        this.warnedRejection = true
        this.warn(
          `beluga-o11y: the collector at ${this.target} rejected ${outcome.rejected} of ${this.count(outcome.items)}` +
            (outcome.message !== undefined ? `: ${outcome.message}` : "") +
            ". Further rejections are counted, not printed."
        )
      }
      if (this.failing) {
        this.failing = false
        this.lastError = undefined
        if (this.announced) {
          this.announced = false
          this.outages.release(origin(this.target))
          this.warn(`beluga-o11y: export to ${this.target} recovered (${this.count(this.failed)} lost while it failed)`)
        }
      }
      return
    }
    this.failed += outcome.items
    this.failedExports++
    // An abort at shutdown is not news about the collector: keep the error that led to it.
    if (outcome.quiet === true) return
    this.lastError = this.scrub(describeError(outcome.error))
    if (!this.failing) {
      this.failing = true
      this.announced = this.outages.claim(origin(this.target))
      if (this.announced) {
        this.warn(
          `beluga-o11y: could not export ${this.count(outcome.items)} to ${this.target}: ${this.lastError}. ` +
            (outcome.retryable ? "Is a collector running there? " : "") +
            `${this.unit.goesOn}; further failures are counted, not printed.`
        )
      }
    }
  }

  /** Spans still in the batch queue when release gave up: lost, and counted as failed. */
  readonly abandoned = (count: number): void => {
    this.failed += count
  }

  readonly dropped = (count: number, byBytes = false): void => {
    if (this.droppedSpans === 0) {
      this.warn(
        `beluga-o11y: the export queue is full${byBytes ? " (its bytes: batch.maxQueueBytes)" : ""}, so new spans ` +
          `are being dropped until the exporter to ${this.target} catches up. ` +
          (byBytes
            ? "Raise batch.maxQueueBytes, record less content, or sample"
            : "Raise OTEL_BSP_MAX_QUEUE_SIZE, sample, or make fewer spans") +
          "; Tracing.Delivery counts the drops."
      )
    }
    this.droppedSpans += count
  }

  stats(): DeliveryStats {
    return {
      droppedSpans: this.droppedSpans,
      queuedSpans: this.queued(),
      exportedSpans: this.exported,
      failedSpans: this.failed,
      rejectedSpans: this.rejected,
      failedExports: this.failedExports,
      retries: this.retries(),
      lastError: this.lastError
    }
  }

  private count(n: number): string {
    return `${n} ${n === 1 ? this.unit.one : this.unit.many}`
  }
}

/** Scheme, host and port: what "the same collector" means for {@link Outages}. */
const origin = (url: string): string => {
  try {
    return new URL(url).origin
  } catch {
    return url
  }
}

/**
 * Node's network errors are often an `AggregateError` (one per address tried) or carry a `code`
 * such as ECONNREFUSED; show the part a person can act on.
 */
export const describeError = (error: unknown): string => {
  if (error === undefined) return "unknown error"
  if (error instanceof AggregateError && error.errors.length > 0) return describeError(error.errors[0])
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    const message = error.message !== "" ? error.message : error.name
    return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message
  }
  return String(error)
}

/** A URL fit for messages: no user info, no query string (either may carry a key). */
export const redactUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    parsed.username = ""
    parsed.password = ""
    parsed.search = ""
    return parsed.href
  } catch {
    return "<invalid url>"
  }
}

/**
 * A signal's outcomes into `reporter`, except that an endpoint answering 404 or 405 takes no such
 * signal (Jaeger and Phoenix take traces only): that is said once, in these words, the failure is
 * counted quietly, and `refused()` tells the signal to send nothing more there in this run.
 */
export const refusable = (
  reporter: DeliveryReporter,
  warn: (message: string) => void,
  target: string,
  signal: { readonly name: string; readonly endpointVariable: string; readonly exporterVariable: string }
): { readonly report: (outcome: Outcome) => void; readonly refused: () => boolean } => {
  let refused = false
  return {
    refused: () => refused,
    report: (outcome) => {
      const error = outcome._tag === "Failed" ? outcome.error : undefined
      if (!(error instanceof CollectorError && (error.status === 404 || error.status === 405))) {
        return reporter.report(outcome)
      }
      if (!refused) {
        refused = true
        warn(reporter.scrub(
          `${LIBRARY_NAME}: ${target} takes no ${signal.name} (${error.message}), so none are sent there from now ` +
            `on. Send them to a backend that does with ${signal.endpointVariable}, or turn them off with ` +
            `${signal.exporterVariable}=none.`
        ))
      }
      reporter.report({ ...outcome, quiet: true } as Outcome)
    }
  }
}
