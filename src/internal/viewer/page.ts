/**
 * The viewer's one HTML page: the stylesheet, the browser code ({@link viewerApp} and the
 * functions it is given, as source text)
 * and, in a report, the data, all inline so a report opens from disk with no network. The
 * Content-Security-Policy admits exactly this script and this stylesheet by hash, so even a bug
 * that let telemetry text become markup could not run it.
 */
import { createHash } from "node:crypto"
import * as N from "../semconv.ts"
import { type ReportData, viewerApp } from "./client.ts"
import { viewerKit } from "./clientKit.ts"
import { viewerLogs } from "./clientLogs.ts"
import { viewerTrace } from "./clientTrace.ts"

const css = `
:root { --bg: #fbfbfc; --fg: #1d2330; --dim: #6b7280; --line: #e3e6eb; --accent: #2563eb; --err: #dc2626;
  --warn: #b45309; --llm: #7c3aed; --tool: #0d9488; --bar: #60a5fa; font: 13px/1.45 system-ui, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
header { display: flex; gap: 18px; align-items: center; padding: 10px 18px; border-bottom: 1px solid var(--line);
  background: #fff; position: sticky; top: 0; z-index: 2; }
header .brand { font-weight: 700; }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
main { padding: 14px 18px; }
.dim { color: var(--dim); }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; background: #eef2ff; color: #3730a3;
  font-size: 11px; margin-left: 4px; }
.badge.logmark { background: #f1f5f9; color: #334155; }
.badge.err { background: #fee2e2; color: var(--err); } .badge.ok { background: #dcfce7; color: #166534; }
.badge.warn { background: #fef3c7; color: var(--warn); }
.filters { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 10px; }
.filters label { display: flex; flex-direction: column; font-size: 11px; color: var(--dim); gap: 2px; }
.filters input, .filters select { font: inherit; padding: 3px 6px; border: 1px solid var(--line); border-radius: 4px; }
table.list { border-collapse: collapse; width: 100%; background: #fff; }
table.list th, table.list td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); white-space: nowrap;
  max-width: 320px; overflow: hidden; text-overflow: ellipsis; }
table.list th { font-weight: 600; font-size: 12px; color: var(--dim); }
th.sortable { cursor: pointer; } th.sorted-desc::after { content: " ▼"; } th.sorted-asc::after { content: " ▲"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.row.error td:first-child { border-left: 3px solid var(--err); }
.pager { display: flex; gap: 10px; align-items: center; margin-top: 10px; }
.empty { color: var(--dim); padding: 20px 0; }
.trace-head h2, .conversation h2 { margin: 0 0 4px; font-size: 17px; }
.facts { display: flex; gap: 14px; flex-wrap: wrap; color: var(--fg); margin-bottom: 12px; }
.split { display: grid; grid-template-columns: minmax(0, 3fr) minmax(320px, 2fr); gap: 14px; align-items: start; }
.waterfall { background: #fff; border: 1px solid var(--line); border-radius: 6px; overflow: hidden; }
.wf-row { display: grid; grid-template-columns: minmax(180px, 34%) 1fr; border-bottom: 1px solid #f0f1f4; cursor: pointer;
  height: 24px; overflow: hidden; }
.wf-body { max-height: calc(100vh - 150px); overflow-y: auto; }
.wf-spacer { position: relative; } .wf-layer { position: absolute; left: 0; right: 0; top: 0; }
.wf-row:hover { background: #f6f8fc; } .wf-row.selected { background: #e8efff; }
.wf-head { cursor: default; font-size: 11px; color: var(--dim); background: #fafbfc; }
.wf-label { padding: 3px 6px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.wf-track, .wf-axis { position: relative; margin-right: 70px; }
.wf-axis .tick { position: absolute; top: 4px; white-space: nowrap; font-size: 10px; border-left: 1px solid var(--line); padding-left: 2px; }
.wf-bar { position: absolute; top: 6px; height: 12px; border-radius: 3px; background: var(--bar); }
.wf-bar.llm { background: var(--llm); } .wf-bar.tool { background: var(--tool); } .wf-bar.err { background: var(--err); }
.wf-ttft { position: absolute; top: 3px; height: 18px; width: 2px; background: #f59e0b; }
.wf-dur { position: absolute; top: 4px; font-size: 10px; color: var(--dim); white-space: nowrap; }
.pane { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; position: sticky; top: 54px;
  max-height: calc(100vh - 70px); overflow: auto; }
.detail h2 { font-size: 15px; margin: 0 0 8px; word-break: break-all; }
.section h3 { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--dim); margin: 14px 0 4px; }
table.kv { border-collapse: collapse; width: 100%; }
table.kv th { text-align: left; font-weight: 500; color: var(--dim); padding: 2px 8px 2px 0; vertical-align: top; width: 36%;
  word-break: break-all; }
table.kv td { padding: 2px 0; word-break: break-word; white-space: pre-wrap; }
pre { margin: 2px 0; white-space: pre-wrap; word-break: break-word; background: #f6f7f9; padding: 4px 6px; border-radius: 4px;
  font: 12px/1.4 ui-monospace, monospace; }
.chat { display: flex; flex-direction: column; gap: 6px; }
.msg { border-radius: 8px; padding: 6px 10px; background: #f3f4f6; max-width: 92%; }
.msg .role { font-size: 11px; font-weight: 600; color: var(--dim); text-transform: uppercase; }
.msg.role-user { background: #dbeafe; align-self: flex-end; } .msg.role-assistant { background: #f3e8ff; }
.msg.role-system { background: #fef9c3; } .msg.role-tool { background: #ccfbf1; }
.part-text { white-space: pre-wrap; word-break: break-word; }
.part .tag { font-size: 11px; background: #fff; border-radius: 6px; padding: 0 5px; }
.chat-divider { text-align: center; font-size: 11px; color: var(--dim); }
.no-content { color: var(--dim); font-style: italic; }
.event { margin-bottom: 6px; } .event-name { font-weight: 500; }
.turn { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; margin-bottom: 10px;
  display: flex; flex-direction: column; gap: 6px; }
.turn.error { border-left: 3px solid var(--err); }
.turn-head { display: flex; gap: 14px; flex-wrap: wrap; align-items: baseline; }
.hist { display: flex; align-items: flex-end; gap: 1px; height: 34px; }
.hist span { width: 6px; background: var(--bar); display: inline-block; }
.log { border-left: 3px solid var(--line); padding: 2px 0 4px 8px; margin-bottom: 6px; }
.log.warn { border-left-color: #f59e0b; } .log.err { border-left-color: var(--err); }
.log-head { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; }
.log-head .badge { margin-left: 0; } .badge.low { background: #f1f5f9; color: var(--dim); }
.log-time { font-variant-numeric: tabular-nums; color: var(--dim); } .log-event { font-weight: 500; word-break: break-all; }
.log-body { white-space: pre-wrap; word-break: break-word; }
.log-messages summary { cursor: pointer; color: var(--dim); font-size: 12px; }
.log-list table.kv th { width: 24%; }
.log-list { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
`

/** A script that tsx's name-keeping transform may have wrapped calls of: in the browser they are identity. */
const prelude = "var __name = (f) => f;"

const escapeJson = (data: unknown): string =>
  JSON.stringify(data).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029")

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`

export interface Page {
  readonly html: string
  /** Headers for the live page; a report carries the same policy in a meta tag. */
  readonly headers: Readonly<Record<string, string>>
}

/** The page: live (reads the API of the server that serves it) or a report (reads its embedded data). */
export const page = (
  options: { readonly mode: "live" } | { readonly mode: "report"; readonly data: ReportData }
): Page => {
  const script =
    `${prelude}(${viewerApp.toString()})((${viewerKit.toString()})(), ${viewerTrace.toString()}, ${viewerLogs.toString()})`
  const connect = options.mode === "live" ? "'self'" : "'none'"
  const policy = [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(css)}`,
    `connect-src ${connect}`,
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'"
  ].join("; ")
  const data = options.mode === "report"
    ? `<script type="application/json" id="report-data">${escapeJson(options.data)}</script>\n`
    : ""
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${policy}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${N.LIBRARY_NAME} ${options.mode === "live" ? "viewer" : "report"}</title>
<style>${css}</style>
</head>
<body>
<div id="app" data-brand="${N.LIBRARY_NAME}"></div>
${data}<script>${script}</script>
</body>
</html>
`
  return { html, headers: { "content-security-policy": `${policy}; frame-ancestors 'none'` } }
}
