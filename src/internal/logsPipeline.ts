/**
 * The logs side of tracing: OTLP log records, batched and sent over the transport the spans use,
 * beside spans and metrics in the same layer.
 *
 * Two things write records. `Effect.log*` lines, through a logger added to the program's own (its
 * loggers stay): each line becomes a record with the current span's trace and span ids, Effect's
 * annotations and log spans as attributes, at or above Effect's minimum log level (Effect filters
 * before any logger runs). And the library itself, for events such as GenAI content: code inside
 * the layer reads {@link CurrentLogs} and calls `emit(record)`; it is `undefined` when logs are
 * off, so a caller that finds none skips building the record at all.
 *
 * Delivery follows the spans' rules: at most `maxQueueSize` records (and `maxQueueBytes`) wait and new
 * ones past that are dropped and counted (said once); a batch leaves at `maxExportBatchSize` records,
 * at `maxExportBatchBytes`, or `scheduleDelayMillis` after the first; an endpoint that is down is
 * said once (shared with the other signals through `Outages`); one that answers 404 or 405 takes no
 * logs, which is said once and nothing more is sent there; release sends what is left within the
 * shutdown bound.
 */
import * as Resource from "@effect/opentelemetry/Resource"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import type * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as References from "effect/References"
import type { LogsSettings } from "./config.ts"
import { DeliveryReporter, type DeliveryStats, type Outages, redactUrl, refusable } from "./exporter.ts"
import { OtlpHttpExporter } from "./otlp.ts"
import { type LogRecordInput, logsCodec, logsEncoder, type LogsOrigin } from "./otlpLogs.ts"
import * as N from "./semconv.ts"
import { bounded, type Policy } from "./shutdown.ts"
import { Batcher, type BatchExporter, type EncodedBatch } from "./spanBatcher.ts"
import { version } from "./version.ts"
import type { RunReport } from "./viewer/runReport.ts"

export type { LogRecordInput }

/** Where log records go while the layer runs. */
export interface LogSink {
  readonly emit: (record: LogRecordInput) => void
}

/** The logs sink of the current tracing layer; `undefined` when the logs signal is off. */
export const CurrentLogs = Context.Reference<LogSink | undefined>("beluga-o11y/internal/logs/CurrentLogs", {
  defaultValue: () => undefined
})

/** The logs' OTLP/HTTP export, with its delivery counts (`exportedSpans` counts records). */
export interface LogsExport {
  readonly settings: LogsSettings
  readonly stats: () => DeliveryStats
  /** Sends every record emitted so far; resolves once the collector answered for them. */
  readonly flush: () => Promise<void>
  /** Records queued or on the wire, not yet answered for. */
  readonly pending: () => number
  /** Starts the batcher for records of `origin` (once the layer knows the resource). */
  readonly start: (origin: LogsOrigin) => LogSink
  readonly shutdown: () => Promise<void>
  /** Ends exports in flight and drops the queue; returns the records lost. */
  readonly abort: () => number
}

const logUnit = { one: "log record", many: "log records", goesOn: "The program goes on" }

/** The logs export to `settings.url`, failures said once through `warn` (a collector down once per `outages`). */
export const otlp = (
  settings: LogsSettings,
  warn: (message: string) => void,
  outages: Outages,
  /** The run's report, which keeps every batch, sent or not. */
  report?: RunReport
): LogsExport => {
  const headers = Redacted.value(settings.headers)
  const target = redactUrl(settings.url)
  const reporter: DeliveryReporter = new DeliveryReporter(
    target,
    warn,
    () => transport.retries,
    Object.values(headers),
    logUnit,
    outages
  )
  // Jaeger and Phoenix take traces only: their OTLP endpoint answers 404 or 405 to logs. That is
  // said once, in those words, and no more logs are sent there in this run.
  const { report: outcome, refused } = refusable(reporter, warn, target, {
    name: "logs",
    endpointVariable: "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    exporterVariable: "OTEL_LOGS_EXPORTER"
  })
  const transport: OtlpHttpExporter<EncodedBatch> = new OtlpHttpExporter(
    {
      url: settings.url,
      protocol: settings.protocol,
      headers,
      compression: settings.compression,
      timeoutMillis: settings.timeoutMillis
    },
    outcome,
    logsCodec
  )
  let dropped = 0
  const onDrop = (_count: number, byBytes: boolean) => {
    if (dropped++ === 0) {
      warn(
        `${N.LIBRARY_NAME}: the log queue is full${byBytes ? " (its bytes: logs.batch.maxQueueBytes)" : ""}, so new ` +
          `log records are being dropped until the exporter to ${target} catches up. Raise ` +
          `${byBytes ? "logs.batch.maxQueueBytes" : "OTEL_BLRP_MAX_QUEUE_SIZE"} or log less; Tracing.Delivery ` +
          `counts the drops.`
      )
    }
  }
  // Once the endpoint has refused logs, what is still queued is let go rather than sent there (the
  // report still keeps it).
  const exporter: BatchExporter = {
    export: (batch, done) => {
      report?.addLogs(batch, settings.protocol)
      if (refused()) done({ code: 0 })
      else transport.export(batch, done)
    },
    forceFlush: () => transport.forceFlush(),
    shutdown: () => transport.shutdown()
  }
  let batcher: Batcher<LogRecordInput> | undefined
  reporter.queued = () => batcher?.queued() ?? 0
  return {
    settings,
    stats: () => ({ ...reporter.stats(), droppedSpans: dropped }),
    flush: () => batcher?.forceFlush() ?? Promise.resolve(),
    pending: () => (batcher?.queued() ?? 0) + transport.unsettledItems(),
    start: (origin) => {
      const started = new Batcher(logsEncoder(settings.protocol, origin), exporter, settings.batch, onDrop)
      batcher = started
      return {
        emit: (record) => {
          if (report !== undefined || !refused()) started.add(record)
        }
      }
    },
    shutdown: () => {
      transport.beginShutdown()
      return batcher?.shutdown() ?? transport.shutdown()
    },
    abort: () => {
      const queued = batcher?.abandon() ?? 0
      reporter.abandoned(queued)
      return transport.abort() + queued
    }
  }
}

/**
 * The sink as {@link CurrentLogs}, and Effect's loggers: the program's own, plus one that turns
 * each line into a record when `effectLogs`, less Effect's tracer logger (which writes each line as
 * a span event) unless `spanEvents`. Without an export only the span events' switch applies.
 */
export const layer = (options: {
  readonly export?: LogsExport | undefined
  readonly effectLogs: boolean
  readonly spanEvents: boolean
  readonly shutdown: Policy
}): Layer.Layer<never, never, Resource.Resource> => {
  const pipeline = options.export
  if (pipeline === undefined && options.spanEvents) return Layer.empty
  return Layer.effectContext(Effect.gen(function*() {
    const loggers = new Set(yield* Logger.CurrentLoggers)
    if (!options.spanEvents) loggers.delete(Logger.tracerLogger)
    if (pipeline === undefined) return Context.make(Logger.CurrentLoggers, loggers)
    const resource = yield* Resource.Resource
    const sink = pipeline.start({ resource: resource.attributes, scope: { name: N.LIBRARY_NAME, version } })
    yield* Effect.addFinalizer(() =>
      bounded(pipeline.shutdown, options.shutdown, {
        doing: "sending the last log records",
        unit: "log record",
        where: "in flight or queued",
        abort: pipeline.abort,
        stats: pipeline.stats
      })
    )
    if (options.effectLogs) loggers.add(effectLogger(sink))
    return Context.make(Logger.CurrentLoggers, loggers).pipe(Context.add(CurrentLogs, sink))
  }))
}

// internal

/**
 * Effect's levels on the log data model's severity numbers, and the data model's short names as
 * the severity text (Effect's `Warn` is `WARN`, as the span events' `effect.log.level` has it).
 */
const severities: Record<LogLevel.LogLevel, readonly [number, string]> = {
  All: [1, "TRACE"],
  Trace: [1, "TRACE"],
  Debug: [5, "DEBUG"],
  Info: [9, "INFO"],
  Warn: [13, "WARN"],
  Error: [17, "ERROR"],
  Fatal: [21, "FATAL"],
  None: [0, ""]
}

/** Each `Effect.log*` line as a record of the span it was written in. */
const effectLogger = (sink: LogSink): Logger.Logger<unknown, void> =>
  Logger.make(({ cause, date, fiber, logLevel, message }) => {
    const attributes: Record<string, unknown> = { ...fiber.getRef(References.CurrentLogAnnotations) }
    attributes[N.ATTR_EFFECT_FIBER_ID] = fiber.id
    const millis = date.getTime()
    for (const [label, start] of fiber.getRef(References.CurrentLogSpans)) {
      attributes[`${N.ATTR_EFFECT_LOG_SPAN_PREFIX}${label}`] = millis - start
    }
    const errors = cause.reasons.length > 0 ? Cause.prettyErrors(cause, { includeCauseInStack: true }) : []
    if (errors.length > 0) {
      attributes[N.ATTR_EXCEPTION_TYPE] = errors[0]!.name
      attributes[N.ATTR_EXCEPTION_MESSAGE] = errors[0]!.message
      attributes[N.ATTR_EXCEPTION_STACKTRACE] = errors.map((error) => error.stack).join("\n")
    }
    const [severityNumber, severityText] = severities[logLevel]
    const span = fiber.cache.span
    sink.emit({
      time: date,
      severityNumber,
      severityText,
      body: Array.isArray(message) && message.length === 1 ? message[0] : message,
      attributes,
      span
    })
  })
