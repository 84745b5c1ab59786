/**
 * AWS Signature Version 4 (`AWS4-HMAC-SHA256`) over Web Crypto, so that it runs wherever
 * `crypto.subtle` does (Node 22+, Deno, Bun, browsers, edge runtimes) with no dependency. It signs
 * one request at a time with the time it is given: a retry is signed afresh, with a new
 * `x-amz-date`, because AWS rejects a signature more than five minutes old.
 *
 * The canonical request follows the AWS documentation: each path segment as it is sent on the
 * wire is URI-encoded once more (so `:` in a model id, sent as `%3A`, is signed as `%253A`, as
 * every service but S3 expects), query parameters are sorted by encoded name then value, header
 * names are lower-cased and values trimmed with inner runs of spaces collapsed, and the payload
 * is hashed whole. `test/Bedrock.test.ts` checks it against the official SigV4 test suite.
 */

/** AWS credentials, as plain strings; callers hold them `Redacted` until the moment of signing. */
export interface Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  /** Temporary credentials' token, sent (and signed) as `x-amz-security-token`. */
  readonly sessionToken?: string | undefined
}

/** A request to sign: the path and query as they are sent, the headers to sign (`host` among them). */
export interface SignableRequest {
  readonly method: string
  /** The path as it goes on the wire (already percent-encoded where the URL encodes it). */
  readonly path: string
  readonly query: ReadonlyArray<readonly [string, string]>
  /** Every header to sign, `host` included; names in any case. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
}

/** Where and when the request is signed. */
export interface SigningScope {
  readonly region: string
  readonly service: string
  readonly date: Date
}

/** `20150830T123600Z`: the `x-amz-date` form of a date. */
export const amzDate = (date: Date): string => date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "")

const encoder = new TextEncoder()

/** RFC 3986 encoding: every byte but the unreserved characters as `%XX`, upper-case. */
export const uriEncode = (text: string): string =>
  encodeURIComponent(text.toWellFormed()).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`
  )

const hex = (bytes: ArrayBuffer): string => {
  let out = ""
  for (const byte of new Uint8Array(bytes)) out += byte.toString(16).padStart(2, "0")
  return out
}

const sha256 = (data: Uint8Array): Promise<ArrayBuffer> => crypto.subtle.digest("SHA-256", data)

const hmac = async (key: Uint8Array | ArrayBuffer, data: string): Promise<ArrayBuffer> => {
  const imported = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
  return crypto.subtle.sign("HMAC", imported, encoder.encode(data))
}

/** The canonical URI: each segment of the wire path URI-encoded once more. */
const canonicalPath = (path: string): string => {
  const out = path.split("/").map(uriEncode).join("/")
  return out.startsWith("/") ? out : `/${out}`
}

const canonicalQuery = (query: ReadonlyArray<readonly [string, string]>): string =>
  query
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .toSorted(([a, x], [b, y]) => a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0)
    .map(([name, value]) => `${name}=${value}`)
    .join("&")

/** Lower-cased names, sorted, with trimmed values whose inner whitespace runs are one space. */
const canonicalHeaders = (headers: Readonly<Record<string, string>>): Array<readonly [string, string]> =>
  Object.entries(headers)
    .map(([name, value]) => [name.toLowerCase(), value.trim().replace(/\s+/g, " ")] as const)
    .toSorted(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)

/** The canonical request SigV4 hashes, for the headers given (which must include `host`). */
export const canonicalRequest = async (request: SignableRequest): Promise<{
  readonly text: string
  readonly signedHeaders: string
}> => {
  const headers = canonicalHeaders(request.headers)
  const signedHeaders = headers.map(([name]) => name).join(";")
  const text = [
    request.method.toUpperCase(),
    canonicalPath(request.path),
    canonicalQuery(request.query),
    headers.map(([name, value]) => `${name}:${value}\n`).join(""),
    signedHeaders,
    hex(await sha256(request.body))
  ].join("\n")
  return { text, signedHeaders }
}

/**
 * A signer for one set of credentials. It caches the derived signing key for the day, region and
 * service it last signed for (the key changes only when the date does).
 */
export const makeSigner = (credentials: Credentials) => {
  let cached: { readonly scope: string; readonly key: ArrayBuffer } | undefined
  const signingKey = async (day: string, region: string, service: string): Promise<ArrayBuffer> => {
    const scope = `${day}/${region}/${service}`
    if (cached?.scope === scope) return cached.key
    const kDate = await hmac(encoder.encode(`AWS4${credentials.secretAccessKey}`), day)
    const kRegion = await hmac(kDate, region)
    const kService = await hmac(kRegion, service)
    const key = await hmac(kService, "aws4_request")
    cached = { scope, key }
    return key
  }
  /**
   * The headers that sign `request` at `scope.date`: `x-amz-date`, `x-amz-security-token` for
   * temporary credentials, and `authorization`. The first two are signed along with the
   * request's own headers.
   */
  return async (request: SignableRequest, scope: SigningScope): Promise<Record<string, string>> => {
    const date = amzDate(scope.date)
    const day = date.slice(0, 8)
    const added: Record<string, string> = { "x-amz-date": date }
    if (credentials.sessionToken !== undefined) added["x-amz-security-token"] = credentials.sessionToken
    // Names are case-insensitive: the request's own date, token or signature must not be signed twice.
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(request.headers)) {
      const lower = name.toLowerCase()
      if (lower !== "authorization") headers[lower] = value
    }
    const { text, signedHeaders } = await canonicalRequest({ ...request, headers: { ...headers, ...added } })
    const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`
    const stringToSign = ["AWS4-HMAC-SHA256", date, credentialScope, hex(await sha256(encoder.encode(text)))].join(
      "\n"
    )
    const signature = hex(await hmac(await signingKey(day, scope.region, scope.service), stringToSign))
    return {
      ...added,
      authorization:
        `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`
    }
  }
}
