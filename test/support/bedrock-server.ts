/**
 * A local stand-in for the Bedrock runtime: a `node:http` server on 127.0.0.1 that checks each
 * request's AWS Signature V4 the way AWS does (recomputed here with `node:crypto`, independently
 * of the library's Web Crypto signer) or its bearer API key, and answers with the next scripted
 * reply in Bedrock's wire formats: JSON bodies, restJson1 errors (`x-amzn-errortype` and a
 * `{message}` body), and `application/vnd.amazon.eventstream` bodies made of real frames (CRC32
 * from `node:zlib`), written chunk by chunk — or misbehaves on purpose (a cut, a stall, a frame
 * that claims to be huge).
 *
 * A request that fails the signature check gets the 403 `InvalidSignatureException` AWS sends,
 * so a signing mistake fails the test that made the call.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as crypto from "node:crypto"
import * as http from "node:http"
import * as zlib from "node:zlib"
import { listen, LocalServer } from "./provider-server.ts"

// -----------------------------------------------------------------------------
// Event-stream frames
// -----------------------------------------------------------------------------

/** A header value with its wire type. */
export type FrameHeader =
  | { readonly type: "string"; readonly value: string }
  | { readonly type: "bytes"; readonly value: Uint8Array }
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "int32"; readonly value: number }
  | { readonly type: "int64"; readonly value: bigint }
  | { readonly type: "uuid"; readonly value: Uint8Array }

const headerBytes = (name: string, header: FrameHeader): Buffer => {
  const nameBytes = Buffer.from(name, "utf8")
  const head = Buffer.concat([Buffer.from([nameBytes.length]), nameBytes])
  switch (header.type) {
    case "string":
    case "bytes": {
      const value = header.type === "string" ? Buffer.from(header.value, "utf8") : Buffer.from(header.value)
      const length = Buffer.alloc(3)
      length[0] = header.type === "string" ? 7 : 6
      length.writeUInt16BE(value.length, 1)
      return Buffer.concat([head, length, value])
    }
    case "bool":
      return Buffer.concat([head, Buffer.from([header.value ? 0 : 1])])
    case "int32": {
      const value = Buffer.alloc(5)
      value[0] = 4
      value.writeInt32BE(header.value, 1)
      return Buffer.concat([head, value])
    }
    case "int64": {
      const value = Buffer.alloc(9)
      value[0] = 5
      value.writeBigInt64BE(header.value, 1)
      return Buffer.concat([head, value])
    }
    case "uuid":
      return Buffer.concat([head, Buffer.from([9]), Buffer.from(header.value)])
  }
}

/** One frame: prelude (lengths and their CRC32), headers, payload, and the message CRC32. */
export const encodeFrame = (headers: Readonly<Record<string, FrameHeader>>, payload: Uint8Array): Uint8Array => {
  const headerSection = Buffer.concat(Object.entries(headers).map(([name, header]) => headerBytes(name, header)))
  const total = 12 + headerSection.length + payload.length + 4
  const prelude = Buffer.alloc(12)
  prelude.writeUInt32BE(total, 0)
  prelude.writeUInt32BE(headerSection.length, 4)
  prelude.writeUInt32BE(zlib.crc32(prelude.subarray(0, 8)), 8)
  const body = Buffer.concat([prelude, headerSection, Buffer.from(payload)])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(zlib.crc32(body), 0)
  return new Uint8Array(Buffer.concat([body, crc]))
}

const text = (value: string): FrameHeader => ({ type: "string", value })

/** An event frame, as Bedrock sends one (with the `p` padding field Bedrock adds to payloads). */
export const eventFrame = (eventType: string, payload: Record<string, unknown>): Uint8Array =>
  encodeFrame({
    ":event-type": text(eventType),
    ":content-type": text("application/json"),
    ":message-type": text("event")
  }, Buffer.from(JSON.stringify({ ...payload, p: "abcdefghijklmnopqrstuvwxyzABCDEF" }), "utf8"))

/** An exception frame (`:message-type` `exception`), e.g. `throttlingException`. */
export const exceptionFrame = (exceptionType: string, message: string): Uint8Array =>
  encodeFrame({
    ":exception-type": text(exceptionType),
    ":content-type": text("application/json"),
    ":message-type": text("exception")
  }, Buffer.from(JSON.stringify({ message }), "utf8"))

/** Frames concatenated into one body. */
export const concatFrames = (frames: ReadonlyArray<Uint8Array>): Uint8Array => new Uint8Array(Buffer.concat(frames))

// -----------------------------------------------------------------------------
// SigV4, checked as AWS checks it
// -----------------------------------------------------------------------------

const rfc3986 = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

const sha256Hex = (data: crypto.BinaryLike): string => crypto.createHash("sha256").update(data).digest("hex")
const hmac = (key: crypto.BinaryLike, data: string): Buffer => crypto.createHmac("sha256", key).update(data).digest()

/** What a signature covers, as the server sees the request. */
export interface SignedRequest {
  readonly method: string
  /** The request target as it arrived (`/model/a%3A0/converse?x=1`). */
  readonly target: string
  readonly headers: Readonly<Record<string, string>>
  readonly signedHeaders: ReadonlyArray<string>
  readonly body: Uint8Array
  readonly amzDate: string
  readonly scope: string
  readonly secretAccessKey: string
}

/** The signature AWS computes for a request (the canonical request, string to sign, derived key). */
export const signatureOf = (request: SignedRequest): string => {
  const url = new URL(request.target, "http://server.invalid")
  const query = [...url.searchParams]
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .toSorted((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)
    .map(([k, v]) => `${k}=${v}`)
    .join("&")
  // The path as sent, each segment encoded once more (every service but S3).
  const path = request.target.split("?")[0]!.split("/").map(rfc3986).join("/")
  const canonicalHeaders = request.signedHeaders
    .map((name) => `${name}:${(request.headers[name] ?? "").trim().replace(/\s+/g, " ")}\n`)
    .join("")
  const canonical = [
    request.method,
    path,
    query,
    canonicalHeaders,
    request.signedHeaders.join(";"),
    sha256Hex(request.body)
  ].join("\n")
  const stringToSign = ["AWS4-HMAC-SHA256", request.amzDate, request.scope, sha256Hex(canonical)].join("\n")
  const [day, region, service] = request.scope.split("/")
  const key = hmac(hmac(hmac(hmac(`AWS4${request.secretAccessKey}`, day!), region!), service!), "aws4_request")
  return crypto.createHmac("sha256", key).update(stringToSign).digest("hex")
}

/** Credentials the server accepts. */
export interface ServerCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
}

/** How a request authenticated, or why it did not. */
export type Auth =
  | { readonly kind: "sigv4"; readonly amzDate: string; readonly signature: string; readonly signedHeaders: string }
  | { readonly kind: "bearer"; readonly token: string }
  | { readonly kind: "none" }
  | { readonly kind: "rejected"; readonly reason: string }

const authorization =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/

const checkAuth = (
  req: http.IncomingMessage,
  body: Uint8Array,
  expect: { readonly credentials?: ServerCredentials; readonly bearer?: string; readonly region: string }
): Auth => {
  const header = req.headers.authorization
  if (header === undefined) return { kind: "none" }
  if (header.startsWith("Bearer ")) {
    const token = header.slice(7)
    return token === expect.bearer ? { kind: "bearer", token } : { kind: "rejected", reason: "unknown bearer token" }
  }
  const m = authorization.exec(header)
  if (m === null) return { kind: "rejected", reason: `malformed authorization: ${header.slice(0, 40)}` }
  const [, accessKeyId, day, region, service, signed, signature] = m
  const credentials = expect.credentials
  if (credentials === undefined || accessKeyId !== credentials.accessKeyId) {
    return { kind: "rejected", reason: "unknown access key" }
  }
  if (region !== expect.region || service !== "bedrock") {
    return { kind: "rejected", reason: `scope ${region}/${service}` }
  }
  const amzDate = String(req.headers["x-amz-date"] ?? "")
  if (!amzDate.startsWith(day!)) return { kind: "rejected", reason: "x-amz-date outside the credential scope" }
  const at = Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"))
  if (!Number.isFinite(at) || Math.abs(Date.now() - at) > 5 * 60 * 1000) {
    return { kind: "rejected", reason: "signature expired" }
  }
  const signedHeaders = signed!.split(";")
  for (
    const required of [
      "host",
      "x-amz-date",
      ...(credentials.sessionToken !== undefined ? ["x-amz-security-token"] : [])
    ]
  ) {
    if (!signedHeaders.includes(required)) return { kind: "rejected", reason: `${required} is not signed` }
  }
  if (credentials.sessionToken !== undefined && req.headers["x-amz-security-token"] !== credentials.sessionToken) {
    return { kind: "rejected", reason: "wrong security token" }
  }
  const headers = Object.fromEntries(
    Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(",") : value ?? ""])
  )
  const expected = signatureOf({
    method: req.method ?? "POST",
    target: req.url ?? "/",
    headers,
    signedHeaders,
    body,
    amzDate,
    scope: `${day}/${region}/${service}/aws4_request`,
    secretAccessKey: credentials.secretAccessKey
  })
  return expected === signature
    ? { kind: "sigv4", amzDate, signature: signature!, signedHeaders: signed! }
    : { kind: "rejected", reason: "signature mismatch" }
}

// -----------------------------------------------------------------------------
// The server
// -----------------------------------------------------------------------------

/** One scripted reply. */
export type Reply =
  | {
    readonly kind: "json"
    readonly status?: number
    readonly body: unknown
    readonly headers?: Record<string, string>
  }
  /** A restJson1 error: `x-amzn-errortype: {type}:http://internal.amazon.com/…` and `{"message": …}`. */
  | {
    readonly kind: "error"
    readonly status: number
    readonly type: string
    readonly message: string
    readonly headers?: Record<string, string>
  }
  /** An event stream: each chunk written on its own, `delayMs` apart. */
  | {
    readonly kind: "events"
    readonly chunks: ReadonlyArray<Uint8Array>
    readonly delayMs?: number
    readonly ending?: "end" | "cut" | "stall"
  }
  /** A frame whose prelude claims `claimed` bytes, followed by `send` bytes of filler. */
  | { readonly kind: "huge-frame"; readonly claimed: number; readonly send: number }
  /** Accepts the request and never answers. */
  | { readonly kind: "stall" }
  /**
   * A Titan Text Embeddings V2 reply computed from the request, `delayMs` later: the vector is
   * `[inputText.length, dimensions, index of the text's first letter]`, the token count its words.
   */
  | { readonly kind: "embedding"; readonly delayMs?: number }

export interface Received {
  readonly path: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: any
  readonly auth: Auth
}

export const REQUEST_ID = "b5f6c2a0-4b1e-4a4e-9c3d-2f1e0d9c8b7a"

export class BedrockServer extends LocalServer<Reply, Received> {
  /** Bytes of a `huge-frame` reply the server managed to write before the client hung up. */
  hugeBytesWritten = 0
  /** The most requests the server was answering at once. */
  maxInFlight = 0
  private inFlight = 0

  constructor(
    server: http.Server,
    url: string,
    readonly expect: { readonly credentials?: ServerCredentials; readonly bearer?: string; readonly region: string }
  ) {
    super(server, url)
  }

  override reply(...replies: ReadonlyArray<Reply>): this {
    this.hugeBytesWritten = 0
    this.maxInFlight = 0
    return super.reply(...replies)
  }

  protected override arrived(res: http.ServerResponse): void {
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    res.on("close", () => this.inFlight--)
  }

  protected answer(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer, body: unknown): void {
    const auth = checkAuth(req, new Uint8Array(raw), this.expect)
    this.received.push({ path: req.url ?? "", headers: req.headers, body, auth })
    if (auth.kind === "rejected") {
      this.send({
        kind: "error",
        status: 403,
        type: "InvalidSignatureException",
        message: `The request signature we calculated does not match the signature you provided (${auth.reason}).`
      }, res)
      return
    }
    const reply = this.script.shift() ??
      { kind: "error", status: 500, type: "InternalServerException", message: "script exhausted" }
    if (reply.kind === "embedding") {
      const input = body as { readonly inputText?: string; readonly dimensions?: number }
      const inputText = input.inputText ?? ""
      this.later(reply.delayMs ?? 1, () =>
        this.send({
          kind: "json",
          body: {
            embedding: [inputText.length, input.dimensions ?? 1024, inputText.charCodeAt(0) - 96],
            inputTextTokenCount: inputText.split(" ").length
          }
        }, res))
      return
    }
    this.send(reply, res)
  }

  private send(reply: Reply, res: http.ServerResponse): void {
    const base = { "x-amzn-requestid": REQUEST_ID }
    switch (reply.kind) {
      case "embedding":
        return
      case "json":
        res.writeHead(reply.status ?? 200, { ...base, "content-type": "application/json", ...reply.headers })
        res.end(JSON.stringify(reply.body))
        return
      case "error":
        res.writeHead(reply.status, {
          ...base,
          "content-type": "application/json",
          "x-amzn-errortype": `${reply.type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
          ...reply.headers
        })
        res.end(JSON.stringify({ message: reply.message }))
        return
      case "stall":
        return
      case "huge-frame": {
        res.writeHead(200, { ...base, "content-type": "application/vnd.amazon.eventstream" })
        const prelude = Buffer.alloc(12)
        prelude.writeUInt32BE(reply.claimed, 0)
        prelude.writeUInt32BE(0, 4)
        prelude.writeUInt32BE(zlib.crc32(prelude.subarray(0, 8)), 8)
        res.write(prelude)
        this.pump(res, Buffer.alloc(65536, 0x61), reply.send, (n) => {
          this.hugeBytesWritten += n
        })
        return
      }
      case "events":
        res.writeHead(200, { ...base, "content-type": "application/vnd.amazon.eventstream" })
        res.flushHeaders()
        this.writeChunks(res, reply.chunks, reply.delayMs, reply.ending)
        return
    }
  }
}

/** A Bedrock stand-in on a free port of 127.0.0.1 that accepts these credentials, closed with the scope. */
export const makeBedrockServer = (
  expect: { readonly credentials?: ServerCredentials; readonly bearer?: string; readonly region: string }
): Effect.Effect<BedrockServer, never, Scope.Scope> => listen((server, url) => new BedrockServer(server, url, expect))
