/**
 * Logs end to end: a program that logs inside spans, run as a user runs it, sends its spans to the
 * real Jaeger and its log records to a real VictoriaLogs (OTLP/HTTP, protobuf). Everything asserted
 * comes back through their query APIs: each record's trace id is a trace Jaeger holds and its span
 * id the span it was written in, the structured body arrives as fields, severities and annotations
 * as written, and a chat's content, not captured, is in no record.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { randomUUID } from "node:crypto"
import { exportWarnings, run, showRun } from "./support/child.ts"
import { waitForSpans } from "./support/jaeger.ts"
import { victoriaLogsOtlpUrl, waitForLogs } from "./support/victorialogs.ts"

describe("logs in VictoriaLogs, traces in Jaeger", () => {
  it.live.each(["http/protobuf", "http/json"] as const)(
    "spans over %s: every record belongs to a span Jaeger holds, bodies structured",
    (protocol) =>
      Effect.promise(async () => {
        // A field of this run only, so earlier runs in the same store do not count.
        const id = `e2e-${randomUUID().slice(0, 8)}`
        const finished = await run("npx", ["tsx", "test/e2e/fixtures/logging.ts"], {
          env: {
            FIXTURE_RUN: id,
            OTEL_SERVICE_NAME: "beluga-logs-e2e",
            OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
            // VictoriaLogs takes protobuf only; the spans go to Jaeger in either encoding.
            OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: "http/protobuf",
            OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: victoriaLogsOtlpUrl,
            OTEL_METRICS_EXPORTER: "none"
          }
        })
        assert.strictEqual(finished.code, 0, showRun(finished))
        assert.deepStrictEqual(exportWarnings(finished.stderr), [], showRun(finished))
        const traceId = /^TRACE ([0-9a-f]{32})$/m.exec(finished.stdout)?.[1]
        assert.isDefined(traceId, showRun(finished))

        const spans = await waitForSpans(traceId!, 3)
        const byName = new Map(spans.map((s) => [s.name, s]))
        const checkout = byName.get("checkout")
        const charge = byName.get("charge")
        assert.isDefined(checkout, spans.map((s) => s.name).join(", "))
        assert.isDefined(charge)

        const logs = await waitForLogs(`"run.id":${JSON.stringify(id)}`, 3)
        assert.lengthOf(logs, 3)
        for (const log of logs) {
          assert.strictEqual(log["trace_id"], traceId)
          assert.include(spans.map((s) => s.spanId), log["span_id"])
          assert.strictEqual(log["service.name"], "beluga-logs-e2e")
          assert.strictEqual(log["scope.name"], "beluga-o11y")
          assert.isDefined(log["effect.fiber.id"])
          assert.isEmpty(Object.keys(log).filter((key) => key.startsWith("gen_ai.")), "no content, no GenAI fields")
          assert.notInclude(JSON.stringify(log), "a secret prompt")
        }
        const [order, declined, shipped] = logs as [
          Record<string, string>,
          Record<string, string>,
          Record<string, string>
        ]
        // A key-value-list body: VictoriaLogs keeps its fields, each queryable.
        assert.deepInclude(order, {
          "order.id": id,
          "order.items": "3",
          "order.total": "12.5",
          "order.express": "true",
          "order.tags": "[\"gift\",\"fragile\"]",
          severity_number: "9",
          severity_text: "INFO",
          span_id: checkout!.spanId
        })
        assert.deepInclude(declined, {
          _msg: "card declined, retrying",
          severity_number: "13",
          severity_text: "WARN",
          span_id: charge!.spanId
        })
        assert.isDefined(declined["effect.log_span.charge"])
        assert.deepInclude(shipped, { _msg: "order shipped", span_id: checkout!.spanId })
        const fields = await waitForLogs(`"order.id":${JSON.stringify(id)} "order.items":3`, 1)
        assert.lengthOf(fields, 1, "the body's fields are queryable")
      })
  )
})
