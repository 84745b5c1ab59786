/**
 * The slow reliability scenarios, at the library's defaults against a receiver in its own process:
 * the 200,000-span burst (zero dropped), and the overload and 30-second stall at full size. They
 * take minutes, so they run as `npm run test:faults` (CI runs it after `npm test`) rather than in
 * `npm test`; the fast versions of the same properties are in test/Reliability.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Finished, libraryWarnings, resultOf, runFixture, showRun, startSink } from "../support/processes.ts"

const protocols = ["http/protobuf", "http/json"] as const

/** Asserts a child process ran to its own end: not killed by the test's time limit. */
const assertExited = (run: Finished, code: number) => {
  assert.isFalse(run.timedOut, `the program had to be killed:\n${showRun(run)}`)
  assert.strictEqual(run.code, code, showRun(run))
}

// -----------------------------------------------------------------------------
// The slow scenarios (npm run test:faults)
// -----------------------------------------------------------------------------

describe("at the library's defaults, against a receiver in its own process", () => {
  it.each(protocols)(
    "a burst of 200,000 spans as fast as the program makes them: none dropped (%s)",
    async (protocol) => {
      const sink = await startSink()
      try {
        const run = await runFixture("workload", {
          env: {
            FIXTURE_WORKLOAD: "burst",
            FIXTURE_SPANS: "200000",
            OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
            OTEL_EXPORTER_OTLP_PROTOCOL: protocol
          },
          timeoutMs: 300_000
        })
        assertExited(run, 0)
        const result = resultOf(run)
        const received = await sink.stats()
        console.log(
          `burst ${protocol}: peak RSS ${Math.round(result.maxRssBytes / 1e6)} MB ` +
            `(${Math.round(result.startRssBytes / 1e6)} MB at start), most queued ${result.maxQueued}, ` +
            `pipeline ${Math.round(result.times.pipelineEnd - result.times.pipelineStart)} ms`
        )
        assert.strictEqual(result.created, 200_000)
        assert.strictEqual(result.stats.droppedSpans, 0)
        assert.strictEqual(result.stats.failedSpans, 0)
        assert.strictEqual(result.stats.exportedSpans, 200_000)
        assert.isAtMost(result.maxQueued, 131_072)
        assert.deepStrictEqual(libraryWarnings(run.stderr), [])
        assert.strictEqual(received.uniqueSpans, 200_000)
        const verified = await sink.verify()
        assert.deepStrictEqual(verified.errors, [])
        assert.strictEqual(verified.skipped, 0)
        assert.strictEqual(verified.spans, 200_000)
      } finally {
        await sink.close()
      }
    },
    600_000
  )

  it(
    "sustained overload, 1,000,000 spans into a stalled collector: drops counted, one warning, queue and memory bounded",
    async () => {
      const sink = await startSink({ behaviour: { mode: "stall", millis: 600_000 }, keepBytes: 0 })
      try {
        const run = await runFixture("workload", {
          env: {
            FIXTURE_WORKLOAD: "burst",
            FIXTURE_SHAPE: "bare",
            FIXTURE_SPANS: "1000000",
            OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
            FIXTURE_SHUTDOWN_TIMEOUT_MS: "1000"
          },
          timeoutMs: 300_000
        })
        assertExited(run, 0)
        const result = resultOf(run)
        console.log(
          `overload: peak RSS ${Math.round(result.maxRssBytes / 1e6)} MB ` +
            `(${Math.round(result.startRssBytes / 1e6)} MB at start), most queued ${result.maxQueued}, ` +
            `dropped ${result.stats.droppedSpans}`
        )
        assert.strictEqual(result.created, 1_000_000)
        assert.isAtMost(result.maxQueued, 131_072)
        assert.isAbove(result.stats.droppedSpans, 0)
        // Every span is counted by the time release returns, those it gave up on included (defect E).
        const { droppedSpans, exportedSpans, failedSpans, queuedSpans, rejectedSpans } = result.stats
        const counted = droppedSpans + exportedSpans + failedSpans + queuedSpans + rejectedSpans
        assert.strictEqual(counted, 1_000_000, JSON.stringify(result.stats))
        const warnings = libraryWarnings(run.stderr)
        assert.strictEqual(warnings.filter((w) => w.includes("export queue is full")).length, 1, showRun(run))
      } finally {
        await sink.close()
      }
    },
    600_000
  )

  it(
    "a collector that stalls 30 s, at the default timeouts: the program completes and exits after the 5 s shutdown budget",
    async () => {
      const sink = await startSink({ behaviour: { mode: "stall", millis: 30_000 } })
      try {
        const run = await runFixture("workload", {
          env: {
            FIXTURE_WORKLOAD: "agent",
            FIXTURE_RUNS: "400",
            FIXTURE_LATENCY_MS: "5",
            OTEL_EXPORTER_OTLP_ENDPOINT: sink.url
          },
          timeoutMs: 120_000
        })
        assertExited(run, 0)
        const result = resultOf(run)
        const warnings = libraryWarnings(run.stderr)
        assert.isTrue(warnings.some((w) => w.includes("no response within 10000 ms")), showRun(run))
        // Spans and the last metrics both stall; each gives up at the same 5 s budget, side by side.
        assert.isTrue(warnings.some((w) => /gave up flushing spans after 5s/.test(w)), showRun(run))
        assert.isTrue(warnings.some((w) => /gave up sending the last metrics after 5s/.test(w)), showRun(run))
        assert.strictEqual(result.stats.exportedSpans, 0)
      } finally {
        await sink.close()
      }
    },
    180_000
  )
})
