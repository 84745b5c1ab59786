/**
 * The tool service of `examples/distributed.ts`: its own process, its own `service.name`
 * (`beluga-tool-service`), one endpoint.
 *
 *   POST /tools/search_docs   { "query": "..." }
 *   └─ POST (server span, continues the caller's trace: traceparent + tracestate)
 *      ├─ retrieval knowledge-base          (Retriever, simulated backend)
 *      └─ index-status GET /freshness  ✗    (a slow downstream call, cut by Effect.timeout:
 *                                            the span ends interrupted; the answer says so)
 *
 * The server is Effect's (`HttpRouter` on `NodeHttpServer`); `Propagation.server` +
 * `Propagation.layerServer` make its request span continue the caller's trace with the
 * `tracestate`, and hand the caller's baggage to the handler. Only the `tenant.id` baggage entry
 * is recorded on the span, because it is listed.
 */
import { NodeHttpServer } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "effect/http"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { createServer } from "node:http"
import { Pipeline, Retriever, Simulated } from "../../src/index.ts"
import { Propagation } from "../../src/index.ts"

export const serviceName = "beluga-tool-service"

/** How long the downstream call may take before the handler gives up on it. */
export const downstreamTimeout = "300 millis"

const SearchRequest = Schema.Struct({ query: Schema.String })

/** A downstream dependency that is too slow today: it answers after 5 s. */
const indexFreshness = Effect.sleep("5 seconds").pipe(
  Effect.as({ indexedAt: "2025-11-01T00:00:00Z" }),
  Pipeline.step("index-status GET /freshness", {
    kind: "client",
    attributes: { "http.request.method": "GET", "server.address": "index-status.internal", "url.path": "/freshness" }
  })
)

const searchDocs = Effect.gen(function*() {
  const { query } = yield* HttpServerRequest.schemaBodyJson(SearchRequest)
  const documents = yield* (yield* Retriever.Retriever).retrieve(query, { topK: 2 })
  // The timeout interrupts the slow call; its span ends with `effect.fiber.interrupted=true`,
  // and the handler still answers, saying the freshness is unknown.
  const freshness = yield* indexFreshness.pipe(
    Effect.timeout(downstreamTimeout),
    Effect.map((status) => status.indexedAt),
    Effect.catchTag(
      "TimeoutError",
      () =>
        Pipeline.event("downstream-timeout", { "downstream.name": "index-status", "timeout.ms": 300 }).pipe(
          Effect.as(`unknown: index-status timed out after ${downstreamTimeout}`)
        )
    )
  )
  const baggage = yield* Propagation.currentBaggage
  return yield* HttpServerResponse.json({ documents, freshness, baggageSeen: Object.keys(baggage).toSorted() })
}).pipe(
  Effect.catch((error) => HttpServerResponse.json({ error: String(error) }, { status: 400 }).pipe(Effect.orDie))
)

const routes = HttpRouter.add("POST", "/tools/search_docs", searchDocs)

/**
 * The tool service on 127.0.0.1 (a free port unless `port` is given). `maxHeaderSize` raises
 * Node's 16 KiB header limit; the tests use it to get oversized trace headers past Node.
 */
export const layer = (options: { readonly port?: number; readonly maxHeaderSize?: number } = {}) =>
  HttpRouter.serve(routes, {
    middleware: Propagation.server({ baggageAttributes: ["tenant.id"] }),
    disableLogger: true,
    disableListenLog: true
  }).pipe(
    Layer.provide(Propagation.layerServer),
    Layer.provide(Retriever.layer(Simulated.retrievalBackend())),
    Layer.provideMerge(
      NodeHttpServer.layer(
        () => createServer(options.maxHeaderSize !== undefined ? { maxHeaderSize: options.maxHeaderSize } : {}),
        { port: options.port ?? 0, host: "127.0.0.1" }
      )
    )
  )

/** Prints `LISTENING <url>` once the server is up: the parent process waits for that line. */
export const announce = HttpServer.addressFormattedWith((url) => Effect.sync(() => console.log(`LISTENING ${url}`)))
