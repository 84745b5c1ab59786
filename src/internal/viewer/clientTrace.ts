/**
 * A trace in the browser: the waterfall (a time axis, spans nested under their parents and
 * siblings in start order, errors, time to first chunk, abandoned streams and log records
 * marked) and the detail pane of the selected span, with its GenAI fields read by the server and
 * its log records. One function whose source the page embeds.
 */
import type { TraceRow } from "./api.ts"
import type { Child, El, Kit } from "./clientKit.ts"
import type { Logs } from "./clientLogs.ts"
import type { LogView } from "./logView.ts"
import type { SpanView } from "./spanView.ts"

declare const document: { createDocumentFragment(): El }
declare const window: { readonly innerHeight: number }
declare const history: { replaceState(state: null, title: string, url: string): void }

/** A trace as its view loads it: the summary row, the spans, the log records in time order and their count. */
export interface TraceData {
  readonly row: TraceRow
  readonly spans: ReadonlyArray<SpanView>
  /** The first records in time, at most the server's bound; {@link logCount} says how many there are. */
  readonly logs: ReadonlyArray<LogView>
  readonly logCount: number
}

/** What a trace view loads, or nothing for an unknown trace. */
export type LoadTrace = (id: string) => Promise<TraceData | undefined>

/** Runs in the browser; references nothing outside its own body, the kit and the log helpers. */
export function viewerTrace(kit: Kit, logs: Logs, loadTrace: LoadTrace) {
  /* oxlint-disable unicorn/consistent-function-scoping -- the page embeds this function's source alone */
  const { chat, enc, fmtCost, fmtInt, fmtMs, fmtTime, h, kv, link, pretty, section } = kit
  /** Records listed in one pane at most: a span that logged in a loop stays readable. */
  const paneLogs = 200
  const logSection = (title: string, testid: string, records: ReadonlyArray<LogView>, t0: number): Child =>
    records.length === 0 ? null : section(
      `${title} (${records.length})`,
      testid,
      records.slice(0, paneLogs).map((log) => logs.entry(log, t0)),
      records.length > paneLogs
        ? h("p", { class: "dim" }, `${records.length - paneLogs} more not listed; the Logs page has every record.`)
        : null
    )
  const ordered = (spans: ReadonlyArray<SpanView>): Array<{ span: SpanView; depth: number }> => {
    const ids = new Set(spans.map((s) => s.spanId))
    const children = new Map<string, Array<SpanView>>()
    const roots: Array<SpanView> = []
    for (const span of spans) {
      if (span.parentId === "" || !ids.has(span.parentId)) roots.push(span)
      else {
        const siblings = children.get(span.parentId)
        if (siblings === undefined) children.set(span.parentId, [span])
        else siblings.push(span)
      }
    }
    const out: Array<{ span: SpanView; depth: number }> = []
    const stack = roots.toSorted((a, b) => b.start - a.start).map((span) => ({ span, depth: 0 }))
    while (stack.length > 0) {
      const next = stack.pop()!
      out.push(next)
      const kids = (children.get(next.span.spanId) ?? []).toSorted((a, b) => b.start - a.start)
      for (const kid of kids) stack.push({ span: kid, depth: next.depth + 1 })
    }
    return out
  }
  /**
   * The pane of one span: `records` are its log records; `outside` the trace's records of no span
   * in it, listed on the root's pane.
   */
  const detail = (span: SpanView, t0: number, records: ReadonlyArray<LogView>, outside: ReadonlyArray<LogView>): El => {
    const g = span.genai
    // With content captured as events only, the span has none: its content event's record does.
    const onSpan = g !== undefined && (g.system !== undefined || g.input !== undefined || g.output !== undefined)
    const contentEvent = onSpan ? undefined : records.find((log) => log.messages !== undefined)
    const messages = contentEvent?.messages ?? g
    const usage: Array<readonly [string, Child]> = g === undefined ? [] : [
      ["input tokens", fmtInt(g.inputTokens)],
      ["output tokens", fmtInt(g.outputTokens)],
      ...(g.cacheReadTokens === undefined ? [] : [["cache read tokens", fmtInt(g.cacheReadTokens)] as const]),
      ...(g.cacheCreationTokens === undefined
        ? []
        : [["cache creation tokens", fmtInt(g.cacheCreationTokens)] as const]),
      ...(g.reasoningTokens === undefined ? [] : [["reasoning tokens", fmtInt(g.reasoningTokens)] as const]),
      ...(g.cost === undefined ? [] : [["cost", fmtCost(g.cost, g.currency)] as const])
    ]
    return h(
      "div",
      { class: "detail", "data-testid": "detail" },
      h("h2", { "data-testid": "detail-name" }, span.name),
      kv([
        [
          "status",
          span.status === 2
            ? h("span", { class: "badge err" }, `error ${span.statusMessage}`)
            : span.status === 1
            ? "ok"
            : "unset"
        ],
        ["duration", fmtMs(span.end - span.start)],
        ["starts at", `+${fmtMs(span.start - t0)}`],
        [
          "kind",
          ["unspecified", "internal", "server", "client", "producer", "consumer"][span.kind] ?? String(span.kind)
        ],
        ["service", span.service],
        ["span id", span.spanId]
      ]),
      g === undefined ? null : [
        section(
          "Model call",
          "genai-model",
          kv([
            ["operation", g.operation],
            ["provider", g.provider ?? ""],
            ["request model", g.requestModel ?? ""],
            ["response model", g.responseModel ?? ""],
            ...(g.finishReasons.length === 0 ? [] : [["finish reasons", g.finishReasons.join(", ")] as const]),
            ...(g.ttftMs === undefined ? [] : [["time to first chunk", fmtMs(g.ttftMs)] as const]),
            ...(g.abandoned
              ? [["stream", h("span", { class: "badge warn" }, "abandoned by its consumer")] as const]
              : []),
            ...(g.responseId === undefined ? [] : [["response id", g.responseId] as const]),
            ...(g.errorType === undefined ? [] : [["error type", g.errorType] as const]),
            ...(g.conversationId === undefined
              ? []
              : [["conversation", link(`/conversation/${enc(g.conversationId)}`, g.conversationId)] as const])
          ])
        ),
        g.params.length === 0 ? null : section("Request", "genai-request", kv(g.params)),
        usage.length === 0 || (g.inputTokens === undefined && g.outputTokens === undefined)
          ? null
          : section("Usage", "genai-usage", kv(usage)),
        g.toolName === undefined ? null : section(
          "Tool call",
          "genai-tool",
          kv([
            ["tool", g.toolName],
            ["call id", g.toolCallId ?? ""],
            ...(g.toolArguments === undefined ? [] : [["arguments", h("pre", null, pretty(g.toolArguments))] as const]),
            ...(g.toolResult === undefined ? [] : [["result", h("pre", null, pretty(g.toolResult))] as const])
          ])
        ),
        g.inference || onSpan || contentEvent !== undefined
          ? section(
            "Messages",
            "genai-messages",
            contentEvent === undefined
              ? null
              : h("p", { class: "dim" }, `from the ${contentEvent.eventName || "log"} record`),
            chat(messages?.system, messages?.input, messages?.output)
          )
          : null,
        g.toolDefinitions === undefined
          ? null
          : section("Tool definitions", "genai-tools", h("pre", null, pretty(g.toolDefinitions)))
      ],
      logSection("Logs", "logs", records, t0),
      logSection("Logs of the trace outside its spans", "trace-logs", outside, t0),
      section("Attributes", "attributes", kv(span.attributes)),
      span.events.length === 0 ? null : section(
        "Events",
        "events",
        span.events.map((event) =>
          h(
            "div",
            { class: "event" },
            h("div", { class: "event-name" }, `+${fmtMs(event.time - t0)} ${event.name}`),
            kv(event.attributes)
          )
        )
      ),
      span.links.length === 0 ? null : section(
        "Links",
        "links",
        span.links.map((l) =>
          h("div", null, link(`/trace/${enc(l.traceId)}?span=${enc(l.spanId)}`, `${l.traceId} / ${l.spanId}`))
        )
      ),
      section("Resource", "resource", kv(span.resource))
    )
  }
  const scrolled = new Map<string, number>()
  const traceView = async (id: string, q: URLSearchParams) => {
    const data = await loadTrace(id)
    if (data === undefined) {
      return { view: h("p", { class: "empty" }, "No such trace (it may have been removed by retention)."), ms: 0 }
    }
    const started = performance.now()
    const { logCount, row, spans } = data
    const rows = ordered(spans)
    const bySpan = new Map<string, Array<LogView>>()
    const outside: Array<LogView> = []
    const ids = new Set(spans.map((s) => s.spanId))
    for (const log of data.logs) {
      if (!ids.has(log.spanId)) outside.push(log)
      else {
        const list = bySpan.get(log.spanId)
        if (list === undefined) bySpan.set(log.spanId, [log])
        else list.push(log)
      }
    }
    const firstRoot = rows[0]?.span.spanId
    const paneOf = (span: SpanView) =>
      detail(span, t0, bySpan.get(span.spanId) ?? [], span.spanId === firstRoot ? outside : [])
    const t0 = Math.min(...spans.map((s) => s.start))
    const total = Math.max(1e-3, Math.max(...spans.map((s) => s.end)) - t0)
    const pct = (ms: number) => `${Math.min(100, Math.max(0, (ms / total) * 100))}%`
    let selected = q.get("span") ?? rows[0]?.span.spanId ?? ""
    const pane = h("div", { class: "pane" })
    const rowEls = new Map<string, El>()
    const select = (spanId: string) => {
      rowEls.get(selected)?.classList.remove("selected")
      selected = spanId
      rowEls.get(spanId)?.classList.add("selected")
      const span = spans.find((s) => s.spanId === spanId)
      pane.replaceChildren(span === undefined ? h("p", null, "Select a span.") : paneOf(span))
      history.replaceState(null, "", `#/trace/${enc(id)}?span=${enc(spanId)}`)
    }
    const ticks = h("div", { class: "wf-axis" })
    const step = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000]
      .find((s) => total / s <= 8) ?? total / 8
    for (let at = 0; at <= total; at += step) {
      const tick = h("span", { class: "tick" }, fmtMs(at))
      tick.style.left = pct(at)
      ticks.appendChild(tick)
    }
    const waterfall = h(
      "div",
      { class: "waterfall", "data-testid": "waterfall" },
      h("div", { class: "wf-row wf-head" }, h("div", { class: "wf-label" }, "span"), ticks)
    )
    const logMark = (records: ReadonlyArray<LogView> | undefined): Child => {
      if (records === undefined) return null
      const worst = Math.max(...records.map((log) => log.severityNumber))
      return h("span", {
        class: `badge logmark${worst >= 17 ? " err" : worst >= 13 ? " warn" : ""}`,
        title: `${records.length} log record${records.length === 1 ? "" : "s"}`,
        "data-testid": "log-mark"
      }, `≡ ${records.length}`)
    }
    const rowEl = ({ depth, span }: { span: SpanView; depth: number }): El => {
      const g = span.genai
      const bar = h("div", {
        class: `wf-bar${span.status === 2 ? " err" : ""}${g?.inference ? " llm" : g?.toolName ? " tool" : ""}`
      })
      bar.style.left = pct(span.start - t0)
      bar.style.width = `max(2px, ${pct(span.end - span.start)})`
      const track = h("div", { class: "wf-track" }, bar)
      if (g?.ttftMs !== undefined) {
        const mark = h("div", {
          class: "wf-ttft",
          title: `time to first chunk ${fmtMs(g.ttftMs)}`,
          "data-testid": "ttft"
        })
        mark.style.left = pct(span.start - t0 + g.ttftMs)
        track.appendChild(mark)
      }
      const duration = h("span", { class: "wf-dur" }, fmtMs(span.end - span.start))
      duration.style.left = `calc(${pct(span.end - t0)} + 4px)`
      track.appendChild(duration)
      const label = h(
        "div",
        { class: "wf-label", title: span.name },
        h("span", { class: "wf-name" }, span.name),
        span.status === 2 ? h("span", { class: "badge err", "data-testid": "error-mark" }, "✗") : null,
        g?.abandoned ? h("span", { class: "badge warn", "data-testid": "abandoned-mark" }, "abandoned") : null,
        g?.streamed ? h("span", { class: "badge" }, "stream") : null,
        logMark(bySpan.get(span.spanId))
      )
      label.style.paddingLeft = `${6 + depth * 14}px`
      const el = h(
        "div",
        {
          class: `wf-row${span.spanId === selected ? " selected" : ""}`,
          "data-testid": "span-row",
          "data-span": span.spanId,
          "data-depth": depth
        },
        label,
        track
      )
      rowEls.set(span.spanId, el)
      return el
    }
    // Only the rows in view (and a margin) are in the DOM, so a trace of thousands of spans costs
    // what a screenful does; the spacer keeps the scroll height of all of them.
    const rowHeight = 24
    const margin = 30
    const scroller = h("div", { class: "wf-body" })
    const spacer = h("div", { class: "wf-spacer" })
    spacer.style.height = `${rows.length * rowHeight}px`
    const layer = h("div", { class: "wf-layer" })
    spacer.appendChild(layer)
    scroller.appendChild(spacer)
    let shown = ""
    const paint = () => {
      const top = scroller.scrollTop
      const height = scroller.clientHeight > 0 ? scroller.clientHeight : window.innerHeight
      const from = Math.max(0, Math.floor(top / rowHeight) - margin)
      const to = Math.min(rows.length, Math.ceil((top + height) / rowHeight) + margin)
      if (shown === `${from}-${to}`) return
      shown = `${from}-${to}`
      rowEls.clear()
      const fragment = document.createDocumentFragment()
      for (let i = from; i < to; i++) fragment.appendChild(rowEl(rows[i]!))
      layer.style.transform = `translateY(${from * rowHeight}px)`
      layer.replaceChildren(fragment)
    }
    scroller.addEventListener("scroll", () => {
      scrolled.set(id, scroller.scrollTop)
      paint()
    })
    layer.addEventListener("click", (event) => {
      const clicked = (event.target as El).closest("[data-span]")?.getAttribute("data-span")
      if (clicked !== null && clicked !== undefined) select(clicked)
    })
    paint()
    waterfall.appendChild(scroller)
    const selectedSpan = spans.find((s) => s.spanId === selected)
    pane.appendChild(selectedSpan === undefined ? h("p", null, "Select a span.") : paneOf(selectedSpan))
    const view = h(
      "div",
      { class: "trace", "data-testid": "trace" },
      h(
        "div",
        { class: "trace-head" },
        h("h2", null, row.name),
        h(
          "div",
          { class: "facts" },
          h("span", null, row.service),
          h("span", null, fmtTime(row.start)),
          h("span", null, fmtMs(row.durationMs)),
          h("span", null, `${row.spans} spans`),
          logCount === 0
            ? null
            : h(
              "span",
              { "data-testid": "trace-log-count" },
              logCount > data.logs.length
                ? `${logCount} log records (the first ${data.logs.length} shown)`
                : `${logCount} log record${logCount === 1 ? "" : "s"}`
            ),
          row.errors > 0 ? h("span", { class: "badge err" }, `${row.errors} errors`) : null,
          h("span", null, `${fmtInt(row.inputTokens)} in · ${fmtInt(row.outputTokens)} out`),
          row.cost === null ? null : h("span", null, fmtCost(row.cost, row.currency)),
          row.models.length === 0 ? null : h("span", null, row.models.join(", ")),
          row.conversation === null
            ? null
            : link(`/conversation/${enc(row.conversation)}`, `conversation ${row.conversation}`),
          h("span", { class: "dim" }, row.traceId)
        )
      ),
      h("div", { class: "split" }, waterfall, pane)
    )
    // Once in the page: back where the reader was when new spans re-rendered the trace, or at the
    // span a link selected.
    const after = () => {
      const index = rows.findIndex((r) => r.span.spanId === selected)
      const top = scrolled.get(id) ?? Math.max(0, index * rowHeight - 3 * rowHeight)
      if (top > 0) scroller.scrollTop = top
      paint()
    }
    return { view, ms: performance.now() - started, after }
  }

  return traceView
}
