/**
 * The viewer in a real browser (Debian's Chromium through playwright-core): the examples run into
 * it unchanged, as a user runs them, and the page shows them — the traces list and its filters,
 * a waterfall's nesting and order, the detail pane's GenAI fields, the chat with content capture
 * on and its absence with capture off, a conversation's turns, the metrics — and so does a
 * program that logs with `Effect.log` under `Tracing.layer`: each span's log records in its pane,
 * the rows that logged marked, the chat of a content event when content went to events only, and
 * the Logs page. A report opened from disk shows the same. Hostile text in every place telemetry
 * can put it stays text.
 *
 * `VIEWER_SCREENSHOTS=1` also writes docs/viewer-trace.png and docs/viewer-conversation.png.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { Browser, Page } from "playwright-core"
import { main } from "../src/internal/viewer/cli.ts"
import type { SpanView } from "../src/internal/viewer/spanView.ts"
import { root } from "./support/processes.ts"
import { hostileLogs, loggingQuestion, loggingRun } from "./viewer/logs.ts"
import {
  type ExampleRun,
  launchBrowser,
  otlpJson,
  postJson,
  runExample,
  spanIdOf,
  startCapture,
  startViewer,
  traceIdOf,
  type Viewer
} from "./viewer/support.ts"

// What the page functions handed to the browser read there; the project compiles without the DOM library.
declare const document: {
  readonly documentElement: { readonly dataset: Record<string, string | undefined> }
  querySelector(selector: string): { readonly textContent: string | null } | null
  querySelectorAll(selector: string): ArrayLike<{ readonly classList: { contains(name: string): boolean } }>
}
declare const location: { hash: string }
declare const window: unknown

let viewer: Viewer
let browser: Browser
let reportFile: string
/** The report `examples/agent-workflow.ts` wrote at exit (`BELUGA_REPORT`). */
let exitReport: string
const runs: Record<string, ExampleRun> = {}
const dialogs: Array<string> = []
const pageErrors: Array<string> = []

const hostileTrace = traceIdOf(0xbad)
const hostile = {
  script: "<script>window.__pwned = 'script'</script>",
  img: "<img src=x onerror=\"window.__pwned = 'img'\">",
  url: "javascript:window.__pwned='url'"
}

const hostileRequest = otlpJson(hostile.img, [
  {
    traceId: hostileTrace,
    spanId: spanIdOf(1),
    name: `invoke_agent ${hostile.script}`,
    startMs: 1_700_000_000_000,
    endMs: 1_700_000_000_900,
    attributes: {
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.conversation.id": hostile.script,
      "note": hostile.url
    }
  },
  {
    traceId: hostileTrace,
    spanId: spanIdOf(2),
    parentSpanId: spanIdOf(1),
    name: `chat ${hostile.img}`,
    startMs: 1_700_000_000_100,
    endMs: 1_700_000_000_800,
    error: hostile.script,
    attributes: {
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": hostile.img,
      "gen_ai.request.model": hostile.script,
      "gen_ai.usage.input_tokens": 5,
      "gen_ai.usage.output_tokens": 7,
      "gen_ai.conversation.id": hostile.script,
      "gen_ai.input.messages": JSON.stringify([{
        role: "user",
        parts: [
          { type: "text", content: hostile.script },
          { type: "uri", modality: "image", uri: hostile.url }
        ]
      }]),
      "gen_ai.output.messages": JSON.stringify([{
        role: "assistant",
        finish_reason: hostile.img,
        parts: [{ type: "tool_call", name: hostile.img, arguments: { html: hostile.script } }]
      }]),
      "gen_ai.tool.definitions": hostile.url
    }
  }
])

const hostileRecords = hostileLogs(hostile, hostileTrace, spanIdOf(2))

const open = async (url: string): Promise<Page> => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message())
    void dialog.dismiss()
  })
  page.on("pageerror", (error) => pageErrors.push(error.message))
  await page.goto(url)
  return page
}

/** Goes to a route and waits until the page has rendered it. */
const go = async (page: Page, hash: string) => {
  const before = Number(await page.evaluate(() => document.documentElement.dataset["rendered"] ?? "0"))
  await page.evaluate((h) => (location.hash = h), hash)
  await page.waitForFunction((n) => Number(document.documentElement.dataset["rendered"] ?? "0") > n, before)
}

const texts = (page: Page, selector: string) => page.locator(selector).allTextContents()

/** The trace of the run whose spans include one named `spanName`. */
const traceWith = (spanName: string) => {
  const row = viewer.store.traces({ text: spanName, limit: 500 }).rows[0]
  assert.isDefined(row, `a trace with a span named ${spanName}`)
  return { row: row!, spans: viewer.store.trace(row!.traceId) }
}
/** The agent-workflow example's trace: the one with the weather service. */
const agentTrace = () => traceWith("weather-api GET /current")

/** The page's duration format (`clientKit.ts`). */
const fmtMs = (ms: number): string =>
  ms < 1 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${ms.toFixed(ms < 10 ? 1 : 0)} ms` : `${(ms / 1000).toFixed(2)} s`

const byName = (spans: ReadonlyArray<SpanView>, name: string) => spans.filter((s) => s.name === name)

beforeAll(async () => {
  viewer = await startViewer()
  const capture = await startCapture()
  const exitCapture = await startCapture()
  const endpoint = viewer.servers.otlpUrl
  exitReport = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "viewer-exit-report-")), "run.html")
  const [agent, streaming, conversation, distributed, , exitRun] = await Promise.all([
    runExample("agent-workflow", endpoint),
    runExample("streaming", endpoint, { OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: "true" }),
    runExample("conversation", capture.url, { OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }),
    runExample("distributed", endpoint, { OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }),
    loggingRun(endpoint),
    runExample("agent-workflow", exitCapture.url, {
      BELUGA_REPORT: exitReport,
      OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: "EVENT_ONLY"
    })
  ])
  Object.assign(runs, { agent, streaming, conversation, distributed, exitRun })
  await capture.close()
  await exitCapture.close()
  // What the conversation example sent, captured as OTLP/JSON: into the viewer, and to a file for the report.
  for (const body of capture.bodies) {
    const signal = body.includes("\"resourceSpans\"")
      ? "traces"
      : body.includes("\"resourceLogs\"")
      ? "logs"
      : "metrics"
    const response = await fetch(`${endpoint}/v1/${signal}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body
    })
    assert.strictEqual(response.status, 200)
  }
  assert.strictEqual((await postJson(`${endpoint}/v1/traces`, hostileRequest)).status, 200)
  assert.strictEqual((await postJson(`${endpoint}/v1/logs`, hostileRecords)).status, 200)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "viewer-report-"))
  const captured = path.join(dir, "run.jsonl")
  fs.writeFileSync(
    captured,
    [...capture.bodies, JSON.stringify(hostileRequest), JSON.stringify(hostileRecords)].join("\n")
  )
  reportFile = path.join(dir, "run.html")
  assert.strictEqual(await main(["report", captured, "-o", reportFile]), 0)
  browser = await launchBrowser()
}, 240_000)

afterAll(async () => {
  await browser?.close()
  await viewer?.close()
})

describe("the viewer, live", () => {
  it("receives every example's run", () => {
    for (const [name, run] of Object.entries(runs)) assert.strictEqual(run.code, 0, `${name}: ${run.stderr}`)
    const names = viewer.store.traces({ limit: 500 }).rows.map((r) => r.name)
    assert.strictEqual(names.filter((n) => n === "agent-workflow").length, 3)
    assert.strictEqual(names.filter((n) => n === "invoke_agent travel-agent").length, 3)
  })

  it("lists the traces with their GenAI totals, filtered and sorted", async () => {
    const page = await open(viewer.servers.uiUrl)
    await page.waitForSelector("[data-testid=trace-row]")
    const rows = viewer.store.traces({ limit: 50 })
    assert.strictEqual(await page.locator("[data-testid=trace-row]").count(), rows.total)
    assert.strictEqual(await page.textContent("[data-testid=page]"), `1–${rows.total} of ${rows.total}`)
    const { row } = agentTrace()
    const agentRows = page.locator(`[data-trace="${row.traceId}"] td`)
    const cells = await agentRows.allTextContents()
    assert.strictEqual(cells[0], "agent-workflow")
    assert.strictEqual(cells[1], "beluga-agent")
    assert.strictEqual(cells[6], row.inputTokens.toLocaleString("en"))
    assert.strictEqual(cells[7], row.outputTokens.toLocaleString("en"))
    assert.include(cells[9], "sim-gpt-4o-2024-08-06")

    await page.selectOption("[data-testid=filter-status]", "error")
    await page.waitForFunction(() => location.hash.includes("status=error"))
    await page.waitForFunction(() =>
      document.querySelectorAll("[data-testid=trace-row]").length > 0 &&
      Array.from(document.querySelectorAll("[data-testid=trace-row]")).every((r) => r.classList.contains("error"))
    )
    const erroring = viewer.store.traces({ status: "error" }).rows.map((r) => r.traceId).toSorted()
    const shown = await page.locator("[data-testid=trace-row]").evaluateAll((els) =>
      els.map((e) => e.getAttribute("data-trace")!)
    )
    assert.deepStrictEqual(shown.toSorted(), erroring)

    await go(page, "#/?identity=conv-lisbon-porto&sort=duration&order=asc")
    const durations = viewer.store.traces({ identity: "conv-lisbon-porto", sort: "duration", order: "asc" }).rows
    assert.strictEqual(durations.length, 3)
    assert.deepStrictEqual(
      await page.locator("[data-testid=trace-row]").evaluateAll((els) => els.map((e) => e.getAttribute("data-trace"))),
      durations.map((r) => r.traceId)
    )
    // A service matches every trace it has a span in: the distributed run, rooted in the agent.
    await go(page, "#/?service=beluga-tool-service")
    assert.deepStrictEqual(await texts(page, "[data-testid=trace-row] td:nth-child(2)"), ["beluga-agent"])
    await go(page, "#/?text=weather-api")
    assert.deepStrictEqual(
      await page.locator("[data-testid=trace-row]").evaluateAll((els) => els.map((e) => e.getAttribute("data-trace"))),
      viewer.store.traces({ text: "weather-api" }).rows.map((r) => r.traceId)
    )
    await page.close()
  })

  it("draws a trace as a waterfall: parents before children, siblings in start order, errors marked", async () => {
    const { row, spans } = agentTrace()
    const page = await open(`${viewer.servers.uiUrl}/#/trace/${row.traceId}`)
    await page.waitForSelector("[data-testid=span-row]")
    const shown = await page.locator("[data-testid=span-row]").evaluateAll((els) =>
      els.map((e) => ({
        id: e.getAttribute("data-span")!,
        depth: Number(e.getAttribute("data-depth")),
        error: e.querySelector("[data-testid=error-mark]") !== null
      }))
    )
    assert.strictEqual(shown.length, spans.length)
    const byId = new Map(spans.map((s) => [s.spanId, s]))
    const names = shown.map((s) => byId.get(s.id)!.name)
    assert.deepStrictEqual(names.slice(0, 3), ["agent-workflow", "retrieval knowledge-base", "chat sim-gpt-4o"])
    assert.strictEqual(names.at(-1), "chat sim-gpt-4o")
    shown.forEach((s, i) => {
      const span = byId.get(s.id)!
      if (span.parentId === "") return assert.strictEqual(s.depth, 0)
      // The parent is the nearest row above that is one level up.
      const parent = shown.slice(0, i).findLast((p) => p.depth === s.depth - 1)
      assert.strictEqual(parent?.id, span.parentId, `${span.name} under its parent`)
      const previous = shown.slice(0, i).findLast((p) => byId.get(p.id)!.parentId === span.parentId)
      if (previous !== undefined) assert.isAtMost(byId.get(previous.id)!.start, span.start)
      assert.strictEqual(s.error, span.status === 2)
    })
    assert.deepStrictEqual(
      shown.filter((s) => s.error).map((s) => [byId.get(s.id)!.name, s.depth]),
      [["execute_tool get_weather", 1], ["weather-api GET /current", 2]]
    )
    // The two tool calls the model asked for at once run side by side: their bars overlap in time.
    const weather = byName(spans, "execute_tool get_weather")[0]!
    const trains = byName(spans, "execute_tool search_trains")[0]!
    assert.isBelow(Math.max(weather.start, trains.start), Math.min(weather.end, trains.end))
    const bars = await Promise.all(
      [weather, trains].map((s) => page.locator(`[data-span="${s.spanId}"] .wf-bar`).boundingBox())
    )
    assert.isBelow(Math.max(bars[0]!.x, bars[1]!.x), Math.min(bars[0]!.x + bars[0]!.width, bars[1]!.x + bars[1]!.width))
    await page.close()
  })

  it("keeps a big trace's page small: the rows in view, the selected span scrolled to", async () => {
    const big = traceIdOf(0xb16)
    const spans = Array.from({ length: 1_000 }, (_, i) => ({
      traceId: big,
      spanId: spanIdOf(i + 1),
      ...(i === 0 ? {} : { parentSpanId: spanIdOf(1) }),
      name: i === 0 ? "big-run" : `step ${i}`,
      startMs: 1_700_000_000_000 + i,
      endMs: 1_700_000_000_000 + i + (i === 0 ? 2_000 : 5)
    }))
    assert.strictEqual((await postJson(`${viewer.servers.otlpUrl}/v1/traces`, otlpJson("big", spans))).status, 200)
    const page = await open(`${viewer.servers.uiUrl}/#/trace/${big}?span=${spanIdOf(900)}`)
    await page.waitForSelector(`[data-span="${spanIdOf(900)}"].selected`)
    assert.isTrue(await page.locator(`[data-span="${spanIdOf(900)}"]`).isVisible())
    assert.strictEqual(await page.textContent("[data-testid=detail-name]"), "step 899")
    const inPage = await page.locator("[data-testid=span-row]").count()
    assert.isBelow(inPage, 200)
    assert.strictEqual(await page.locator(`[data-span="${spanIdOf(1)}"]`).count(), 0)
    await page.locator(".wf-body").evaluate((el) => (el.scrollTop = 0))
    await page.waitForSelector(`[data-span="${spanIdOf(1)}"]`)
    assert.strictEqual(await page.locator(`[data-span="${spanIdOf(900)}"]`).count(), 0)
    await page.click(`[data-span="${spanIdOf(3)}"]`)
    assert.strictEqual(await page.textContent("[data-testid=detail-name]"), "step 2")
    await page.close()
  })

  it("shows a model call's GenAI fields in the detail pane, and no chat when content was not captured", async () => {
    const { row, spans } = agentTrace()
    const chat = byName(spans, "chat sim-gpt-4o")[0]!
    const page = await open(`${viewer.servers.uiUrl}/#/trace/${row.traceId}`)
    await page.click(`[data-span="${chat.spanId}"]`)
    await page.waitForSelector("[data-testid=genai-model]")
    assert.strictEqual(await page.textContent("[data-testid=detail-name]"), "chat sim-gpt-4o")
    const model = (await texts(page, "[data-testid=genai-model] tr")).join("\n")
    assert.include(model, "operationchat")
    assert.include(model, "providersimulated")
    assert.include(model, "request modelsim-gpt-4o")
    assert.include(model, "response modelsim-gpt-4o-2024-08-06")
    assert.include(model, `finish reasons${chat.genai!.finishReasons.join(", ")}`)
    const usage = (await texts(page, "[data-testid=genai-usage] tr")).join("\n")
    assert.include(usage, `input tokens${chat.genai!.inputTokens}`)
    assert.include(usage, `output tokens${chat.genai!.outputTokens}`)
    assert.strictEqual(await page.locator("[data-testid=chat]").count(), 0)
    assert.strictEqual(await page.locator("[data-testid=no-content]").count(), 1)
    const attributes = await texts(page, "[data-testid=attributes] th")
    assert.include(attributes, "gen_ai.usage.input_tokens")

    const tool = byName(spans, "execute_tool get_weather")[0]!
    await page.click(`[data-span="${tool.spanId}"]`)
    await page.waitForSelector("[data-testid=genai-tool]")
    const toolFacts = (await texts(page, "[data-testid=genai-tool] tr")).join("\n")
    assert.include(toolFacts, "toolget_weather")
    assert.include(toolFacts, `call id${tool.genai!.toolCallId}`)
    await page.close()
  })

  it("renders the messages as a chat when content was captured, marks time to first chunk and an abandoned stream", async () => {
    const { spans } = agentTrace()
    const streamed = viewer.store.traces({ limit: 500 }).rows
      .map((r) => viewer.store.trace(r.traceId))
      .find((list) => list.some((s) => s.genai?.abandoned === true))!
    assert.isDefined(streamed, "the streaming example's trace")
    const [whole, abandoned] = byName(streamed, "chat sim-gpt-4o").toSorted((a, b) => a.start - b.start)
    const page = await open(`${viewer.servers.uiUrl}/#/trace/${whole!.traceId}?span=${whole!.spanId}`)
    await page.waitForSelector("[data-testid=chat]")
    assert.strictEqual(await page.locator("[data-testid=ttft]").count(), 2)
    assert.strictEqual(await page.locator(`[data-span="${abandoned!.spanId}"] [data-testid=abandoned-mark]`).count(), 1)
    assert.strictEqual(await page.locator(`[data-span="${whole!.spanId}"] [data-testid=abandoned-mark]`).count(), 0)
    const input = whole!.genai!.input as {
      parsed: ReadonlyArray<{ role: string; parts: ReadonlyArray<{ content?: string }> }>
    }
    const question = input.parsed.find((m) => m.role === "user")!.parts[0]!.content!
    assert.include(await page.textContent("[data-testid=chat-input]"), question)
    const output = whole!.genai!.output as { parsed: ReadonlyArray<{ parts: ReadonlyArray<{ content?: string }> }> }
    assert.include(await page.textContent("[data-testid=chat-output]"), output.parsed[0]!.parts[0]!.content!)
    assert.include((await texts(page, "[data-testid=genai-model] tr")).join("\n"), "time to first chunk")
    await page.click(`[data-span="${abandoned!.spanId}"]`)
    await page.waitForFunction(() =>
      document.querySelector("[data-testid=genai-model]")?.textContent?.includes("abandoned by its consumer")
    )
    assert.isUndefined(spans.find((s) => s.genai?.input !== undefined), "capture was off for agent-workflow")
    await page.close()
  })

  it("shows a distributed run as one trace across both services", async () => {
    const first = viewer.store.traces({ limit: 500 }).rows.find((r) =>
      viewer.store.trace(r.traceId).some((s) => s.service === "beluga-tool-service")
    )
    assert.isDefined(first)
    const spans = viewer.store.trace(first!.traceId)
    const page = await open(`${viewer.servers.uiUrl}/#/trace/${first!.traceId}`)
    await page.waitForSelector("[data-testid=span-row]")
    const rows = await page.locator("[data-testid=span-row]").evaluateAll((els) =>
      els.map((e) => [e.getAttribute("data-span"), Number(e.getAttribute("data-depth"))] as const)
    )
    const server = spans.find((s) => s.service === "beluga-tool-service" && s.kind === 2)!
    const client = spans.find((s) => s.spanId === server.parentId)!
    assert.strictEqual(client.service, "beluga-agent")
    const depth = new Map(rows)
    assert.strictEqual(depth.get(server.spanId), depth.get(client.spanId)! + 1)
    assert.strictEqual(rows.length, spans.length)
    await page.close()
  })

  it("shows a conversation's turns in order, with each turn's tokens, cost and the captured question and answer", async () => {
    const page = await open(`${viewer.servers.uiUrl}/#/conversation/conv-lisbon-porto`)
    await page.waitForSelector("[data-testid=turn]")
    const turns = viewer.store.conversation("conv-lisbon-porto")
    assert.strictEqual(turns.length, 3)
    assert.strictEqual(await page.locator("[data-testid=turn]").count(), 3)
    assert.deepStrictEqual(await texts(page, "[data-testid=question]"), [
      "userWhat is the weather in Lisbon today?",
      "userBook me a train to Porto; write to [redacted], my key is [redacted].",
      "userAnd how long does that train take?"
    ])
    assert.deepStrictEqual(
      await texts(page, "[data-testid=turn-tokens]"),
      turns.map((t) => `${t.inputTokens.toLocaleString("en")} in · ${t.outputTokens.toLocaleString("en")} out`)
    )
    const costs = await texts(page, "[data-testid=turn-cost]")
    assert.strictEqual(costs.length, 3)
    for (const cost of costs) assert.match(cost, /^\$0\.00\d\d$/)
    assert.strictEqual(await page.locator("[data-testid=answer]").count(), 3)
    if (process.env["VIEWER_SCREENSHOTS"] === "1") {
      await page.screenshot({ path: path.join(root, "docs", "viewer-conversation.png") })
      // A turn of the conversation: content was captured, so the pane shows the chat.
      const spans = viewer.store.trace(turns[0]!.traceId)
      const chat = byName(spans, "chat sim-gpt-4o").toSorted((x, y) => x.start - y.start).at(-1)!
      await go(page, `#/trace/${turns[0]!.traceId}?span=${chat.spanId}`)
      await page.screenshot({ path: path.join(root, "docs", "viewer-trace.png") })
    }
    await page.close()
  })

  it("shows the GenAI histograms with p50 and p95 per operation and model", async () => {
    const page = await open(`${viewer.servers.uiUrl}/#/metrics`)
    await page.waitForSelector("[data-testid=metric-row]")
    const sections = await texts(page, "[data-testid=metric] h3")
    assert.includeMembers(sections, ["gen_ai.client.operation.duration", "gen_ai.client.token.usage"])
    const chat = viewer.store.histograms().find((s) =>
      s.metric === "gen_ai.client.operation.duration" && s.operation === "chat"
    )!
    assert.isAbove(chat.count, 6)
    const rowText = (await texts(page, "[data-testid=metric-row]")).find((t) =>
      t.startsWith("chatsim-gpt-4o-2024-08-06") && t.includes(String(chat.count))
    )
    assert.isDefined(rowText)
    assert.include(rowText, `${(chat.p50! * 1000).toFixed(0)} ms`)
    await page.close()
  })

  it("lists a span's log records in its pane, and marks the waterfall rows that logged", async () => {
    const { row, spans } = traceWith("lookup-cache")
    const { logs } = viewer.store.traceLogs(row.traceId)
    const perSpan = new Map<string, number>()
    for (const log of logs) perSpan.set(log.spanId, (perSpan.get(log.spanId) ?? 0) + 1)
    // The root's line, the warning, the model call's content event and the error.
    assert.strictEqual(logs.length, 4)
    assert.strictEqual(perSpan.size, 4)
    const page = await open(`${viewer.servers.uiUrl}/#/trace/${row.traceId}`)
    await page.waitForSelector("[data-testid=span-row]")
    const marks = await page.locator("[data-testid=span-row]").evaluateAll((els) =>
      els.map((e) => [e.getAttribute("data-span")!, e.querySelector("[data-testid=log-mark]")?.textContent ?? null])
    )
    assert.strictEqual(marks.length, spans.length)
    for (const [id, mark] of marks) {
      assert.strictEqual(
        mark,
        perSpan.has(id) ? `≡ ${perSpan.get(id)}` : null,
        spans.find((s) => s.spanId === id)?.name
      )
    }
    assert.strictEqual(await page.textContent("[data-testid=trace-log-count]"), "4 log records")
    const book = byName(spans, "book-ticket")[0]!
    assert.include(
      await page.locator(`[data-span="${book.spanId}"] [data-testid=log-mark]`).getAttribute("class"),
      "err"
    )

    const rootSpan = spans.find((s) => s.parentId === "")!
    const planning = page.locator("[data-testid=logs] [data-testid=log]")
    assert.strictEqual(await planning.count(), 1)
    assert.strictEqual(await planning.locator("[data-testid=log-body]").textContent(), "planning the trip")
    assert.strictEqual(await planning.locator("[data-testid=log-severity]").textContent(), "INFO")
    // Its time as an offset into the trace, which starts with the root.
    const offset = logs.find((l) => l.spanId === rootSpan.spanId)!.time - rootSpan.start
    assert.strictEqual(await planning.locator("[data-testid=log-time]").textContent(), `+${fmtMs(offset)}`)

    const lookup = byName(spans, "lookup-cache")[0]!
    await page.click(`[data-span="${lookup.spanId}"]`)
    await page.waitForFunction(() =>
      document.querySelector("[data-testid=detail-name]")?.textContent === "lookup-cache"
    )
    const warning = page.locator("[data-testid=logs] [data-testid=log]")
    assert.strictEqual(await warning.count(), 1)
    assert.strictEqual(await warning.locator("[data-testid=log-severity]").textContent(), "WARN")
    assert.include(await warning.getAttribute("class"), "warn")
    // The message and the logged object, kept structured and shown as JSON.
    const body = JSON.parse((await warning.locator("[data-testid=log-body]").textContent())!) as unknown
    assert.deepStrictEqual(body, ["cache miss", { city: "Porto", attempts: 2 }])
    assert.include(await texts(page, "[data-testid=logs] [data-testid=log-attributes] tr"), "request.idreq-42")
    await page.close()
  })

  it("shows a content event's messages as the chat when content went to events only", async () => {
    const { row, spans } = traceWith("lookup-cache")
    const chat = spans.find((s) => s.genai?.inference === true)!
    assert.isUndefined(chat.genai!.input, "EVENT_ONLY: no content on the span")
    assert.isUndefined(chat.genai!.output)
    const page = await open(`${viewer.servers.uiUrl}/#/trace/${row.traceId}?span=${chat.spanId}`)
    await page.waitForSelector("[data-testid=genai-messages] [data-testid=chat]")
    assert.strictEqual(await page.locator("[data-testid=genai-messages] [data-testid=no-content]").count(), 0)
    assert.include(await page.textContent("[data-testid=genai-messages] [data-testid=chat-input]"), loggingQuestion)
    assert.include(await page.textContent("[data-testid=genai-messages] [data-testid=chat-output]"), loggingQuestion)
    assert.include(
      await page.textContent("[data-testid=genai-messages]"),
      "from the gen_ai.client.inference.operation.details record"
    )
    const event = page.locator("[data-testid=logs] [data-testid=log]")
    assert.strictEqual(await event.count(), 1)
    assert.strictEqual(
      await event.locator("[data-testid=log-event]").textContent(),
      "gen_ai.client.inference.operation.details"
    )
    assert.include(await event.locator("[data-testid=log-messages]").textContent(), loggingQuestion)
    // The content is in the chat, not dumped among the record's attributes.
    assert.notInclude(await texts(page, "[data-testid=logs] [data-testid=log-attributes] th"), "gen_ai.input.messages")
    await page.close()
  })

  it("lists every record on the Logs page, newest first, filtered, each linked to its trace", async () => {
    const page = await open(`${viewer.servers.uiUrl}/#/logs`)
    await page.waitForSelector("[data-testid=logs-page] [data-testid=log]")
    const all = viewer.store.logList({ limit: 100 })
    assert.isAbove(all.total, 8)
    assert.strictEqual(await page.locator("[data-testid=log]").count(), Math.min(100, all.total))
    assert.strictEqual(
      await page.textContent("[data-testid=logs-page-range]"),
      `1–${Math.min(100, all.total)} of ${all.total}`
    )
    await page.selectOption("[data-testid=filter-severity]", "13")
    await page.waitForFunction(() => location.hash.includes("severity=13"))
    await page.waitForFunction(
      (n) => document.querySelectorAll("[data-testid=log]").length === n,
      viewer.store.logList({ severity: 13 }).total
    )
    const severities = await texts(page, "[data-testid=log] [data-testid=log-severity]")
    assert.includeMembers(severities, ["WARN", "ERROR"])
    assert.notInclude(severities, "INFO")

    await go(page, "#/logs?text=cache%20miss")
    assert.strictEqual(await page.locator("[data-testid=log]").count(), 1)
    const { row, spans } = traceWith("lookup-cache")
    const lookup = byName(spans, "lookup-cache")[0]!
    assert.strictEqual(
      await page.locator("[data-testid=log] a").getAttribute("href"),
      `#/trace/${row.traceId}?span=${lookup.spanId}`
    )
    await page.click("[data-testid=log] a")
    await page.waitForSelector(`[data-span="${lookup.spanId}"].selected`)
    assert.strictEqual(await page.textContent("[data-testid=detail-name]"), "lookup-cache")
    await page.close()
  })

  it("shows hostile text as text and runs none of it", async () => {
    const page = await open(`${viewer.servers.uiUrl}/#/?text=invoke_agent`)
    await page.waitForSelector(`[data-trace="${hostileTrace}"]`)
    const cell = await page.locator(`[data-trace="${hostileTrace}"] td`).allTextContents()
    assert.strictEqual(cell[0], `invoke_agent ${hostile.script}`)
    assert.strictEqual(cell[1], hostile.img)
    await go(page, `#/trace/${hostileTrace}?span=${spanIdOf(2)}`)
    await page.waitForSelector("[data-testid=chat]")
    const detail = await page.textContent("[data-testid=detail]")
    for (const text of Object.values(hostile)) assert.include(detail, text)
    const records = await texts(page, "[data-testid=logs] [data-testid=log]")
    assert.strictEqual(records.length, 2)
    for (const text of Object.values(hostile)) assert.include(records[0], text)
    assert.include(await page.textContent("[data-testid=logs] [data-testid=log-messages]"), hostile.img)
    await go(page, `#/logs?text=${encodeURIComponent("loose javascript")}`)
    assert.strictEqual(await page.locator("[data-testid=log]").count(), 1)
    assert.include(await page.textContent("[data-testid=log]"), hostile.url)
    await go(page, `#/conversation/${encodeURIComponent(hostile.script)}`)
    await page.waitForSelector("[data-testid=turn]")
    assert.include(await page.textContent("[data-testid=question]"), hostile.script)
    await go(page, "#/conversations")
    await page.waitForSelector("[data-testid=conversation-row]")
    assert.include((await texts(page, "[data-testid=conversation-row]")).join("\n"), hostile.script)
    await assertNothingRan(page)
    await page.close()
  })
})

const assertNothingRan = async (page: Page) => {
  assert.isUndefined(await page.evaluate(() => (window as { __pwned?: string }).__pwned))
  assert.strictEqual(await page.locator("img").count(), 0)
  assert.strictEqual(await page.locator("body script").count(), page.url().startsWith("file:") ? 2 : 1)
  assert.strictEqual(await page.locator("a[href^='javascript']").count(), 0)
  const hrefs = await page.locator("a").evaluateAll((els) => els.map((e) => e.getAttribute("href")!))
  for (const href of hrefs) assert.match(href, /^#\//)
  assert.deepStrictEqual(dialogs, [])
  assert.deepStrictEqual(pageErrors, [])
}

describe("the report", () => {
  it("opens from disk with the traces, a trace and the conversation, offline", async () => {
    const page = await open(`file://${reportFile}`)
    const requests: Array<string> = []
    page.on("request", (request) => requests.push(request.url()))
    await page.waitForSelector("[data-testid=trace-row]")
    assert.include(await page.textContent("[data-testid=source]"), "report")
    assert.strictEqual(await page.locator("[data-testid=trace-row]").count(), 4)
    await go(page, "#/conversation/conv-lisbon-porto")
    assert.strictEqual(await page.locator("[data-testid=turn]").count(), 3)
    assert.include(await page.textContent("[data-testid=question]"), "What is the weather in Lisbon today?")
    const id = await page.locator("[data-testid=turn] a").first().getAttribute("href")
    await go(page, id!)
    await page.waitForSelector("[data-testid=span-row]")
    assert.strictEqual(await page.locator("[data-testid=span-row]").count(), 6)
    await go(page, "#/?status=error")
    assert.strictEqual(await page.locator("[data-testid=trace-row]").count(), 1)
    await go(page, `#/trace/${hostileTrace}?span=${spanIdOf(2)}`)
    await page.waitForSelector("[data-testid=chat]")
    assert.include(await page.textContent("[data-testid=detail]"), hostile.script)
    assert.strictEqual(await page.locator(`[data-span="${spanIdOf(2)}"] [data-testid=log-mark]`).textContent(), "≡ 2")
    assert.include((await texts(page, "[data-testid=logs] [data-testid=log-body]"))[0], hostile.script)
    await go(page, "#/logs")
    const reported = viewer.store.logList({ limit: 500 }).rows.filter((l) => l.service === hostile.img).length
    assert.isAtLeast(await page.locator("[data-testid=log]").count(), reported)
    await go(page, "#/logs?severity=17")
    assert.deepStrictEqual(await texts(page, "[data-testid=log] [data-testid=log-severity]"), [hostile.img])
    await go(page, "#/metrics")
    assert.isAbove(await page.locator("[data-testid=metric-row]").count(), 0)
    await assertNothingRan(page)
    assert.deepStrictEqual(requests.filter((url) => !url.startsWith("file:")), [])
    await page.close()
  })

  it("written by a run at exit (BELUGA_REPORT), shows its trace, its content events as a chat, metrics and logs", async () => {
    assert.strictEqual(runs["exitRun"]!.code, 0, runs["exitRun"]!.stderr)
    const page = await open(`file://${exitReport}`)
    await page.waitForSelector("[data-testid=trace-row]")
    assert.deepStrictEqual(await texts(page, "[data-testid=trace-row] td:first-child"), ["agent-workflow"])
    await page.locator("[data-testid=trace-row] a").first().click()
    await page.waitForSelector("[data-testid=span-row]")
    assert.strictEqual(await page.locator("[data-testid=span-row]").count(), 9)
    // The model calls' content went to events only: the chat is drawn from their log records.
    await page.locator("[data-testid=span-row]", { hasText: "chat sim-gpt-4o" }).first().click()
    await page.waitForSelector("[data-testid=chat]")
    assert.include(await page.textContent("[data-testid=chat]"), "Lisbon")
    await go(page, "#/metrics")
    const rows = await texts(page, "[data-testid=metric-row]")
    assert.isDefined(rows.find((t) => t.startsWith("chatsim-gpt-4o-2024-08-06")), rows.join("\n"))
    await go(page, "#/logs")
    assert.isAbove(await page.locator("[data-testid=log]").count(), 0)
    await assertNothingRan(page)
    await page.close()
  })
})
