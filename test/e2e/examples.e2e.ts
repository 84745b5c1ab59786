/**
 * The examples, run the way a user runs them (`npx tsx examples/<name>.ts`, default endpoint
 * `http://localhost:4318`), and their traces read back from a real Jaeger.
 *
 * Each example prints its trace tree, headed `trace <id> · beluga-agent`; that id is looked up in
 * Jaeger, and everything asserted below comes from what Jaeger returned: the resource, the tree
 * (through `parentSpanId`), span kinds, statuses, events, and the wire type of every attribute
 * value (`intValue` vs `doubleValue` vs `arrayValue`).
 */
import { assert, describe, it } from "@effect/vitest"
import { exportWarnings, type Finished, printedSpanNames, printedTraces, runExample, showRun } from "./support/child.ts"
import {
  type AnyValue,
  explainTrace,
  Kind,
  outline,
  overlap,
  services,
  type Span,
  StatusCode,
  traceIdsOf,
  waitForSpans
} from "./support/jaeger.ts"
import { startProxy } from "./support/proxy.ts"

const service = "beluga-agent"

/**
 * Runs an example and returns the one trace it printed, as stored in Jaeger once all `spanCount`
 * spans are there. Asserts along the way that the run succeeded without export warnings, that it
 * printed exactly one trace, and that this trace is the only one the run added to `beluga-agent`.
 */
const runAndFetch = async (
  example: string,
  spanCount: number,
  env: Record<string, string> = {}
): Promise<{ readonly run: Finished; readonly traceId: string; readonly spans: Array<Span> }> => {
  const before = await traceIdsOf(service)
  const run = await runExample(example, { env })
  assert.strictEqual(run.code, 0, `the example failed:\n${showRun(run)}`)
  assert.deepStrictEqual(exportWarnings(run.stderr), [], `the export reported problems:\n${showRun(run)}`)

  const printed = printedTraces(run.stdout)
  assert.strictEqual(printed.length, 1, `expected one printed trace tree:\n${showRun(run)}`)
  const { traceId, service: printedService } = printed[0]!
  assert.strictEqual(printedService, service)

  const spans = await waitForSpans(traceId, spanCount)
  const added = [...await traceIdsOf(service)].filter((id) => !before.has(id))
  assert.deepStrictEqual(added, [traceId], `the run should add exactly its own trace to service ${service}`)
  assert.include(await services(), service)
  return { run, traceId, spans }
}

// -----------------------------------------------------------------------------
// Assertion helpers
// -----------------------------------------------------------------------------

const byStart = (a: Span, b: Span) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0)

/** The spans called `name`, in start order. */
const named = (spans: ReadonlyArray<Span>, name: string) => spans.filter((s) => s.name === name).toSorted(byStart)

const theOne = (spans: ReadonlyArray<Span>, name: string): Span => {
  const found = named(spans, name)
  assert.strictEqual(found.length, 1, `expected exactly one span "${name}"`)
  return found[0]!
}

const parentOf = (spans: ReadonlyArray<Span>, span: Span): Span | undefined =>
  spans.find((s) => s.spanId === span.parentSpanId)

/** An attribute's value exactly as it came over the wire. */
const assertAttr = (span: Span, key: string, expected: AnyValue) =>
  assert.deepStrictEqual(span.attributes[key], expected, `${key} on "${span.name}"`)

/** An integer attribute (OTLP `intValue`) greater than zero. */
const assertPositiveInt = (span: Span, key: string) => {
  const value = span.attributes[key]
  assert.isTrue(
    value !== undefined && "intValue" in value && /^[1-9][0-9]*$/.test(value.intValue),
    `${key} on "${span.name}" should be a positive intValue, got ${JSON.stringify(value)}`
  )
}

const assertResource = (spans: ReadonlyArray<Span>) => {
  for (const span of spans) {
    assert.deepStrictEqual(span.resource["service.name"], { stringValue: service }, `service.name of "${span.name}"`)
    assert.deepStrictEqual(
      span.resource["service.version"],
      { stringValue: "1.0.0" },
      `service.version of "${span.name}"`
    )
  }
}

/** The terminal tree the example printed names the same spans Jaeger stored. */
const assertPrintedTreeMatches = (run: Finished, traceId: string, spans: ReadonlyArray<Span>) =>
  assert.deepStrictEqual(
    printedSpanNames(run.stdout, traceId).toSorted(),
    spans.map((s) => s.name).toSorted(),
    `the printed tree and Jaeger disagree:\n${showRun(run)}`
  )

const assertNoErrors = (spans: ReadonlyArray<Span>) => {
  for (const span of spans) {
    assert.notStrictEqual(span.statusCode, StatusCode.error, `"${span.name}" should not be ERROR`)
  }
}

// -----------------------------------------------------------------------------
// The agent-workflow trace (also used by the environment-only test)
// -----------------------------------------------------------------------------

const agentWorkflowOutline = `
agent-workflow (INTERNAL)
  chat sim-gpt-4o (CLIENT)
  chat sim-gpt-4o (CLIENT)
  execute_tool get_weather (INTERNAL)
    weather-api GET /current (CLIENT)
  execute_tool get_weather (INTERNAL)
    weather-api GET /current (CLIENT)
  execute_tool search_trains (INTERNAL)
  retrieval knowledge-base (CLIENT)
`.trim()
const agentWorkflowSpanCount = agentWorkflowOutline.split("\n").length

/** Everything about the agent-workflow trace beyond its shape (`agentWorkflowOutline`). */
const assertAgentWorkflow = (spans: ReadonlyArray<Span>) =>
  explainTrace(spans, () => {
    assertResource(spans)

    const root = theOne(spans, "agent-workflow")
    assert.strictEqual(root.parentSpanId, undefined)
    assertAttr(root, "gen_ai.agent.name", { stringValue: "travel-assistant" })
    assert.strictEqual(root.statusCode, StatusCode.unset, "the run recovered, so it is not an error")

    const retrieval = theOne(spans, "retrieval knowledge-base")
    assertAttr(retrieval, "gen_ai.operation.name", { stringValue: "retrieval" })
    assertAttr(retrieval, "gen_ai.provider.name", { stringValue: "simulated" })
    assertAttr(retrieval, "gen_ai.data_source.id", { stringValue: "knowledge-base" })
    assertAttr(retrieval, "gen_ai.request.top_k", { intValue: "2" })

    const chats = named(spans, "chat sim-gpt-4o")
    for (const chat of chats) {
      assert.strictEqual(chat.kind, Kind.client)
      assertAttr(chat, "gen_ai.operation.name", { stringValue: "chat" })
      assertAttr(chat, "gen_ai.provider.name", { stringValue: "simulated" })
      assertAttr(chat, "gen_ai.request.model", { stringValue: "sim-gpt-4o" })
      assertAttr(chat, "gen_ai.request.temperature", { doubleValue: 0.2 })
      assertAttr(chat, "gen_ai.request.max_tokens", { intValue: "512" })
      assertAttr(chat, "gen_ai.response.model", { stringValue: "sim-gpt-4o-2024-08-06" })
      assertPositiveInt(chat, "gen_ai.usage.input_tokens")
      assertPositiveInt(chat, "gen_ai.usage.output_tokens")
    }
    // The first call asks for the tools, the second answers from their results.
    assertAttr(chats[0]!, "gen_ai.response.finish_reasons", { arrayValue: { values: [{ stringValue: "tool_call" }] } })
    assertAttr(chats[1]!, "gen_ai.response.finish_reasons", { arrayValue: { values: [{ stringValue: "stop" }] } })

    // get_weather: attempt 1 fails with the API's 503, the retry succeeds; both are visible.
    const [failed, retried] = named(spans, "execute_tool get_weather")
    for (const [attempt, tool] of [[1, failed!], [2, retried!]] as const) {
      assertAttr(tool, "gen_ai.operation.name", { stringValue: "execute_tool" })
      assertAttr(tool, "gen_ai.tool.name", { stringValue: "get_weather" })
      assertAttr(tool, "beluga.attempt", { intValue: String(attempt) })
      const api = theOne(spans.filter((s) => s.parentSpanId === tool.spanId), "weather-api GET /current")
      assertAttr(api, "beluga.attempt", { intValue: String(attempt) })
      assertAttr(api, "http.request.method", { stringValue: "GET" })
    }
    assert.strictEqual(failed!.statusCode, StatusCode.error, "attempt 1 is ERROR")
    assertAttr(failed!, "error.type", { stringValue: "503" })
    assert.notStrictEqual(retried!.statusCode, StatusCode.error, "attempt 2 succeeded")
    assert.strictEqual(retried!.attributes["error.type"], undefined, "attempt 2 has no error.type")

    const trains = theOne(spans, "execute_tool search_trains")
    assertAttr(trains, "gen_ai.operation.name", { stringValue: "execute_tool" })
    assertAttr(trains, "gen_ai.tool.name", { stringValue: "search_trains" })
    assert.notStrictEqual(trains.statusCode, StatusCode.error)

    // The tool calls ran in parallel: siblings that overlap in time. The retry follows its failure.
    assert.strictEqual(parentOf(spans, trains), root)
    assert.isTrue(overlap(trains, failed!), "search_trains and get_weather (attempt 1) should overlap in time")
    assert.isTrue(retried!.start >= failed!.end, "the retry starts after the failed attempt ended")

    // The run's order: retrieve, plan, tools, answer.
    const tools = [failed!, retried!, trains]
    assert.isTrue(retrieval.end <= chats[0]!.start, "retrieval ends before the first chat")
    assert.isTrue(tools.every((t) => chats[0]!.end <= t.start), "the tools start after the first chat")
    assert.isTrue(tools.every((t) => t.end <= chats[1]!.start), "the second chat starts after the tools")
  })

// -----------------------------------------------------------------------------
// Tests
// -----------------------------------------------------------------------------

describe("examples, exported to Jaeger on the default endpoint", () => {
  it("quickstart: one trace, agent-workflow → process-document → parse/embed, with a typed event", async () => {
    const { run, spans, traceId } = await runAndFetch("examples/quickstart.ts", 5)
    assertPrintedTreeMatches(run, traceId, spans)
    explainTrace(spans, () => {
      assertResource(spans)
      assertNoErrors(spans)
      assert.strictEqual(
        outline(spans),
        `
agent-workflow (INTERNAL)
  process-document (INTERNAL)
    embed-document (INTERNAL)
      embeddings sim-embedding-3-small (CLIENT)
    parse-document (INTERNAL)
`.trim()
      )

      assertAttr(theOne(spans, "process-document"), "document.id", { stringValue: "doc-1" })
      assertPositiveInt(theOne(spans, "parse-document"), "document.sentences")

      const embed = theOne(spans, "embed-document")
      const events = embed.events.filter((e) => e.name === "embedding-complete")
      assert.strictEqual(events.length, 1, "one embedding-complete event on embed-document")
      assert.deepStrictEqual(events[0]!.attributes["dimensions"], { intValue: "1536" }, "dimensions is an int")

      const embeddings = theOne(spans, "embeddings sim-embedding-3-small")
      assertAttr(embeddings, "gen_ai.operation.name", { stringValue: "embeddings" })
      assertAttr(embeddings, "gen_ai.provider.name", { stringValue: "simulated" })
      assertAttr(embeddings, "gen_ai.request.model", { stringValue: "sim-embedding-3-small" })
      assertAttr(embeddings, "gen_ai.embeddings.dimension.count", { intValue: "1536" })
      assertPositiveInt(embeddings, "gen_ai.usage.input_tokens")
    })
  })

  it("agent-workflow: one trace with retrieval, two chats, parallel tools and a visible retry", async () => {
    const { run, spans, traceId } = await runAndFetch("examples/agent-workflow.ts", agentWorkflowSpanCount)
    assertPrintedTreeMatches(run, traceId, spans)
    // The whole tree: names, parent links (parentSpanId), kinds, and no span outside it.
    explainTrace(spans, () => assert.strictEqual(outline(spans), agentWorkflowOutline))
    assertAgentWorkflow(spans)
  })

  it("agent-workflow reaches another OTLP endpoint, over JSON with gzip, by environment variables alone", async () => {
    // "Another backend": a recording proxy on its own port, in front of the same Jaeger.
    const proxy = await startProxy()
    try {
      const { spans } = await runAndFetch("examples/agent-workflow.ts", agentWorkflowSpanCount, {
        OTEL_EXPORTER_OTLP_ENDPOINT: proxy.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_COMPRESSION: "gzip",
        OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=e2e"
      })
      assert.isAbove(proxy.requests.length, 0, "the export should go to OTEL_EXPORTER_OTLP_ENDPOINT")
      assert.includeMembers(proxy.requests.map((r) => r.path), ["/v1/traces", "/v1/metrics", "/v1/logs"])
      for (const request of proxy.requests) {
        // Spans, metrics and the example's log lines, all through the proxy to Jaeger, which stores the
        // spans, serves the metrics and drops the logs.
        assert.include(["/v1/traces", "/v1/metrics", "/v1/logs"], request.path)
        assert.strictEqual(request.contentType, "application/json")
        assert.strictEqual(request.contentEncoding, "gzip")
        assert.strictEqual(request.status, 200, "Jaeger accepted the export")
      }
      explainTrace(spans, () => assert.strictEqual(outline(spans), agentWorkflowOutline))
      assertAgentWorkflow(spans)
      assert.deepStrictEqual(spans[0]!.resource["deployment.environment.name"], { stringValue: "e2e" })
    } finally {
      await proxy.close()
    }
  })

  it("streaming: two chat spans with a double TTFT; the one stopped early is marked abandoned, not an error", async () => {
    const { run, spans, traceId } = await runAndFetch("examples/streaming.ts", 3)
    assertPrintedTreeMatches(run, traceId, spans)
    explainTrace(spans, () => {
      assertNoErrors(spans)
      assert.strictEqual(
        outline(spans),
        `
agent-workflow (INTERNAL)
  chat sim-gpt-4o (CLIENT)
  chat sim-gpt-4o (CLIENT)
`.trim()
      )
      const [whole, stopped] = named(spans, "chat sim-gpt-4o")
      for (const chat of [whole!, stopped!]) {
        assertAttr(chat, "gen_ai.request.stream", { boolValue: true })
        const value = chat.attributes["gen_ai.response.time_to_first_chunk"]
        const ttft = value !== undefined && "doubleValue" in value ? value.doubleValue : undefined
        assert.isNumber(ttft, "TTFT is sent as a double")
        assert.isAbove(ttft!, 0)
        assert.isAtMost(ttft! * 1e9, Number(chat.end - chat.start), "TTFT within the span")
      }
      assertAttr(whole!, "gen_ai.response.finish_reasons", { arrayValue: { values: [{ stringValue: "stop" }] } })
      assertPositiveInt(whole!, "gen_ai.usage.output_tokens")
      assert.isUndefined(whole!.attributes["beluga.stream.abandoned"])
      assertAttr(stopped!, "beluga.stream.abandoned", { boolValue: true })
      assertAttr(stopped!, "beluga.stream.content_chunks", { intValue: "5" })
      assert.isUndefined(stopped!.attributes["gen_ai.response.finish_reasons"])
    })
  })

  it("effect-ai: an effect/ai agent reads like the ChatModel one: chat and execute_tool spans, the failed tool retried", async () => {
    const { run, spans, traceId } = await runAndFetch("examples/effect-ai.ts", 7)
    assertPrintedTreeMatches(run, traceId, spans)
    explainTrace(spans, () => {
      assertResource(spans)
      assert.strictEqual(
        outline(spans),
        `
agent-workflow (INTERNAL)
  chat sim-gpt-4o (CLIENT)
  chat sim-gpt-4o (CLIENT)
  chat sim-gpt-4o (CLIENT)
  execute_tool GetWeather (INTERNAL)
  execute_tool GetWeather (INTERNAL)
  execute_tool SearchTrains (INTERNAL)
`.trim()
      )
      const chats = named(spans, "chat sim-gpt-4o")
      for (const chat of chats) {
        assertAttr(chat, "gen_ai.operation.name", { stringValue: "chat" })
        assertAttr(chat, "gen_ai.provider.name", { stringValue: "simulated" })
        assertPositiveInt(chat, "gen_ai.usage.output_tokens")
        assert.isUndefined(chat.attributes["parameters"], "no tool arguments on the model span")
      }
      assertAttr(chats[2]!, "gen_ai.request.stream", { boolValue: true })
      const [failed, retried] = named(spans, "execute_tool GetWeather")
      assert.strictEqual(failed!.statusCode, StatusCode.error)
      assertAttr(failed!, "error.type", { stringValue: "WeatherUnavailable" })
      assert.notStrictEqual(retried!.statusCode, StatusCode.error)
      assertAttr(retried!, "gen_ai.tool.type", { stringValue: "function" })
    })
  })
})
