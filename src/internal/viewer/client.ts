/**
 * The viewer's browser code, functions that the page embeds as source text: here the traces
 * list, conversations, metrics and the routing; a trace's view is in `clientTrace.ts`, log
 * records and the Logs page in `clientLogs.ts`, the shared helpers in `clientKit.ts`. It reads either the live server's JSON API or, in a report, the data
 * embedded in the page. Every value from telemetry is untrusted: the DOM is built with
 * `createElement` and `textContent` only, links are made from `#/` and encoded ids, never from
 * data, and the page's Content-Security-Policy allows no other script.
 */
import type { ConversationRow, HistogramSeries, TraceList, TraceRow, Turn } from "./api.ts"
import type { SpanView } from "./spanView.ts"

import type { El, Kit } from "./clientKit.ts"
import type { LoadLogs, viewerLogs } from "./clientLogs.ts"
import type { LoadTrace, TraceData, viewerTrace } from "./clientTrace.ts"
import type { LogView } from "./logView.ts"

declare const document: {
  getElementById(id: string): El | null
  querySelector(selector: string): El | null
  readonly documentElement: El
}
declare const window: { addEventListener(type: string, listener: () => void): void }
declare const location: { hash: string }

/** What a report embeds: everything its views read, computed when it was written. */
export interface ReportData {
  readonly generatedAt: number
  readonly rows: ReadonlyArray<TraceRow>
  readonly spanNames: Readonly<Record<string, ReadonlyArray<string>>>
  readonly spanServices: Readonly<Record<string, ReadonlyArray<string>>>
  readonly spans: Readonly<Record<string, ReadonlyArray<SpanView>>>
  readonly conversations: ReadonlyArray<ConversationRow>
  readonly turns: Readonly<Record<string, ReadonlyArray<Turn>>>
  readonly histograms: ReadonlyArray<HistogramSeries>
  /** Every log record, newest first. */
  readonly logs: ReadonlyArray<LogView>
}

/**
 * Runs in the browser; references nothing outside its own body, the kit and the makers of the
 * trace view and the log helpers.
 */
export function viewerApp(kit: Kit, makeTraceView: typeof viewerTrace, makeLogs: typeof viewerLogs): void {
  /* oxlint-disable unicorn/consistent-function-scoping -- the page embeds this function's source alone */
  const { enc, fmtCost, fmtInt, fmtMs, fmtTime, fmtValue, getJson, h, link, section, pager } = kit
  const dataElement = document.getElementById("report-data")
  const report: ReportData | undefined = dataElement === null ? undefined : JSON.parse(dataElement.textContent ?? "")
  const root = document.getElementById("app")!
  let rendered = 0

  // --- data, from the server or the embedded report --------------------------------------------
  const listTraces = (q: URLSearchParams): Promise<TraceList> => {
    if (report === undefined) return getJson(`/api/traces?${q.toString()}`)
    const text = (q.get("text") ?? "").toLowerCase()
    const id = q.get("identity") ?? ""
    const rows = report.rows.filter((r) =>
      (!q.get("service") || (report.spanServices[r.traceId] ?? []).includes(q.get("service")!))
      && (!q.get("status") || (q.get("status") === "error" ? r.errors > 0 : r.errors === 0))
      && (!q.get("model") || r.models.includes(q.get("model")!))
      && (!id || r.conversation === id || r.session === id || r.user === id)
      && (!text || (report.spanNames[r.traceId] ?? []).some((n) => n.toLowerCase().includes(text)))
    )
    const key = q.get("sort") ?? "start"
    const value = (r: TraceRow): number | string =>
      key === "name" ? r.name : key === "duration" ? r.durationMs : key === "cost" ?
        r.cost ?? 0 :
        key === "spans" ?
        r.spans :
        key === "inputTokens" ?
        r.inputTokens :
        key === "outputTokens" ?
        r.outputTokens :
        r.start
    const sign = q.get("order") === "asc" ? 1 : -1
    const sorted = rows.toSorted((a, b) => {
      const x = value(a)
      const y = value(b)
      return sign * (x < y ? -1 : x > y ? 1 : 0)
    })
    const offset = Number(q.get("offset") ?? 0) || 0
    return Promise.resolve({
      total: sorted.length,
      rows: sorted.slice(offset, offset + (Number(q.get("limit") ?? 50) || 50)),
      services: [...new Set(Object.values(report.spanServices).flat())].toSorted(),
      models: [...new Set(report.rows.flatMap((r) => r.models))].toSorted()
    })
  }
  // A report's records by trace, in time order, built once.
  let reportTraceLogs: Map<string, Array<LogView>> | undefined
  const traceLogsOf = (data: ReportData, id: string): Array<LogView> => {
    if (reportTraceLogs === undefined) {
      reportTraceLogs = new Map()
      for (const log of data.logs.toReversed()) {
        if (!log.inTrace) continue
        const list = reportTraceLogs.get(log.traceId)
        if (list === undefined) reportTraceLogs.set(log.traceId, [log])
        else list.push(log)
      }
      for (const list of reportTraceLogs.values()) list.sort((a, b) => a.time - b.time)
    }
    return reportTraceLogs.get(id) ?? []
  }
  const loadTrace: LoadTrace = (id) => {
    if (report !== undefined) {
      const row = report.rows.find((r) => r.traceId === id)
      const logs = traceLogsOf(report, id)
      return Promise.resolve(
        row === undefined ? undefined : { row, spans: report.spans[id] ?? [], logs, logCount: logs.length }
      )
    }
    return getJson<TraceData>(`/api/traces/${enc(id)}`).catch(() => undefined)
  }
  const loadLogs: LoadLogs = (q) => {
    if (report === undefined) return getJson(`/api/logs?${q.toString()}`)
    const severity = Number(q.get("severity") ?? 0) || 0
    const text = (q.get("text") ?? "").toLowerCase()
    const rows = report.logs.filter((log) =>
      log.severityNumber >= severity
      && (!text || JSON.stringify(log.body).toLowerCase().includes(text) || log.eventName.toLowerCase().includes(text))
    )
    const offset = Number(q.get("offset") ?? 0) || 0
    return Promise.resolve({
      total: rows.length,
      rows: rows.slice(offset, offset + (Number(q.get("limit") ?? 100) || 100))
    })
  }
  const loadConversations = (): Promise<ReadonlyArray<ConversationRow>> =>
    report === undefined ? getJson("/api/conversations") : Promise.resolve(report.conversations)
  const loadTurns = (id: string): Promise<ReadonlyArray<Turn>> =>
    report === undefined
      ? getJson<{ turns: ReadonlyArray<Turn> }>(`/api/conversations/${enc(id)}`).then((r) => r.turns)
      : Promise.resolve(report.turns[id] ?? [])
  const loadHistograms = (): Promise<ReadonlyArray<HistogramSeries>> =>
    report === undefined ? getJson("/api/metrics") : Promise.resolve(report.histograms)

  const logs = makeLogs(kit)
  const traceView = makeTraceView(kit, logs, loadTrace)

  // --- the traces list -------------------------------------------------------------------------
  const columns: ReadonlyArray<readonly [string, string | null]> = [
    ["Trace", "name"],
    ["Service", null],
    ["Start", "start"],
    ["Duration", "duration"],
    ["Spans", "spans"],
    ["Status", null],
    ["In", "inputTokens"],
    ["Out", "outputTokens"],
    ["Cost", "cost"],
    ["Models", null],
    ["Conversation", null]
  ]
  const tracesView = async (q: URLSearchParams) => {
    const list = await listTraces(q)
    const t0 = performance.now()
    const go = (changes: Record<string, string | undefined>) => {
      const next = new URLSearchParams(q)
      for (const [k, v] of Object.entries(changes)) {
        if (v === undefined || v === "") next.delete(k)
        else next.set(k, v)
      }
      if (!("offset" in changes)) next.delete("offset")
      location.hash = `/?${next.toString()}`
    }
    const select = (name: string, label: string, options: ReadonlyArray<string>) =>
      h(
        "label",
        null,
        label,
        h(
          "select",
          {
            name,
            "data-testid": `filter-${name}`,
            onchange: (e) => go({ [name]: (e.target as { value: string }).value })
          },
          h("option", { value: "" }, "all"),
          options.map((o) => h("option", { value: o, selected: q.get(name) === o }, o))
        )
      )
    const input = (name: string, label: string, placeholder: string) =>
      h(
        "label",
        null,
        label,
        h("input", {
          name,
          placeholder,
          value: q.get(name) ?? "",
          "data-testid": `filter-${name}`,
          onchange: (e) => go({ [name]: (e.target as { value: string }).value })
        })
      )
    const sort = q.get("sort") ?? "start"
    const order = q.get("order") ?? "desc"
    const offset = Number(q.get("offset") ?? 0) || 0
    const limit = Number(q.get("limit") ?? 50) || 50
    const header = h(
      "tr",
      null,
      columns.map(([label, key]) =>
        h(
          "th",
          key === null ? null : {
            class: `sortable${key === sort ? ` sorted-${order}` : ""}`,
            "data-sort": key,
            onclick: () => go({ sort: key, order: key === sort && order === "desc" ? "asc" : "desc" })
          },
          label
        )
      )
    )
    const body = h(
      "tbody",
      null,
      list.rows.map((r) =>
        h(
          "tr",
          { class: r.errors > 0 ? "row error" : "row", "data-testid": "trace-row", "data-trace": r.traceId },
          h("td", null, link(`/trace/${enc(r.traceId)}`, r.name)),
          h("td", null, r.service),
          h("td", { class: "num" }, fmtTime(r.start)),
          h("td", { class: "num" }, fmtMs(r.durationMs)),
          h("td", { class: "num" }, String(r.spans)),
          h(
            "td",
            null,
            r.errors > 0 ? h("span", { class: "badge err" }, `✗ ${r.errors}`) : h("span", { class: "badge ok" }, "ok")
          ),
          h("td", { class: "num" }, fmtInt(r.inputTokens)),
          h("td", { class: "num" }, fmtInt(r.outputTokens)),
          h("td", { class: "num" }, fmtCost(r.cost, r.currency)),
          h("td", null, r.models.join(", ")),
          h("td", null, r.conversation === null ? "" : link(`/conversation/${enc(r.conversation)}`, r.conversation))
        )
      )
    )
    const view = h(
      "div",
      { class: "traces" },
      h(
        "form",
        { class: "filters", onsubmit: (e) => e.preventDefault() },
        select("service", "Service", list.services),
        select("status", "Status", ["ok", "error"]),
        select("model", "Model", list.models),
        input("identity", "Conversation / session / user", "id"),
        input("text", "Span name", "text")
      ),
      h("table", { class: "list", "data-testid": "traces" }, h("thead", null, header), body),
      list.total === 0 ? h("p", { class: "empty" }, "No traces yet. Point an OTLP exporter at the viewer.") : null,
      pager(offset, limit, list.total, go, "page")
    )
    return { view, ms: performance.now() - t0 }
  }

  // --- conversations and metrics -----------------------------------------------------------------
  const conversationsView = async () => {
    const rows = await loadConversations()
    const view = h(
      "table",
      { class: "list", "data-testid": "conversations" },
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          ["Conversation", "Turns", "Start", "Input tokens", "Output tokens", "Cost"].map((c) => h("th", null, c))
        )
      ),
      h(
        "tbody",
        null,
        rows.map((r) =>
          h(
            "tr",
            { "data-testid": "conversation-row" },
            h("td", null, link(`/conversation/${enc(r.conversation)}`, r.conversation)),
            h("td", { class: "num" }, String(r.turns)),
            h("td", { class: "num" }, fmtTime(r.start)),
            h("td", { class: "num" }, fmtInt(r.inputTokens)),
            h("td", { class: "num" }, fmtInt(r.outputTokens)),
            h("td", { class: "num" }, fmtCost(r.cost))
          )
        )
      )
    )
    return {
      view: rows.length === 0
        ? h("p", { class: "empty" }, "No conversations (spans with a conversation id) yet.")
        : view,
      ms: 0
    }
  }
  const conversationView = async (id: string) => {
    const turns = await loadTurns(id)
    const sum = (f: (t: Turn) => number) => turns.reduce((a, t) => a + f(t), 0)
    const costs = turns.filter((t) => t.cost !== null)
    const bubble = (role: string, text: string | undefined, testid: string) =>
      text === undefined
        ? h(
          "p",
          { class: "no-content", "data-testid": "no-content" },
          `The ${role === "user" ? "question" : "answer"} was not captured.`
        )
        : h(
          "div",
          { class: `msg role-${role}`, "data-testid": testid },
          h("div", { class: "role" }, role),
          h("div", { class: "part part-text" }, text)
        )
    const view = h(
      "div",
      { class: "conversation", "data-testid": "conversation" },
      h("h2", null, `Conversation ${id}`),
      h(
        "div",
        { class: "facts" },
        h("span", null, `${turns.length} turns`),
        h("span", null, `${fmtInt(sum((t) => t.inputTokens))} in · ${fmtInt(sum((t) => t.outputTokens))} out`),
        costs.length === 0 ? null : h("span", null, fmtCost(costs.reduce((a, t) => a + t.cost!, 0), costs[0]!.currency))
      ),
      turns.map((t, i) =>
        h(
          "div",
          { class: `turn${t.errors > 0 ? " error" : ""}`, "data-testid": "turn" },
          h(
            "div",
            { class: "turn-head" },
            h("strong", null, `Turn ${i + 1}`),
            link(`/trace/${enc(t.traceId)}`, t.name),
            h("span", null, fmtTime(t.start)),
            h("span", { "data-testid": "turn-latency" }, fmtMs(t.durationMs)),
            h("span", { "data-testid": "turn-tokens" }, `${fmtInt(t.inputTokens)} in · ${fmtInt(t.outputTokens)} out`),
            t.cost === null ? null : h("span", { "data-testid": "turn-cost" }, fmtCost(t.cost, t.currency)),
            h(
              "span",
              { class: "dim" },
              `${t.calls} model calls${t.tools.length === 0 ? "" : ` · tools: ${t.tools.join(", ")}`}`
            ),
            t.errors > 0 ? h("span", { class: "badge err" }, `${t.errors} errors`) : null
          ),
          bubble("user", t.question, "question"),
          bubble("assistant", t.answer, "answer")
        )
      )
    )
    return { view, ms: 0 }
  }
  const metricsView = async () => {
    const series = await loadHistograms()
    const byMetric = new Map<string, Array<HistogramSeries>>()
    for (const s of series) byMetric.set(s.metric, [...(byMetric.get(s.metric) ?? []), s])
    const chart = (s: HistogramSeries) => {
      const max = Math.max(1, ...s.counts)
      return h(
        "div",
        { class: "hist", title: "measurements per bucket" },
        s.counts.map((c, i) => {
          const bar = h("span", { title: `≤ ${s.bounds[i] ?? "∞"}: ${c}` })
          bar.style.height = `${Math.max(c > 0 ? 2 : 0, (c / max) * 32)}px`
          return bar
        })
      )
    }
    const view = h(
      "div",
      { class: "metrics", "data-testid": "metrics" },
      series.length === 0
        ? h("p", { class: "empty" }, "No histograms received yet (the GenAI metrics arrive at /v1/metrics).")
        : null,
      [...byMetric].map(([metric, rows]) =>
        section(
          metric,
          "metric",
          h(
            "table",
            { class: "list" },
            h(
              "thead",
              null,
              h(
                "tr",
                null,
                ["Operation", "Model", "Token type", "Count", "p50", "p95", "Buckets"].map((c) => h("th", null, c))
              )
            ),
            h(
              "tbody",
              null,
              rows.map((s) =>
                h(
                  "tr",
                  { "data-testid": "metric-row" },
                  h("td", null, s.operation),
                  h("td", null, s.model),
                  h("td", null, s.tokenType),
                  h("td", { class: "num" }, fmtInt(s.count)),
                  h("td", { class: "num", "data-testid": "p50" }, fmtValue(s.unit, s.p50)),
                  h("td", { class: "num", "data-testid": "p95" }, fmtValue(s.unit, s.p95)),
                  h("td", null, chart(s))
                )
              )
            )
          )
        )
      )
    )
    return { view, ms: 0 }
  }

  // --- routing -----------------------------------------------------------------------------------
  const nav = h(
    "header",
    null,
    h("span", { class: "brand" }, root.dataset["brand"] ?? ""),
    link("/", "Traces"),
    link("/conversations", "Conversations"),
    link("/metrics", "Metrics"),
    link("/logs", "Logs"),
    h(
      "span",
      { class: "dim", "data-testid": "source" },
      report === undefined ? "live" : `report · ${fmtTime(report.generatedAt)}`
    )
  )
  const main = h("main", null)
  root.replaceChildren(nav, main)
  const route = async () => {
    const hash = location.hash.replace(/^#/, "") || "/"
    const [path = "/", query = ""] = hash.split("?", 2) as [string, string?]
    const q = new URLSearchParams(query)
    const parts = path.split("/").filter((p) => p !== "").map(decodeURIComponent)
    try {
      const shown: { view: El; ms: number; after?: () => void } = parts[0] === "trace" && parts[1] !== undefined
        ? await traceView(parts[1], q)
        : parts[0] === "conversation" && parts[1] !== undefined
        ? await conversationView(parts[1])
        : parts[0] === "conversations"
        ? await conversationsView()
        : parts[0] === "metrics"
        ? await metricsView()
        : parts[0] === "logs"
        ? await logs.logsView(q, loadLogs)
        : await tracesView(q)
      main.replaceChildren(shown.view)
      shown.after?.()
      document.documentElement.dataset["renderMs"] = shown.ms.toFixed(1)
    } catch (error) {
      main.replaceChildren(h("p", { class: "empty" }, `Could not load this view: ${String(error)}`))
    }
    document.documentElement.dataset["rendered"] = String(++rendered)
  }
  window.addEventListener("hashchange", () => void route())
  void route()
  if (report === undefined) {
    // New spans show up without a reload: the server's version moves on every stored batch.
    let version = -1
    setInterval(() => {
      getJson<{ version: number }>("/api/version").then((v) => {
        if (version !== -1 && v.version !== version && !document.querySelector("input:focus, select:focus")) {
          void route()
        }
        version = v.version
      }).catch(() => undefined)
    }, 1500)
  }
}
