/**
 * What the library needs from its runtime, on Node (and on Bun and Deno, which implement the same
 * modules): HTTP through `node:http` with keep-alive sockets, gzip through `node:zlib`, the SDK's
 * `AsyncLocalStorage` context manager, the OTel API's version read from its `package.json`, and
 * the SDK's meter provider for instruments made through the OTel metrics API.
 * `worker.ts` is the same shape for workerd and the edge runtimes; `package.json`'s `imports`
 * (`#platform`) picks one by the runtime's export conditions.
 */
import type * as Otel from "@opentelemetry/api"
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks"
import type { Resource } from "@opentelemetry/resources"
import * as fs from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import { createRequire } from "node:module"
import * as path from "node:path"
import * as zlib from "node:zlib"
import { type ApiMeters, apiMeters } from "../apiMeters.ts"
import type { TemporalityPreference } from "../config.ts"
import { type HttpClient, type HttpResult, maxBodyBytes, TimeoutError, unrefTimer } from "../httpClient.ts"
import type { Recorder } from "../metrics.ts"
import { RunReport } from "../viewer/runReport.ts"

const retryableNetworkCodes = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ENETUNREACH",
  "EHOSTUNREACH"
])

/** One keep-alive agent per exporter: requests to the collector reuse their sockets. */
export const httpClient = (url: URL): HttpClient => {
  const secure = url.protocol === "https:"
  const agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true })
  const requests = new Set<http.ClientRequest>()
  return {
    post: (target, headers, body, timeoutMillis, configuredMillis) =>
      new Promise<HttpResult>((resolve) => {
        const request = (secure ? https : http).request(target, {
          method: "POST",
          agent,
          headers: { ...headers, "Content-Length": body.byteLength }
        })
        requests.add(request)
        const finish = (result: HttpResult) => {
          requests.delete(request)
          clearTimeout(timer)
          resolve(result)
        }
        const timer = setTimeout(
          () => request.destroy(new TimeoutError(configuredMillis)),
          Math.max(timeoutMillis, 1)
        )
        unrefTimer(timer)
        request.on("response", (response) => {
          const chunks: Array<Buffer> = []
          let size = 0
          response.on("data", (chunk: Buffer) => {
            if (size < maxBodyBytes) chunks.push(chunk)
            size += chunk.length
          })
          response.on("error", (error) => finish({ _tag: "Error", error, retryable: false, refused: false }))
          response.on("end", () =>
            finish({
              _tag: "Response",
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks).subarray(0, maxBodyBytes),
              contentType: response.headers["content-type"],
              retryAfter: response.headers["retry-after"]
            }))
        })
        request.on("error", (error) => {
          const code = (error as NodeJS.ErrnoException).code
          finish({
            _tag: "Error",
            error,
            retryable: error instanceof TimeoutError || (code !== undefined && retryableNetworkCodes.has(code)),
            refused: code === "ECONNREFUSED"
          })
        })
        request.end(body)
      }),
    destroy: (reason) => {
      for (const request of requests) request.destroy(reason)
      agent.destroy()
    }
  }
}

/** Keeps the run's spans, metrics and log records for the viewer's self-contained HTML report, written at release. */
export const runReport = (file: string, warn: (message: string) => void): RunReport => new RunReport(file, warn)

/** A file's text: the prices file named by `BELUGA_GENAI_PRICES_FILE`. */
export const readTextFile = (file: string): string => fs.readFileSync(file, "utf8")

export const gzip = (data: Uint8Array): Promise<Uint8Array> =>
  new Promise((resolve, reject) => zlib.gzip(data, (error, out) => (error ? reject(error) : resolve(out))))

/** The context manager OTel-instrumented libraries share with Effect spans. */
export const contextManager = (): Otel.ContextManager | undefined => new AsyncLocalStorageContextManager()

/** The meter provider behind the OTel metrics API: the SDK's, collected with the GenAI metrics (`apiMeters.ts`). */
export const meterProvider = (
  resource: Resource,
  temporality: TemporalityPreference,
  _recorder: Recorder
): ApiMeters => apiMeters(resource, temporality)

/** The version of the `@opentelemetry/api` copy this library loaded, from its package.json. */
export const ownApiVersion = (): string | undefined => {
  try {
    let dir = path.dirname(createRequire(import.meta.url).resolve("@opentelemetry/api"))
    for (let i = 0; i < 5; i++, dir = path.dirname(dir)) {
      const file = path.join(dir, "package.json")
      if (!fs.existsSync(file)) continue
      const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: unknown; version?: unknown }
      if (pkg.name === "@opentelemetry/api" && typeof pkg.version === "string") return pkg.version
    }
  } catch {
    // Unknown: no warning is better than a wrong one.
  }
  return undefined
}
