/**
 * Effect spans and OpenTelemetry-instrumented code in one tree, both ways, with real instrumented
 * `fetch` calls (`@opentelemetry/instrumentation-undici`) to plain `node:http` servers on
 * 127.0.0.1 and the spans read back from the OTLP receiver.
 *
 * `Tracing.layer` registers with the global OTel API (tracer provider, AsyncLocalStorage context
 * manager, W3C propagators), which is what the instrumentation and `@opentelemetry/api` users
 * find. The instrumentation is created after the layer is up and disabled before it is released:
 * it keeps the tracer it found at construction.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Otel from "@opentelemetry/api"
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks"
import { UndiciInstrumentation } from "@opentelemetry/instrumentation-undici"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { FetchHttpClient, HttpClient } from "effect/http"
import type * as Scope from "effect/Scope"
import * as http from "node:http"
import { Pipeline, Tracing } from "../src/index.ts"
import { Propagation } from "../src/index.ts"
import { makeReceiver, type ReceivedSpan, type Receiver } from "./support/receiver.ts"

const CLIENT = 3
const SERVER = 2

/** Tracing that exports to `receiver` only when released, registered globally (the default). */
const tracing = (receiver: Receiver) =>
  Tracing.layer({
    serviceName: "interop",
    endpoint: receiver.url,
    batch: { scheduleDelayMillis: 60_000 },
    onWarning: (message) => assert.fail(message)
  })

/** Runs `program` under tracing; the layer is released (spans flushed) when this returns. */
const traced = <A, E>(receiver: Receiver, program: Effect.Effect<A, E, Scope.Scope>) =>
  program.pipe(Effect.scoped, Effect.provide(tracing(receiver)))

/** `@opentelemetry/instrumentation-undici`, on for the current scope. */
const undici = (config: ConstructorParameters<typeof UndiciInstrumentation>[0] = {}) =>
  Effect.acquireRelease(
    Effect.sync(() => new UndiciInstrumentation(config)),
    (instrumentation) => Effect.sync(() => instrumentation.disable())
  )

interface Server {
  readonly url: string
  readonly requests: Array<{ readonly path: string; readonly headers: http.IncomingHttpHeaders }>
}

/** A plain node:http server on 127.0.0.1; `handle` may answer asynchronously. */
const httpServer = (
  handle: (request: http.IncomingMessage, response: http.ServerResponse) => void = (_, response) => response.end("ok")
): Effect.Effect<Server, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<Server & { readonly listener: http.Server }>((resolve) => {
        const requests: Server["requests"] = []
        const listener = http.createServer((request, response) => {
          requests.push({ path: request.url ?? "", headers: request.headers })
          handle(request, response)
        })
        listener.listen(0, "127.0.0.1", () => {
          const { port } = listener.address() as { port: number }
          resolve({ url: `http://127.0.0.1:${port}`, requests, listener })
        })
      })
    ),
    ({ listener }) =>
      Effect.promise(() =>
        new Promise<void>((resolve) => {
          listener.closeAllConnections()
          listener.close(() => resolve())
        })
      )
  )

const get = (url: string) => Effect.promise(() => fetch(url).then((response) => response.text()))

const named = (spans: ReadonlyArray<ReceivedSpan>, name: string, kind?: number): ReceivedSpan => {
  const found = spans.filter((s) => s.name === name && (kind === undefined || s.kind === kind))
  assert.strictEqual(found.length, 1, `one span ${name}: ${spans.map((s) => `${s.name}(${s.kind})`).join(", ")}`)
  return found[0]!
}

const parentOf = (spans: ReadonlyArray<ReceivedSpan>, span: ReceivedSpan) =>
  spans.find((s) => s.spanId === span.parentSpanId)?.name

const spanIdIn = (traceparent: unknown) => String(traceparent).split("-")[2]

describe("OpenTelemetry-instrumented code inside Effect spans", () => {
  it.live("an instrumented fetch is a child of the Effect span it runs in, and propagates from it", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      const backend = yield* httpServer()
      yield* traced(
        receiver,
        Effect.gen(function*() {
          yield* undici()
          yield* get(`${backend.url}/first`).pipe(Pipeline.step("effect-parent"))
          // After an async boundary, in a sibling span: still the right parent.
          yield* Effect.sleep(5).pipe(Effect.andThen(get(`${backend.url}/second`)), Pipeline.step("effect-sibling"))
        }).pipe(Pipeline.run("interop-root"))
      )
      receiver.assertDecoded()
      const spans = receiver.spans()
      assert.strictEqual(new Set(spans.map((s) => s.traceId)).size, 1)
      const fetches = spans.filter((s) => s.scope.name === "@opentelemetry/instrumentation-undici")
      assert.strictEqual(fetches.length, 2)
      for (const span of fetches) {
        assert.strictEqual(span.name, "GET")
        assert.strictEqual(span.kind, CLIENT)
      }
      const byPath = (path: string) => fetches.find((s) => s.attributes["url.path"]?.value === path)!
      assert.strictEqual(parentOf(spans, byPath("/first")), "effect-parent")
      assert.strictEqual(parentOf(spans, byPath("/second")), "effect-sibling")
      // The server saw the fetch span as its parent: the trace crosses the wire from there.
      for (const request of backend.requests) {
        const span = byPath(request.path)
        assert.strictEqual(request.headers.traceparent, `00-${span.traceId}-${span.spanId}-01`)
      }
    }))

  it.live("@opentelemetry/api spans started in Effect code are children of the Effect span", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      yield* traced(
        receiver,
        Effect.gen(function*() {
          const tracer = Otel.trace.getTracer("some-library")
          yield* Effect.sync(() => tracer.startSpan("otel-started").end())
          yield* Effect.promise(() =>
            tracer.startActiveSpan("otel-active", async (span) => {
              await new Promise((resolve) => setTimeout(resolve, 5))
              tracer.startSpan("otel-grandchild").end()
              span.end()
            })
          )
        }).pipe(Pipeline.step("effect-span"), Pipeline.run("interop-root"))
      )
      const spans = receiver.spans()
      assert.strictEqual(new Set(spans.map((s) => s.traceId)).size, 1)
      assert.strictEqual(parentOf(spans, named(spans, "otel-started")), "effect-span")
      assert.strictEqual(parentOf(spans, named(spans, "otel-active")), "effect-span")
      assert.strictEqual(parentOf(spans, named(spans, "otel-grandchild")), "otel-active")
    }))

  it.live("a generator's own body finds its Effect span after every yield*, and an explicit context wins", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      yield* traced(
        receiver,
        Effect.gen(function*() {
          const tracer = Otel.trace.getTracer("some-library")
          tracer.startSpan("before-any-yield").end()
          yield* Effect.void.pipe(Pipeline.step("sibling-step"))
          // Called straight from the body, as a logger's trace correlation or an SDK call would be.
          tracer.startSpan("after-a-step").end()
          yield* Effect.sleep(2)
          tracer.startSpan("after-a-sleep").end()
          const explicit = tracer.startSpan("explicit-parent", {}, Otel.ROOT_CONTEXT)
          const outside = Otel.trace.setSpan(Otel.ROOT_CONTEXT, explicit)
          Otel.context.with(outside, () => tracer.startSpan("in-explicit-context").end())
          const bound = Otel.context.bind(outside, () => tracer.startSpan("in-bound-function").end())
          bound()
          explicit.end()
          tracer.startSpan("after-the-explicit-context").end()
        }).pipe(Pipeline.step("effect-span"), Pipeline.run("interop-root"))
      )
      const spans = receiver.spans()
      for (const name of ["before-any-yield", "after-a-step", "after-a-sleep", "after-the-explicit-context"]) {
        assert.strictEqual(parentOf(spans, named(spans, name)), "effect-span", name)
      }
      assert.strictEqual(parentOf(spans, named(spans, "sibling-step")), "effect-span")
      assert.strictEqual(parentOf(spans, named(spans, "in-explicit-context")), "explicit-parent")
      assert.strictEqual(parentOf(spans, named(spans, "in-bound-function")), "explicit-parent")
      assert.strictEqual(named(spans, "explicit-parent").parentSpanId, undefined)
    }))

  it.live("under an app's own context manager, registered first, code in Effect.sync and promises still finds its span", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      yield* Effect.acquireRelease(
        Effect.sync(() => Otel.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())),
        () => Effect.sync(() => Otel.context.disable())
      )
      yield* traced(
        receiver,
        Effect.gen(function*() {
          const tracer = Otel.trace.getTracer("some-library")
          yield* Effect.sync(() => tracer.startSpan("in-sync").end())
          yield* Effect.promise(async () => {
            await new Promise((resolve) => setTimeout(resolve, 2))
            tracer.startSpan("after-await").end()
          })
        }).pipe(Pipeline.step("effect-span"), Pipeline.run("interop-root"))
      )
      const spans = receiver.spans()
      assert.strictEqual(parentOf(spans, named(spans, "in-sync")), "effect-span")
      assert.strictEqual(parentOf(spans, named(spans, "after-await")), "effect-span")
    }))
})

describe("Effect spans inside OpenTelemetry-active contexts", () => {
  it.live("across real fetches: Effect → fetch → OTel server span → Effect → fetch, one tree", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      const leaf = yield* httpServer()
      // A server instrumented by hand with the OTel API: it continues the caller's trace and runs
      // an Effect program inside its span, with the services (our Tracer, no parent span) that
      // the test captures below.
      let services: Context.Context<never> | undefined
      const middle = yield* httpServer((request, response) => {
        const tracer = Otel.trace.getTracer("plain-node-http-server")
        const caller = Otel.propagation.extract(Otel.ROOT_CONTEXT, request.headers)
        const span = tracer.startSpan("otel-server-handler", { kind: Otel.SpanKind.SERVER }, caller)
        void Otel.context.with(Otel.trace.setSpan(caller, span), () =>
          Effect.runPromiseWith(services!)(
            get(`${leaf.url}/leaf`).pipe(Pipeline.step("effect-in-handler"))
          )).then((text) => {
            span.end()
            response.end(text)
          })
      })
      yield* traced(
        receiver,
        Effect.gen(function*() {
          yield* undici()
          services = yield* Effect.context<never>()
          yield* get(`${middle.url}/middle`).pipe(Pipeline.run("effect-root"))
        })
      )
      receiver.assertDecoded()
      const spans = receiver.spans()
      assert.strictEqual(new Set(spans.map((s) => s.traceId)).size, 1, "one trace")
      const root = named(spans, "effect-root")
      assert.isUndefined(root.parentSpanId)
      const [toMiddle, toLeaf] = ["/middle", "/leaf"].map((path) =>
        spans.find((s) => s.kind === CLIENT && s.attributes["url.path"]?.value === path)!
      )
      const handler = named(spans, "otel-server-handler", SERVER)
      const inHandler = named(spans, "effect-in-handler")
      assert.strictEqual(toMiddle!.parentSpanId, root.spanId)
      assert.strictEqual(handler.parentSpanId, toMiddle!.spanId)
      assert.strictEqual(inHandler.parentSpanId, handler.spanId, "the Effect span parents under the OTel span")
      assert.strictEqual(toLeaf!.parentSpanId, inHandler.spanId)
      assert.strictEqual(leaf.requests[0]!.headers.traceparent, `00-${toLeaf!.traceId}-${toLeaf!.spanId}-01`)
    }))

  it.live("Effect code run inside an OTel context sees its baggage, and sends it only where allowed", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      const allowed = yield* httpServer()
      const other = yield* httpServer()
      yield* traced(
        receiver,
        Effect.gen(function*() {
          const services = yield* Effect.context<HttpClient.HttpClient>()
          const baggage = Otel.propagation.createBaggage({
            "tenant.id": { value: "from-otel" },
            region: { value: "eu" }
          })
          const program = Effect.gen(function*() {
            const seen = yield* Propagation.currentBaggage
            const client = Propagation.client(yield* HttpClient.HttpClient, {
              baggageAllowList: [new URL(allowed.url).host]
            })
            yield* Effect.sleep(5) // an async boundary before the calls
            yield* client.get(`${allowed.url}/a`)
            yield* client.get(`${allowed.url}/b`).pipe(Propagation.withBaggage({ "tenant.id": "acme" }))
            yield* client.get(`${other.url}/c`)
            return seen
          }).pipe(Pipeline.run("effect-in-otel-context"))
          const seen = yield* Effect.promise(() =>
            Otel.context.with(
              Otel.propagation.setBaggage(Otel.ROOT_CONTEXT, baggage),
              () => Effect.runPromiseWith(services)(program)
            )
          )
          assert.deepStrictEqual(seen, { "tenant.id": "from-otel", region: "eu" })
        }).pipe(Effect.provide(FetchHttpClient.layer))
      )
      assert.deepStrictEqual(allowed.requests.map((r) => r.headers.baggage), [
        "tenant.id=from-otel,region=eu",
        "tenant.id=acme,region=eu"
      ])
      assert.isUndefined(other.requests[0]!.headers.baggage)
      assert.isDefined(other.requests[0]!.headers.traceparent)
      // Never on a span.
      for (const span of receiver.spans()) assert.notInclude(JSON.stringify(span, replacer), "from-otel")
    }))

  it.live("Effect's HttpClient over an instrumented fetch: skip requests Effect already traced", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      const backend = yield* httpServer()
      yield* traced(
        receiver,
        Effect.gen(function*() {
          // Without the hook both Effect's client and the instrumentation add a `traceparent`, and
          // a receiver that gets two starts a new trace. With it, Effect's client span is the
          // parent; plain fetch calls are still instrumented.
          yield* undici({ ignoreRequestHook: hasTraceparent })
          const client = Propagation.client(yield* HttpClient.HttpClient)
          yield* client.get(`${backend.url}/effect-client`)
          yield* get(`${backend.url}/plain-fetch`)
        }).pipe(Pipeline.run("interop-root"), Effect.provide(FetchHttpClient.layer))
      )
      const spans = receiver.spans()
      const effectClients = spans.filter((s) => s.kind === CLIENT && s.scope.name === "beluga-o11y")
      assert.strictEqual(effectClients.length, 1)
      const effectClient = effectClients[0]!
      assert.strictEqual(effectClient.attributes["url.path"]?.value, "/effect-client")
      const instrumented = spans.filter((s) => s.scope.name === "@opentelemetry/instrumentation-undici")
      assert.deepStrictEqual(instrumented.map((s) => s.attributes["url.path"]?.value), ["/plain-fetch"])
      const [viaEffect, viaFetch] = backend.requests
      assert.strictEqual(viaEffect!.headers.traceparent, `00-${effectClient.traceId}-${effectClient.spanId}-01`)
      assert.strictEqual(spanIdIn(viaFetch!.headers.traceparent), instrumented[0]!.spanId)
    }))
})

/** An undici request that already carries a `traceparent` (Effect's `HttpClient` set it). */
const hasTraceparent = (request: { readonly headers: string | ReadonlyArray<unknown> }): boolean =>
  typeof request.headers === "string"
    ? /^traceparent:/im.test(request.headers)
    : request.headers.some((value, i) => i % 2 === 0 && String(value).toLowerCase() === "traceparent")

const replacer = (_: string, value: unknown) => (typeof value === "bigint" ? String(value) : value)
