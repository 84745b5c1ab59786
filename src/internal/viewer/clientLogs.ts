/**
 * Log records in the browser: one record as an entry (its time, severity, event name, body,
 * attributes, and a content event's messages as the chat the span pane draws), which the span
 * pane lists for its span, and the Logs page of every record, newest first. Like the rest of the
 * browser code it is one function whose source the page embeds; every value in a record is
 * untrusted and becomes text.
 */
import type { Child, El, Kit } from "./clientKit.ts"
import type { LogView } from "./logView.ts"
import type { LogList } from "./storeLogs.ts"

declare const location: { hash: string }

/** What the Logs page loads: a page of records for its query. */
export type LoadLogs = (q: URLSearchParams) => Promise<LogList>

/** Runs in the browser; references nothing outside its own body and the kit. */
export function viewerLogs(kit: Kit) {
  /* oxlint-disable unicorn/consistent-function-scoping -- the page embeds this function's source alone */
  const { chat, enc, fmtMs, fmtTime, h, kv, link, pager } = kit
  /** The data model's ranges: ERROR and FATAL from 17, WARN from 13, TRACE and DEBUG below 9. */
  const level = (n: number): string => n >= 17 ? " err" : n >= 13 ? " warn" : n > 0 && n < 9 ? " low" : ""
  const body = (value: LogView["body"]): Child =>
    value === null
      ? null
      : typeof value === "string"
      ? h("div", { class: "log-body", "data-testid": "log-body" }, value)
      : h("pre", { class: "log-body", "data-testid": "log-body" }, JSON.stringify(value, null, 2))
  const traceLink = (log: LogView): Child =>
    log.traceId === ""
      ? null
      : log.inTrace
      ? link(`/trace/${enc(log.traceId)}${log.spanId === "" ? "" : `?span=${enc(log.spanId)}`}`, "trace")
      : h("span", { class: "dim", title: log.traceId }, "trace not received")

  /** One record: with `t0`, its time as an offset into the trace; without, its date, service and trace. */
  const entry = (log: LogView, t0?: number): El =>
    h(
      "div",
      { class: `log${level(log.severityNumber)}`, "data-testid": "log" },
      h(
        "div",
        { class: "log-head" },
        h(
          "span",
          { class: "log-time", "data-testid": "log-time" },
          t0 === undefined
            ? fmtTime(log.time)
            : `${log.time < t0 ? "−" : "+"}${fmtMs(Math.abs(log.time - t0))}`
        ),
        log.severity === ""
          ? null
          : h("span", { class: `badge${level(log.severityNumber)}`, "data-testid": "log-severity" }, log.severity),
        log.eventName === "" ? null : h("span", { class: "log-event", "data-testid": "log-event" }, log.eventName),
        t0 === undefined ? [h("span", { class: "dim" }, log.service), traceLink(log)] : null
      ),
      body(log.body),
      log.messages === undefined ? null : h(
        "details",
        { class: "log-messages", "data-testid": "log-messages" },
        h("summary", null, "messages"),
        chat(log.messages.system, log.messages.input, log.messages.output)
      ),
      log.attributes.length === 0 ? null : kv(log.attributes, "log-attributes")
    )

  const levels: ReadonlyArray<readonly [string, string]> = [
    ["", "all"],
    ["5", "DEBUG and above"],
    ["9", "INFO and above"],
    ["13", "WARN and above"],
    ["17", "ERROR and above"]
  ]
  /** The Logs page: every record, newest first, filtered by severity and text, paged. */
  const logsView = async (q: URLSearchParams, load: LoadLogs) => {
    const list = await load(q)
    const go = (changes: Record<string, string | undefined>) => {
      const next = new URLSearchParams(q)
      for (const [k, v] of Object.entries(changes)) {
        if (v === undefined || v === "") next.delete(k)
        else next.set(k, v)
      }
      if (!("offset" in changes)) next.delete("offset")
      location.hash = `/logs?${next.toString()}`
    }
    const offset = Number(q.get("offset") ?? 0) || 0
    const limit = Number(q.get("limit") ?? 100) || 100
    const view = h(
      "div",
      { class: "logs", "data-testid": "logs-page" },
      h(
        "form",
        { class: "filters", onsubmit: (e) => e.preventDefault() },
        h(
          "label",
          null,
          "Severity",
          h(
            "select",
            {
              name: "severity",
              "data-testid": "filter-severity",
              onchange: (e) => go({ severity: (e.target as { value: string }).value })
            },
            levels.map(([value, label]) => h("option", { value, selected: (q.get("severity") ?? "") === value }, label))
          )
        ),
        h(
          "label",
          null,
          "Body or event name",
          h("input", {
            name: "text",
            placeholder: "text",
            value: q.get("text") ?? "",
            "data-testid": "filter-log-text",
            onchange: (e) => go({ text: (e.target as { value: string }).value })
          })
        )
      ),
      list.total === 0
        ? h("p", { class: "empty" }, "No log records (they arrive at /v1/logs).")
        : h("div", { class: "log-list" }, list.rows.map((log) => entry(log))),
      pager(offset, limit, list.total, go, "logs-page-range")
    )
    return { view, ms: 0 }
  }

  return { entry, logsView }
}

/** The log helpers, as the trace view and the app receive them. */
export type Logs = ReturnType<typeof viewerLogs>
