/**
 * No span is lost when a program ends right after a burst of spans: a separate process
 * (`fixtures/shutdown-burst.ts`, under `NodeRuntime.runMain`) ends immediately after its last
 * span, and every one of its spans must be in Jaeger, counted trace by trace.
 */
import { assert, describe, it } from "@effect/vitest"
import { exportWarnings, printedTraces, run, showRun } from "./support/child.ts"
import { explainTrace, waitForSpans } from "./support/jaeger.ts"

const traces = 4

const cases = [
  {
    title: "2000 spans, delivered by the shutdown flush alone",
    spans: 2000,
    // Fewer spans than one export batch (4096) never trigger an export by themselves, and with a
    // one-minute delay (the default is 1 s) no timer fires either: only the flush can deliver them.
    env: { OTEL_BSP_SCHEDULE_DELAY: "60000" }
  },
  {
    title: "20000 spans with default settings: batches in flight at exit finish, the rest is flushed",
    spans: 20_000,
    env: {}
  }
] as const

describe("shutdown", () => {
  for (const { env, spans, title } of cases) {
    it(`a program that ends right after ${title}`, async () => {
      const burst = await run("npx", ["tsx", "test/e2e/fixtures/shutdown-burst.ts"], {
        env: { ...env, BURST_SPANS: String(spans), BURST_TRACES: String(traces) }
      })
      assert.strictEqual(burst.code, 0, showRun(burst))
      assert.deepStrictEqual(exportWarnings(burst.stderr), [], `the export reported problems:\n${showRun(burst)}`)
      const traceIds = printedTraces(burst.stdout).map((t) => t.traceId)
      assert.strictEqual(traceIds.length, traces, showRun(burst))

      const perTrace = spans / traces
      let found = 0
      for (const [t, traceId] of traceIds.entries()) {
        const stored = await waitForSpans(traceId, perTrace)
        explainTrace(stored, () => {
          assert.strictEqual(stored.length, perTrace, `spans of trace ${traceId}`)
          assert.strictEqual(stored.filter((s) => s.name === "burst").length, 1, "one root")
          // Every child, once: its burst.index values are exactly this trace's range.
          const indexes = stored.flatMap((s) => {
            const value = s.attributes["burst.index"]
            return value !== undefined && "intValue" in value ? [Number(value.intValue)] : []
          }).toSorted((a, b) => a - b)
          const expected = Array.from({ length: perTrace - 1 }, (_, i) => t * perTrace + i + 1)
          assert.deepStrictEqual(indexes, expected, `burst.index values of trace ${traceId}`)
        })
        found += stored.length
      }
      assert.strictEqual(found, spans)

      const flush = /^shutdown (\d+)$/m.exec(burst.stdout)?.[1]
      console.log(`${spans} spans in Jaeger; the program exited ${flush} ms after its last span`)
    })
  }
})
