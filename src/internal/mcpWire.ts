/**
 * What the MCP instrumentation reads off the wire and writes back, whoever makes the spans (the
 * Effect client and server, the official SDK's transports): a JSON-RPC message classified, the
 * operation a request or notification is (method, id, tool, prompt, resource, protocol version),
 * its span name and attributes, the outcome of its response, and trace context in `params._meta`.
 * Nothing here makes a span or throws, whatever the peer sends.
 */
import * as Otel from "@opentelemetry/api"
import type { GenAISettings } from "./config.ts"
import { boundedJson } from "./content.ts"
import * as N from "./semconv.ts"

export type JsonRpcId = string | number
export type Params = Readonly<Record<string, unknown>>

/** A JSON-RPC message the instrumentation understands; anything else is passed on untouched. */
export type Classified =
  | {
    readonly _tag: "Request"
    readonly method: string
    readonly id: JsonRpcId
    readonly params: Params | undefined
    readonly jsonrpc: unknown
  }
  | {
    readonly _tag: "Notification"
    readonly method: string
    readonly params: Params | undefined
    readonly jsonrpc: unknown
  }
  | {
    readonly _tag: "Response"
    readonly id: JsonRpcId | undefined
    readonly result: unknown
    readonly error: { readonly code: unknown; readonly message: unknown } | undefined
    readonly jsonrpc: unknown
  }

/** Names (methods, tools, prompts) longer than this are a peer's garbage, not a span name. */
const maxNameLength = 256
/** Longest `_meta` value read: W3C asks for 512 characters of `tracestate` and 8192 bytes of `baggage`. */
export const maxMetaValueLength = 8192
/** Longest status description kept from a JSON-RPC error message. */
const maxMessageLength = 1024

/** The `Mcp-Session-Id` and `MCP-Protocol-Version` HTTP headers (lower case, as Effect keeps them). */
export const SESSION_HEADER = "mcp-session-id"
export const PROTOCOL_VERSION_HEADER = "mcp-protocol-version"
/** The first stateless revision: no `initialize`, no session. */
const STATELESS_REVISION = "2026-07-28"

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const shortString = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" && value.length <= maxNameLength ? value : undefined

const isId = (value: unknown): value is JsonRpcId =>
  (typeof value === "string" && value.length <= maxNameLength) || (typeof value === "number" && Number.isFinite(value))

/** The key a request and its response share in a table of requests in flight. */
export const idKey = (id: JsonRpcId): string => `${typeof id}:${id}`

/** Whether a protocol revision is one of the stateless ones (2026-07-28 and later). */
export const isStateless = (version: string | undefined): boolean =>
  version !== undefined && version >= STATELESS_REVISION

export const classify = (message: unknown): Classified | undefined => {
  if (!isRecord(message)) return undefined
  const params = isRecord(message.params) ? message.params : undefined
  if (typeof message.method === "string") {
    const method = shortString(message.method)
    // Effect RPC's own control messages are not MCP.
    if (method === undefined || method.startsWith("@effect/")) return undefined
    return isId(message.id)
      ? { _tag: "Request", method, id: message.id, params, jsonrpc: message.jsonrpc }
      : { _tag: "Notification", method, params, jsonrpc: message.jsonrpc }
  }
  if (!("result" in message) && !("error" in message)) return undefined
  const error = isRecord(message.error) ? { code: message.error.code, message: message.error.message } : undefined
  return {
    _tag: "Response",
    id: isId(message.id) ? message.id : undefined,
    result: message.result,
    error,
    jsonrpc: message.jsonrpc
  }
}

/**
 * A successful response as a JSON serializer writes it, keys in the usual order
 * (`{"jsonrpc":"2.0","id":7,"result":…`), recognized by its first bytes.
 */
const successPrefix = /^\{"jsonrpc":"2\.0","id":(?:(-?(?:0|[1-9]\d{0,14}))|"([^"\\]{0,256})"),"result":/

/**
 * The id of a line that is a successful response, read off its first bytes without parsing the
 * result; `undefined` when the line is anything else (or written otherwise), then to be parsed.
 */
export const successId = (line: string): JsonRpcId | undefined => {
  const match = successPrefix.exec(line)
  return match === null ? undefined : match[1] !== undefined ? Number(match[1]) : match[2]
}

/**
 * Whether a response text may report a tool's failure (`"isError":true` outside any string: inside
 * a JSON string every quote is escaped, so the sequence cannot occur there).
 */
export const mayReportToolError = (text: string): boolean => text.includes("\"isError\":true")

/** A JSON text parsed, or `undefined` when it is not JSON. */
export const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

// -----------------------------------------------------------------------------
// The operation a request or notification is
// -----------------------------------------------------------------------------

export interface Operation {
  readonly method: string
  /** `jsonrpc.request.id`; absent for a notification. */
  readonly requestId: string | undefined
  readonly toolName: string | undefined
  readonly promptName: string | undefined
  readonly resourceUri: string | undefined
  readonly arguments: unknown
  /** Only when the message's `jsonrpc` is not `2.0`. */
  readonly jsonrpcVersion: string | undefined
  /** What the message itself says: the 2026-07-28 `_meta` field, or `initialize`'s offer. */
  readonly protocolVersion: string | undefined
  /** `{mcp.method.name} {target}`, or the method alone. */
  readonly spanName: string
}

/** A request or a notification. */
export type Sent = Exclude<Classified, { readonly _tag: "Response" }>

export const operationOf = (message: Sent): Operation => {
  const params = message.params
  const method = message.method
  const toolName = method === N.McpMethod.toolsCall ? shortString(params?.name) : undefined
  const promptName = method === N.McpMethod.promptsGet
    ? shortString(params?.name)
    : method === N.McpMethod.completionComplete && isRecord(params?.ref) && params.ref.type === "ref/prompt"
    ? shortString(params.ref.name)
    : undefined
  const resourceUri = method === N.McpMethod.resourcesRead || method === N.McpMethod.resourcesSubscribe ||
      method === N.McpMethod.resourcesUnsubscribe || method === N.McpMethod.resourcesUpdated
    ? typeof params?.uri === "string" && params.uri.length <= maxMetaValueLength ? params.uri : undefined
    : undefined
  const meta = isRecord(params?._meta) ? params._meta : undefined
  const protocolVersion = shortString(meta?.[N.McpMetaKey.protocolVersion]) ??
    (method === N.McpMethod.initialize ? shortString(params?.protocolVersion) : undefined)
  const target = toolName ?? promptName
  return {
    method,
    requestId: message._tag === "Request" ? String(message.id) : undefined,
    toolName,
    promptName,
    resourceUri,
    arguments: method === N.McpMethod.toolsCall ? params?.arguments : undefined,
    jsonrpcVersion: message.jsonrpc === "2.0" ? undefined : shortString(String(message.jsonrpc)),
    protocolVersion,
    spanName: target !== undefined ? `${method} ${target}` : method
  }
}

// -----------------------------------------------------------------------------
// Attributes
// -----------------------------------------------------------------------------

/** Where the peer is: stdio or HTTP, and its address when known. */
export interface Peer {
  readonly transport: typeof N.NetworkTransport[keyof typeof N.NetworkTransport]
  readonly http: boolean
  /** `network.protocol.version`: the HTTP version, when the transport knows it. */
  readonly protocolVersion?: string | undefined
  readonly serverAddress?: string | undefined
  readonly serverPort?: number | undefined
  readonly clientAddress?: string | undefined
  readonly clientPort?: number | undefined
}

export const stdioPeer: Peer = { transport: N.NetworkTransport.pipe, http: false }

/**
 * `network.protocol.version` of an HTTP message from Node's `httpVersion` (`1.1`, `2.0`), as the
 * conventions write it (`1.1`, `2`); `undefined` for anything else.
 */
export const httpVersionOf = (source: unknown): string | undefined => {
  const version = isRecord(source) ? source.httpVersion : undefined
  if (typeof version !== "string") return undefined
  const match = /^([1-9])\.([0-9])$/.exec(version)
  return match === null ? undefined : match[1] === "1" ? version : match[2] === "0" ? match[1] : version
}

/** The peer of a client that talks to `url` over Streamable HTTP. */
export const httpPeer = (url: string | URL): Peer => {
  try {
    const parsed = new URL(url)
    const port = parsed.port !== "" ? Number(parsed.port) : parsed.protocol === "https:" ? 443 : 80
    return {
      transport: N.NetworkTransport.tcp,
      http: true,
      serverAddress: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
      serverPort: port
    }
  } catch {
    return { transport: N.NetworkTransport.tcp, http: true }
  }
}

export type Attributes = Record<string, string | number | boolean>

const put = (attributes: Attributes, key: string, value: string | number | boolean | undefined): void => {
  if (value !== undefined) attributes[key] = value
}

/** The attributes a span starts with. Tool arguments only with content capture. */
export const startAttributes = (
  operation: Operation,
  peer: Peer,
  session: { readonly sessionId: string | undefined; readonly protocolVersion: string | undefined },
  settings: GenAISettings
): Attributes => {
  const attributes: Attributes = { [N.ATTR_MCP_METHOD_NAME]: operation.method }
  const version = operation.protocolVersion ?? session.protocolVersion
  if (operation.method === N.McpMethod.toolsCall) attributes[N.ATTR_GEN_AI_OPERATION_NAME] = N.Operation.executeTool
  put(attributes, N.ATTR_GEN_AI_TOOL_NAME, operation.toolName)
  put(attributes, N.ATTR_GEN_AI_PROMPT_NAME, operation.promptName)
  put(attributes, N.ATTR_MCP_RESOURCE_URI, operation.resourceUri)
  put(attributes, N.ATTR_JSONRPC_REQUEST_ID, operation.requestId)
  put(attributes, N.ATTR_JSONRPC_PROTOCOL_VERSION, operation.jsonrpcVersion)
  put(attributes, N.ATTR_MCP_PROTOCOL_VERSION, version)
  // The stateless revision has no session: the conventions forbid the attribute there.
  if (!isStateless(version)) put(attributes, N.ATTR_MCP_SESSION_ID, shortString(session.sessionId))
  put(attributes, N.ATTR_NETWORK_TRANSPORT, peer.transport)
  if (peer.http) {
    attributes[N.ATTR_NETWORK_PROTOCOL_NAME] = N.NETWORK_PROTOCOL_HTTP
    put(attributes, N.ATTR_NETWORK_PROTOCOL_VERSION, peer.protocolVersion)
  }
  if (peer.serverAddress !== undefined) {
    attributes[N.ATTR_SERVER_ADDRESS] = peer.serverAddress
    put(attributes, N.ATTR_SERVER_PORT, peer.serverPort)
  }
  if (peer.clientAddress !== undefined) {
    attributes[N.ATTR_CLIENT_ADDRESS] = peer.clientAddress
    put(attributes, N.ATTR_CLIENT_PORT, peer.clientPort)
  }
  if (settings.captureContent && operation.arguments !== undefined) {
    attributes[N.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = boundedJson(operation.arguments, settings.maxContentLength)
  }
  return attributes
}

/** How an operation ended, as its span and metrics record it. */
export interface Outcome {
  /** `error.type`; absent on success. */
  readonly errorType: string | undefined
  /** `rpc.response.status_code`: the JSON-RPC error code. */
  readonly statusCode: string | undefined
  /** The status description (a JSON-RPC error's message). */
  readonly message: string | undefined
  /** `gen_ai.tool.call.result` (already JSON, bounded) when content is captured and the tool succeeded. */
  readonly result: string | undefined
  /** The protocol revision `initialize` settled on. */
  readonly protocolVersion: string | undefined
}

export const succeeded: Outcome = {
  errorType: undefined,
  statusCode: undefined,
  message: undefined,
  result: undefined,
  protocolVersion: undefined
}

export const failed = (errorType: string, message?: string | undefined): Outcome => ({
  ...succeeded,
  errorType,
  message: message !== undefined ? message.slice(0, maxMessageLength) : undefined
})

const codeOf = (code: unknown): string =>
  typeof code === "number" && Number.isInteger(code)
    ? String(code)
    : typeof code === "string" && code !== "" && code.length <= 64
    ? code
    : N.ERROR_TYPE_OTHER

/**
 * JSON-RPC error codes that say the caller sent a request the receiver could not serve (parse
 * error, invalid request, method not found, invalid params, MCP's resource not found): errors on
 * the caller's span, not on the receiver's (the conventions' `rpc.response.status_code` on a server).
 */
const callerErrorCodes: ReadonlySet<string> = new Set(["-32700", "-32600", "-32601", "-32602", "-32002"])

/**
 * The outcome a response reports for `method`, on the `side` that sent the request (`client`) or
 * answered it (`server`).
 */
export const outcomeOf = (
  method: string,
  response: Classified & { readonly _tag: "Response" },
  settings: GenAISettings,
  side: "client" | "server" = "client"
): Outcome => {
  if (response.error !== undefined) {
    const code = codeOf(response.error.code)
    // The receiver did its job: the request was the caller's mistake. The code is still recorded.
    if (side === "server" && callerErrorCodes.has(code)) return { ...succeeded, statusCode: code }
    return {
      ...succeeded,
      errorType: code,
      statusCode: code,
      message: typeof response.error.message === "string"
        ? response.error.message.slice(0, maxMessageLength)
        : undefined
    }
  }
  const result = response.result
  if (method === N.McpMethod.initialize) {
    return isRecord(result) ? { ...succeeded, protocolVersion: shortString(result.protocolVersion) } : succeeded
  }
  if (method !== N.McpMethod.toolsCall || !isRecord(result)) return succeeded
  if (result.isError === true) return { ...succeeded, errorType: N.McpErrorType.toolError }
  return settings.captureContent
    ? { ...succeeded, result: boundedJson(result.structuredContent ?? result.content, settings.maxContentLength) }
    : succeeded
}

/** The outcome's attributes, added when the span ends. */
export const endAttributes = (outcome: Outcome): Attributes => {
  const attributes: Attributes = {}
  put(attributes, N.ATTR_ERROR_TYPE, outcome.errorType)
  put(attributes, N.ATTR_RPC_RESPONSE_STATUS_CODE, outcome.statusCode)
  put(attributes, N.ATTR_GEN_AI_TOOL_CALL_RESULT, outcome.result)
  put(attributes, N.ATTR_MCP_PROTOCOL_VERSION, outcome.protocolVersion)
  return attributes
}

/** The subset of a span's attributes a metric point carries (`keys`: bounded values only). */
export const metricAttributes = (attributes: Attributes, keys: ReadonlyArray<string>): Attributes => {
  const picked: Attributes = {}
  for (const key of keys) {
    const value = attributes[key]
    if (value !== undefined) picked[key] = value
  }
  return picked
}

// -----------------------------------------------------------------------------
// Trace context in `params._meta`
// -----------------------------------------------------------------------------

export type Propagator = Pick<Otel.TextMapPropagator, "inject" | "extract">

/** Reads a string carrier (`_meta`, HTTP headers), ignoring anything but short enough strings. */
const boundedGetter: Otel.TextMapGetter<Readonly<Record<string, unknown>>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key] ?? carrier[key.toLowerCase()]
    return typeof value === "string" && value.length <= maxMetaValueLength ? value : undefined
  }
}

/** The context a carrier holds (`ROOT_CONTEXT` when it holds none, or a broken one). */
export const extract = (propagator: Propagator, carrier: unknown): Otel.Context => {
  if (!isRecord(carrier)) return Otel.ROOT_CONTEXT
  try {
    return propagator.extract(Otel.ROOT_CONTEXT, carrier, boundedGetter)
  } catch {
    // A third-party propagator that throws must not fail the request.
    return Otel.ROOT_CONTEXT
  }
}

/** The valid remote span context in `context`, if any. */
export const remoteSpanContext = (context: Otel.Context): Otel.SpanContext | undefined => {
  const spanContext = Otel.trace.getSpanContext(context)
  return spanContext !== undefined && Otel.trace.isSpanContextValid(spanContext) ? spanContext : undefined
}

/** The context `params._meta` carries: a request's own trace context. */
export const extractMeta = (propagator: Propagator, params: Params | undefined): Otel.Context =>
  extract(propagator, params?._meta)

/**
 * `params` with the propagator's fields for `spanContext` (and `baggage`) added to `_meta`.
 * Keys already there are kept: whoever put them there meant them.
 */
export const injectMeta = (
  propagator: Propagator,
  params: Params | undefined,
  spanContext: Otel.SpanContext | undefined,
  baggage: Otel.Baggage | undefined
): Params | undefined => {
  let context = Otel.ROOT_CONTEXT
  if (spanContext !== undefined && Otel.trace.isSpanContextValid(spanContext)) {
    context = Otel.trace.setSpanContext(context, spanContext)
  }
  if (baggage !== undefined && baggage.getAllEntries().length > 0) {
    context = Otel.propagation.setBaggage(context, baggage)
  }
  if (context === Otel.ROOT_CONTEXT) return params
  const carrier: Record<string, string> = {}
  try {
    propagator.inject(context, carrier, Otel.defaultTextMapSetter)
  } catch {
    return params
  }
  const keys = Object.keys(carrier)
  if (keys.length === 0) return params
  const meta: Record<string, unknown> = isRecord(params?._meta) ? { ...params._meta } : {}
  for (const key of keys) if (meta[key] === undefined) meta[key] = carrier[key]
  return { ...params, _meta: meta }
}

/** Baggage entries as an OTel `Baggage`, or `undefined` when there are none. */
export const toBaggage = (entries: Readonly<Record<string, string>>): Otel.Baggage | undefined => {
  const keys = Object.keys(entries)
  if (keys.length === 0) return undefined
  return Otel.propagation.createBaggage(Object.fromEntries(keys.map((key) => [key, { value: entries[key]! }])))
}
