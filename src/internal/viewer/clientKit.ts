/**
 * The helpers the viewer's browser code shares: building DOM nodes from untrusted text (only
 * `createElement`, `textContent` and attributes this code names; links only to `#/` routes),
 * formatting, fetching, and the chat rendering of GenAI messages. Like the rest of the browser
 * code it is one function whose source the page embeds, so it references nothing outside itself.
 */
import type { Content, Message, Part } from "./spanView.ts"

// The few DOM types the browser code uses, declared here: the project compiles for Node, without
// the DOM library, and these names stay local to the viewer's modules.
export interface Nd {
  readonly __node?: never
}
export interface El extends Nd {
  className: string
  textContent: string | null
  readonly style: Record<string, string>
  readonly dataset: Record<string, string | undefined>
  readonly classList: { add(name: string): void; remove(name: string): void }
  setAttribute(name: string, value: string): void
  addEventListener(type: string, listener: (event: Ev) => void): void
  appendChild(node: Nd): Nd
  replaceChildren(...nodes: Array<Nd>): void
  closest(selector: string): El | null
  getAttribute(name: string): string | null
  scrollTop: number
  readonly clientHeight: number
}
export interface Ev {
  readonly target: unknown
  preventDefault(): void
}
declare const document: {
  createElement(tag: string): El
  createTextNode(text: string): Nd
  createDocumentFragment(): El
  getElementById(id: string): El | null
  querySelector(selector: string): El | null
  readonly documentElement: El
}

export type Child = Nd | string | null | undefined | false | ReadonlyArray<Child>
export type Props = Record<string, string | number | boolean | undefined | ((event: Ev) => void)>

/** Runs in the browser; references nothing outside its own body. */
export function viewerKit() {
  /* oxlint-disable unicorn/consistent-function-scoping -- the page embeds this function's source alone */
  const append = (el: Nd | El, children: ReadonlyArray<Child>): void => {
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue
      if (Array.isArray(child)) append(el, child)
      else (el as El).appendChild(typeof child === "string" ? document.createTextNode(child) : child as Nd)
    }
  }
  const h = (tag: string, props: Props | null, ...children: Array<Child>): El => {
    const el = document.createElement(tag)
    for (const [key, value] of Object.entries(props ?? {})) {
      if (value === undefined || value === false) continue
      if (typeof value === "function") el.addEventListener(key.slice(2), value)
      else if (key === "class") el.className = String(value)
      else if (key === "href") el.setAttribute("href", `#${String(value)}`)
      else el.setAttribute(key, String(value))
    }
    append(el, children)
    return el
  }
  const enc = encodeURIComponent
  const link = (route: string, ...children: Array<Child>) => h("a", { href: route }, ...children)

  const fmtMs = (ms: number): string =>
    ms < 1 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${ms.toFixed(ms < 10 ? 1 : 0)} ms` : `${(ms / 1000).toFixed(2)} s`
  const fmtInt = (n: number | undefined | null): string => n === undefined || n === null ? "" : n.toLocaleString("en")
  const fmtCost = (cost: number | null | undefined, currency?: string | null): string =>
    cost === null || cost === undefined
      ? ""
      : currency === null || currency === undefined || currency === "USD"
      ? `$${cost < 0.01 ? cost.toPrecision(2) : cost.toFixed(4)}`
      : `${cost.toPrecision(3)} ${currency}`
  const fmtTime = (ms: number): string => {
    const d = new Date(ms)
    return `${d.toLocaleDateString("en-CA")} ${d.toLocaleTimeString("en-GB")}.${
      String(d.getMilliseconds()).padStart(3, "0")
    }`
  }
  const fmtValue = (unit: string, value: number | null): string =>
    value === null ? "" : unit === "s" ? fmtMs(value * 1000) : value.toLocaleString("en", { maximumFractionDigits: 1 })

  const getJson = async <A>(path: string): Promise<A> => {
    const response = await fetch(path)
    if (!response.ok) throw new Error(`${path}: ${response.status}`)
    return response.json() as Promise<A>
  }

  const kv = (rows: ReadonlyArray<readonly [string, Child]>, testid?: string) =>
    h(
      "table",
      { class: "kv", "data-testid": testid },
      h("tbody", null, rows.map(([k, v]) => h("tr", null, h("th", null, k), h("td", null, v))))
    )
  const section = (title: string, testid: string, ...body: Array<Child>) =>
    h("section", { class: "section", "data-testid": testid }, h("h3", null, title), ...body)
  const pretty = (text: string): string => {
    try {
      return JSON.stringify(JSON.parse(text), null, 2)
    } catch {
      return text
    }
  }
  const partView = (part: Part): El => {
    const content = (value: unknown) => typeof value === "string" ? value : JSON.stringify(value, null, 2)
    switch (part.type) {
      case "text":
        return h("div", { class: "part part-text" }, content(part["content"]))
      case "reasoning":
        return h("details", { class: "part part-reasoning" }, h("summary", null, "reasoning"), content(part["content"]))
      case "tool_call":
        return h(
          "div",
          { class: "part part-tool-call", "data-testid": "tool-call" },
          h("span", { class: "tag" }, "tool call"),
          ` ${content(part["name"])}`,
          part["id"] === undefined ? null : h("span", { class: "dim" }, ` ${content(part["id"])}`),
          part["arguments"] === undefined ? null : h("pre", null, content(part["arguments"]))
        )
      case "tool_call_response":
        return h(
          "div",
          { class: "part part-tool-response" },
          h("span", { class: "tag" }, "tool result"),
          part["id"] === undefined ? null : h("span", { class: "dim" }, ` ${content(part["id"])}`),
          h("pre", null, content(part["response"]))
        )
      default:
        return h("div", { class: "part" }, h("span", { class: "tag" }, part.type), h("pre", null, content(part)))
    }
  }
  const messageView = (message: Message): El =>
    h(
      "div",
      { class: `msg role-${message.role.replace(/[^a-z_]/gi, "")}`, "data-testid": "message" },
      h(
        "div",
        { class: "role" },
        message.role,
        message.finish_reason === undefined ? null : h("span", { class: "dim" }, ` · ${message.finish_reason}`)
      ),
      message.parts.map(partView)
    )
  const chat = (
    system: Content<ReadonlyArray<Part>> | undefined,
    input: Content<ReadonlyArray<Message>> | undefined,
    output: Content<ReadonlyArray<Message>> | undefined
  ): El => {
    if (system === undefined && input === undefined && output === undefined) {
      return h(
        "p",
        { class: "no-content", "data-testid": "no-content" },
        "Message content was not captured (turn on content capture to see the messages)."
      )
    }
    const messages = (content: Content<ReadonlyArray<Message>> | undefined, label: string) =>
      content === undefined ? null : "parsed" in content
        ? h("div", { class: "chat-group", "data-testid": `chat-${label}` }, content.parsed.map(messageView))
        : h("pre", { "data-testid": `chat-${label}` }, content.text)
    return h(
      "div",
      { class: "chat", "data-testid": "chat" },
      system === undefined ? null : "parsed" in system
        ? messageView({ role: "system", parts: system.parsed })
        : h("pre", null, system.text),
      messages(input, "input"),
      output === undefined ? null : h("div", { class: "chat-divider" }, "response"),
      messages(output, "output")
    )
  }

  /** "‹ newer · a–b of n · older ›" over `total` rows shown `limit` at a time from `offset`; `go` moves. */
  const pager = (
    offset: number,
    limit: number,
    total: number,
    go: (changes: Record<string, string>) => void,
    testId: string
  ): El =>
    h(
      "div",
      { class: "pager" },
      h(
        "button",
        { disabled: offset === 0, onclick: () => go({ offset: String(Math.max(0, offset - limit)) }) },
        "‹ newer"
      ),
      h(
        "span",
        { "data-testid": testId },
        `${total === 0 ? 0 : offset + 1}–${Math.min(offset + limit, total)} of ${total}`
      ),
      h(
        "button",
        { disabled: offset + limit >= total, onclick: () => go({ offset: String(offset + limit) }) },
        "older ›"
      )
    )

  return { append, h, enc, link, fmtMs, fmtInt, fmtCost, fmtTime, fmtValue, getJson, kv, section, pretty, chat, pager }
}

/** The helpers, as the other browser functions receive them. */
export type Kit = ReturnType<typeof viewerKit>
