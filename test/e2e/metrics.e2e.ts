/**
 * Metrics end to end: the agent example, run as a user runs it, sends its spans to the real Jaeger
 * and its metrics to a real Prometheus (OTLP receiver, exemplar storage on). Everything asserted
 * comes back through their query APIs: PromQL sums against the spans Jaeger holds, and exemplars
 * that lead from a latency bucket to a trace Jaeger has.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { randomUUID } from "node:crypto"
import { exportWarnings, printedSpanNames, printedTraces, runExample, showRun } from "./support/child.ts"
import { getTrace, type Span, waitForSpans } from "./support/jaeger.ts"
import { exemplars, prometheusOtlpUrl, query, waitForQuery } from "./support/prometheus.ts"

const intAttr = (span: Span, key: string): number => {
  const value = span.attributes[key]
  assert.isDefined(value, `${key} on ${span.name}`)
  assert.property(value, "intValue", `${key} is an integer on the wire`)
  return Number((value as { intValue: string }).intValue)
}
const stringAttr = (span: Span, key: string): string | undefined =>
  (span.attributes[key] as { stringValue: string } | undefined)?.stringValue

describe("metrics in Prometheus, traces in Jaeger", () => {
  it.live("the agent example: token sums and call counts match the spans; exemplars lead to Jaeger's traces", () =>
    Effect.promise(async () => {
      // A label of this run only, so earlier runs in the same Prometheus do not count.
      const run = `e2e-${randomUUID().slice(0, 8)}`
      const selector = `deployment_environment_name="${run}"`
      const finished = await runExample("examples/agent-workflow.ts", {
        env: {
          OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: prometheusOtlpUrl,
          OTEL_RESOURCE_ATTRIBUTES: `deployment.environment.name=${run}`
        }
      })
      assert.strictEqual(finished.code, 0, showRun(finished))
      assert.deepStrictEqual(exportWarnings(finished.stderr), [], showRun(finished))
      assert.include(finished.stdout, "metrics (p50/p95 estimated from histogram buckets)", "the summary at exit")
      const [trace] = printedTraces(finished.stdout)
      assert.isDefined(trace)
      const spans = await waitForSpans(trace!.traceId, printedSpanNames(finished.stdout, trace!.traceId).length)
      const chats = spans.filter((s) => stringAttr(s, "gen_ai.operation.name") === "chat")
      const tools = spans.filter((s) => stringAttr(s, "gen_ai.operation.name") === "execute_tool")
      assert.isAtLeast(chats.length, 2)
      assert.isAtLeast(tools.length, 1)

      // Tokens per model and type: the histogram sums equal the spans' usage attributes.
      for (const [type, key] of [["input", "gen_ai.usage.input_tokens"], ["output", "gen_ai.usage.output_tokens"]]) {
        const expected = new Map<string, number>()
        for (const span of chats) {
          const model = stringAttr(span, "gen_ai.request.model")
          expected.set(model!, (expected.get(model!) ?? 0) + intAttr(span, key!))
        }
        const samples = await waitForQuery(
          `sum by (gen_ai_request_model) (gen_ai_client_token_usage_sum{${selector}, gen_ai_token_type="${type}"})`,
          (s) => s.length > 0
        )
        assert.deepStrictEqual(
          new Map(samples.map((s) => [s.metric["gen_ai_request_model"]!, s.value])),
          expected,
          `${type} tokens per model`
        )
      }

      // One duration measurement per chat span and per tool span.
      const chatCount = await query(
        `sum(gen_ai_client_operation_duration_seconds_count{${selector}, gen_ai_operation_name="chat"})`
      )
      assert.strictEqual(chatCount[0]?.value, chats.length)
      const toolCount = await query(`sum(gen_ai_execute_tool_duration_seconds_count{${selector}})`)
      assert.strictEqual(toolCount[0]?.value, tools.length)
      // A failed tool call is a series of its own, with error.type.
      const failedTools = tools.filter((s) => s.statusCode === 2).length
      const failedSeries = await query(
        `sum(gen_ai_execute_tool_duration_seconds_count{${selector}, error_type!=""})`
      )
      assert.strictEqual(failedSeries[0]?.value ?? 0, failedTools)

      // p95 latency per model, the README's query (without rate(): one run is a single sample).
      const p95 = await query(
        `histogram_quantile(0.95, sum by (le, gen_ai_request_model) (gen_ai_client_operation_duration_seconds_bucket{${selector}, gen_ai_operation_name="chat"}))`
      )
      const slowest = Math.max(...chats.map((s) => Number(s.end - s.start) / 1e9))
      assert.strictEqual(p95.length, 1)
      assert.isAbove(p95[0]!.value, 0)
      // The estimate lies in the bucket of the slowest call or below it.
      assert.isAtMost(p95[0]!.value, 2 * slowest + 0.01)

      // Exemplars: each points at a span of a trace Jaeger holds, and this run's trace is among them.
      const series = await exemplars(`gen_ai_client_operation_duration_seconds_bucket{${selector}}`)
      const found: Array<Record<string, string>> = series.flatMap((s) => s.exemplars.map((e) => e.labels))
      assert.isAtLeast(found.length, 1, "exemplars stored")
      const spanIds = new Set(spans.map((s) => s.spanId))
      for (const exemplar of found) {
        assert.match(exemplar["trace_id"] ?? "", /^[0-9a-f]{32}$/)
        const held = exemplar["trace_id"] === trace!.traceId ? spans : await getTrace(exemplar["trace_id"]!)
        assert.isAbove(held.length, 0, `Jaeger holds trace ${exemplar["trace_id"]}`)
        if (exemplar["trace_id"] === trace!.traceId) assert.isTrue(spanIds.has(exemplar["span_id"]!))
      }
      assert.include(found.map((e) => e["trace_id"]), trace!.traceId)
    }))
})
