/**
 * Distributed tracing across real processes: services started as child processes on 127.0.0.1
 * (the way a user runs them, `tsx` on the project's Node), each exporting over OTLP/HTTP to a
 * receiver in this process (`OTEL_EXPORTER_OTLP_ENDPOINT`). Everything asserted comes from the
 * spans the receiver decoded: one trace id, the tree across services (through `parentSpanId`),
 * `service.name` per resource, `traceState`, attributes.
 *
 * - The example itself (`examples/distributed.ts`): agent and tool service as one trace.
 * - An agent service between a caller and the tool service: the caller's `traceparent`,
 *   `tracestate` and `baggage` flow through both; baggage reaches only the allowed host and no
 *   span records it unless asked.
 * - Malformed and hostile trace headers: the request succeeds and starts a new trace.
 */
import * as OtelTracer from "@effect/opentelemetry/OtelTracer"
import { NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core"
import * as Effect from "effect/Effect"
import {
  HttpClient,
  HttpClientRequest,
  HttpClientResponse,
  HttpMiddleware,
  HttpServer,
  HttpServerRequest,
  HttpServerResponse
} from "effect/http"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { type ChildProcess, spawn } from "node:child_process"
import * as http from "node:http"
import * as path from "node:path"
import * as readline from "node:readline"
import { Testing } from "../src/index.ts"
import { Propagation } from "../src/index.ts"
import { cleanEnv, root } from "./support/processes.ts"
import { type AttrValue, makeReceiver, type ReceivedSpan, type Receiver } from "./support/receiver.ts"

// -----------------------------------------------------------------------------
// Child processes and plain HTTP
// -----------------------------------------------------------------------------

const tsx = path.join(root, "node_modules", ".bin", "tsx")

interface Exited {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

interface Service {
  readonly url: string
  readonly pid: number
  /** SIGTERM (the service flushes its spans), then waits for the exit; SIGKILL after 10 s. */
  readonly stop: () => Promise<Exited>
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null

/** Runs a program with tsx, as a user would; `env` is added to a clean environment. */
const run = (file: string, env: Record<string, string>, onLine?: (line: string) => void) => {
  const child = spawn(tsx, [file], { cwd: root, env: { ...cleanEnv(), ...env }, stdio: ["ignore", "pipe", "pipe"] })
  const output = { stdout: "", stderr: "" }
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output.stderr += chunk))
  readline.createInterface({ input: child.stdout! }).on("line", (line) => {
    output.stdout += `${line}\n`
    onLine?.(line)
  })
  const done = new Promise<Exited>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal, ...output }))
  )
  return { child, output, done }
}

const show = (what: string, result: Exited) =>
  `${what} exited with ${result.signal ?? result.code}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}---`

/** Starts a long-running service fixture and waits for its `LISTENING <url>` line. */
const startService = (file: string, env: Record<string, string>): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => {
      let listening: ((url: string) => void) | undefined
      const { child, done } = run(file, env, (line) => {
        if (line.startsWith("LISTENING ")) listening?.(line.slice("LISTENING ".length))
      })
      const stop = () => {
        if (!exited(child)) {
          child.kill("SIGTERM")
          const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
          void done.then(() => clearTimeout(timer))
        }
        return done
      }
      return new Promise<Service>((resolve, reject) => {
        listening = (url) => resolve({ url, pid: child.pid!, stop })
        void done.then((result) => reject(new Error(show(file, result))))
        setTimeout(() => {
          child.kill("SIGKILL")
          reject(new Error(`${file} did not start within 30 s`))
        }, 30_000).unref()
      })
    }),
    (service) => Effect.promise(() => service.stop())
  )

interface Reply {
  readonly status: number
  readonly body: string
}

/** A request with exactly these header lines (repeated names stay repeated), over node:http. */
const send = (
  url: string,
  options: {
    readonly method?: string
    readonly headers?: ReadonlyArray<readonly [string, string]>
    readonly body?: string
  }
) =>
  Effect.promise(() =>
    new Promise<Reply>((resolve, reject) => {
      const raw: Array<string> = ["host", new URL(url).host]
      for (const [name, value] of options.headers ?? []) raw.push(name, value)
      // node:http adds neither `host` nor framing headers to a raw header list.
      if (options.body !== undefined) {
        raw.push("content-type", "application/json", "content-length", String(Buffer.byteLength(options.body)))
      }
      const request = http.request(
        url,
        { method: options.method ?? "POST", headers: raw, agent: false },
        (response) => {
          let body = ""
          response.setEncoding("utf8").on("data", (chunk: string) => (body += chunk))
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body }))
        }
      )
      request.on("error", reject)
      request.end(options.body)
    })
  )

/** A plain node:http server on 127.0.0.1 that records the headers of every request. */
const thirdParty = Effect.acquireRelease(
  Effect.promise(() =>
    new Promise<
      { readonly url: string; readonly requests: Array<http.IncomingHttpHeaders>; readonly server: http.Server }
    >(
      (resolve) => {
        const requests: Array<http.IncomingHttpHeaders> = []
        const server = http.createServer((request, response) => {
          requests.push(request.headers)
          request.resume()
          response.end("sunny")
        })
        server.listen(0, "127.0.0.1", () => {
          const address = server.address() as { port: number }
          resolve({ url: `http://127.0.0.1:${address.port}/weather`, requests, server })
        })
      }
    )
  ),
  ({ server }) =>
    Effect.promise(() =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
    )
)

// -----------------------------------------------------------------------------
// Reading spans
// -----------------------------------------------------------------------------

const SERVER = 2
const CLIENT = 3

const stringAttr = (attributes: Readonly<Record<string, AttrValue>>, key: string): string | undefined => {
  const value = attributes[key]
  return value?.type === "string" ? value.value : undefined
}
const serviceOf = (span: ReceivedSpan) => stringAttr(span.resource, "service.name")

const describeSpans = (spans: ReadonlyArray<ReceivedSpan>) =>
  spans.map((s) =>
    `${
      serviceOf(s)
    } ${s.name} kind=${s.kind} trace=${s.traceId} span=${s.spanId} parent=${s.parentSpanId} state=${s.traceState}`
  ).join("\n")

const only = (spans: ReadonlyArray<ReceivedSpan>, predicate: (span: ReceivedSpan) => boolean, what: string) => {
  const found = spans.filter(predicate)
  assert.strictEqual(found.length, 1, `exactly one ${what}; spans:\n${describeSpans(spans)}`)
  return found[0]!
}

const named = (spans: ReadonlyArray<ReceivedSpan>, service: string, name: string, kind?: number) =>
  only(
    spans,
    (s) => serviceOf(s) === service && s.name === name && (kind === undefined || s.kind === kind),
    `${service} span ${name}${kind !== undefined ? ` of kind ${kind}` : ""}`
  )

const childrenOf = (spans: ReadonlyArray<ReceivedSpan>, parent: ReceivedSpan) =>
  spans.filter((s) => s.parentSpanId === parent.spanId).map((s) => s.name).toSorted()

/** Every string in a span: attribute keys and values, events, status message. */
const textOf = (span: ReceivedSpan): string => {
  const text = (value: AttrValue): string =>
    value.type === "array"
      ? value.value.map(text).join(" ")
      : value.type === "kvlist"
      ? attributes(value.value)
      : String(value.value)
  const attributes = (record: Readonly<Record<string, AttrValue>>): string =>
    Object.entries(record).map(([key, value]) => `${key}=${text(value)}`).join(" ")
  return [
    span.name,
    span.status.message,
    attributes(span.attributes),
    ...span.events.map((event) => `${event.name} ${attributes(event.attributes)}`)
  ].join(" ")
}

const services = { agent: "beluga-agent", tool: "beluga-tool-service" }

/** The environment of a service that exports to `receiver`, quickly. */
const exportTo = (receiver: Receiver): Record<string, string> => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
  OTEL_BSP_SCHEDULE_DELAY: "100"
})

const files = {
  example: path.join("examples", "distributed.ts"),
  tool: path.join("test", "fixtures", "distributed-tool.ts"),
  agent: path.join("test", "fixtures", "distributed-agent.ts")
}

const callerTraceId = "4bf92f3577b34da6a3ce929d0e0e4736"
const callerSpanId = "00f067aa0ba902b7"
const callerTraceparent = `00-${callerTraceId}-${callerSpanId}-01`
const callerTracestate = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"

// -----------------------------------------------------------------------------
// The example
// -----------------------------------------------------------------------------

describe("examples/distributed.ts", () => {
  it.live("runs an agent and a tool service in two processes as one trace", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      const { done } = run(files.example, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url })
      const result = yield* Effect.promise(() => done).pipe(
        Effect.timeoutOrElse({ duration: "45 seconds", orElse: () => Effect.die("the example did not finish in 45 s") })
      )
      const shown = show("examples/distributed.ts", result)
      assert.strictEqual(result.code, 0, shown)
      assert.notInclude(result.stderr, "beluga-o11y:", `an export failed:\n${shown}`)
      receiver.assertDecoded()

      // The child is gone once the example has exited.
      const pid = Number(/tool service \(pid (\d+)\)/.exec(result.stdout + result.stderr)?.[1])
      assert.isTrue(Number.isInteger(pid), shown)
      assert.throws(() => process.kill(pid, 0), /ESRCH/)

      const spans = receiver.spans()
      assert.strictEqual(new Set(spans.map((s) => s.traceId)).size, 1, `one trace:\n${describeSpans(spans)}`)
      assert.sameMembers([...new Set(spans.map(serviceOf))], [services.agent, services.tool])

      const run_ = named(spans, services.agent, "agent-workflow")
      assert.isUndefined(run_.parentSpanId)
      const tool = named(spans, services.agent, "execute_tool search_docs")
      assert.strictEqual(tool.parentSpanId, run_.spanId)
      const call = named(spans, services.agent, "POST", CLIENT)
      assert.strictEqual(call.parentSpanId, tool.spanId)
      const handler = named(spans, services.tool, "POST", SERVER)
      assert.strictEqual(handler.parentSpanId, call.spanId, "the tool service continues the agent's client span")
      assert.sameMembers(childrenOf(spans, handler), ["retrieval knowledge-base", "index-status GET /freshness"])
      assert.sameMembers(childrenOf(spans, run_), ["chat sim-gpt-4o", "chat sim-gpt-4o", "execute_tool search_docs"])

      // The slow downstream call was cut by the timeout: interrupted, not an error; the handler said so.
      const downstream = named(spans, services.tool, "index-status GET /freshness")
      assert.deepStrictEqual(downstream.attributes["effect.fiber.interrupted"], { type: "bool", value: true })
      assert.strictEqual(downstream.status.code, 0)
      assert.include(handler.events.map((e) => e.name), "downstream-timeout")
      assert.strictEqual(handler.status.code, 0)

      // Baggage: `tenant.id` recorded where it was asked for, `session.id` nowhere.
      assert.deepStrictEqual(handler.attributes["tenant.id"], { type: "string", value: "acme" })
      for (const span of spans) {
        assert.notInclude(textOf(span), "s-42", `${span.name} records baggage it was not asked to`)
        assert.notInclude(textOf(span), "session.id")
        if (span !== handler) assert.notInclude(textOf(span), "tenant.id")
      }
      // Both processes printed their part of the tree under the same trace id.
      const printed = [...result.stdout.matchAll(/^trace ([0-9a-f]{32}) · (\S+)$/gm)].map((m) => [m[1], m[2]])
      assert.sameDeepMembers(printed, [[run_.traceId, services.tool], [run_.traceId, services.agent]], shown)
    }), 60_000)
})

// -----------------------------------------------------------------------------
// A caller, an agent service, the tool service and a third party
// -----------------------------------------------------------------------------

describe("an agent service calling the tool service", () => {
  it.live(
    "continues the caller's trace through both services with tracestate; baggage only where allowed",
    () =>
      Effect.gen(function*() {
        const receiver = yield* makeReceiver()
        const weather = yield* thirdParty
        const tool = yield* startService(files.tool, exportTo(receiver))
        const agent = yield* startService(files.agent, {
          ...exportTo(receiver),
          FIXTURE_TOOL_URL: tool.url,
          FIXTURE_THIRD_PARTY_URL: weather.url
        })

        const reply = yield* send(`${agent.url}/ask`, {
          headers: [
            ["traceparent", callerTraceparent],
            ["tracestate", callerTracestate],
            ["baggage", "tenant.id=acme,user.id=u-7"]
          ],
          body: JSON.stringify({ question: "How do traces get to Jaeger?" })
        })
        assert.strictEqual(reply.status, 200, reply.body)
        const body = JSON.parse(reply.body) as {
          readonly results: ReadonlyArray<{ readonly baggageSeen: ReadonlyArray<string> }>
          readonly thirdParty: string
        }
        assert.strictEqual(body.thirdParty, "sunny")

        // The allowed host got all the baggage: the caller's and the agent's own.
        assert.deepStrictEqual(body.results[0]!.baggageSeen, ["session.id", "tenant.id", "user.id"])
        // The third party got the trace context but no baggage.
        assert.strictEqual(weather.requests.length, 1)
        const headers = weather.requests[0]!
        assert.match(String(headers.traceparent), new RegExp(`^00-${callerTraceId}-[0-9a-f]{16}-01$`))
        assert.strictEqual(headers.tracestate, callerTracestate)
        assert.isUndefined(headers.baggage)

        // Stopping the services flushes their spans.
        for (const service of [agent, tool]) {
          const result = yield* Effect.promise(() => service.stop())
          assert.notInclude(result.stderr, "beluga-o11y:", show("a service", result))
        }
        receiver.assertDecoded()
        const spans = receiver.spans()
        const all = describeSpans(spans)
        assert.deepStrictEqual(
          [...new Set(spans.map((s) => s.traceId))],
          [callerTraceId],
          `one trace, the caller's:\n${all}`
        )
        assert.sameMembers([...new Set(spans.map(serviceOf))], [services.agent, services.tool])

        const agentServer = named(spans, services.agent, "POST", SERVER)
        assert.strictEqual(agentServer.parentSpanId, callerSpanId, "the agent continues the caller's span")
        assert.strictEqual(agentServer.flags & 0xff, 1, "sampled, as the caller said")
        const run_ = named(spans, services.agent, "agent-workflow")
        assert.strictEqual(run_.parentSpanId, agentServer.spanId)
        const execute = named(spans, services.agent, "execute_tool search_docs")
        const call = named(spans, services.agent, "POST", CLIENT)
        assert.strictEqual(call.parentSpanId, execute.spanId)
        const toolServer = named(spans, services.tool, "POST", SERVER)
        assert.strictEqual(toolServer.parentSpanId, call.spanId, "the tool service continues the agent's client span")
        const lookup = named(spans, services.agent, "GET", CLIENT)
        assert.strictEqual(lookup.parentSpanId, agentServer.spanId)
        assert.strictEqual(String(headers.traceparent).split("-")[2], lookup.spanId, "third party's parent is its call")

        // tracestate travelled with the trace through both services.
        for (const span of spans) {
          assert.strictEqual(span.traceState, callerTracestate, `${serviceOf(span)} ${span.name}`)
        }

        // Baggage is on no span, except the key the tool service asked for.
        assert.deepStrictEqual(toolServer.attributes["tenant.id"], { type: "string", value: "acme" })
        for (const span of spans) {
          for (const secret of ["u-7", "s-42", "user.id", "session.id"]) {
            assert.notInclude(textOf(span), secret, `${serviceOf(span)} ${span.name} records baggage`)
          }
          if (span !== toolServer) {
            assert.notInclude(textOf(span), "tenant.id", `${serviceOf(span)} ${span.name}`)
          }
        }
      }),
    90_000
  )
})

// -----------------------------------------------------------------------------
// Malformed and hostile headers
// -----------------------------------------------------------------------------

const validTraceId = "0af7651916cd43dd8448eb211c80319c"
const validSpanId = "b7ad6b7169203331"
const big = (length: number, unit: string) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length)
const hundredKb = 100 * 1024

/** Headers whose trace context must be ignored: a new trace, and the request still served. */
const freshTraceCases: ReadonlyArray<
  { readonly name: string; readonly headers: ReadonlyArray<readonly [string, string]> }
> = [
  { name: "garbage", headers: [["traceparent", "not-a-traceparent"]] },
  { name: "empty", headers: [["traceparent", ""]] },
  {
    name: "upper-case-hex",
    headers: [["traceparent", `00-${validTraceId.toUpperCase()}-${validSpanId.toUpperCase()}-01`]]
  },
  { name: "all-zero-trace-id", headers: [["traceparent", `00-${"0".repeat(32)}-${validSpanId}-01`]] },
  { name: "all-zero-span-id", headers: [["traceparent", `00-${validTraceId}-${"0".repeat(16)}-01`]] },
  { name: "version-ff", headers: [["traceparent", `ff-${validTraceId}-${validSpanId}-01`]] },
  { name: "version-not-hex", headers: [["traceparent", `zz-${validTraceId}-${validSpanId}-01`]] },
  { name: "version-00-extra-field", headers: [["traceparent", `00-${validTraceId}-${validSpanId}-01-extra`]] },
  { name: "bad-flags", headers: [["traceparent", `00-${validTraceId}-${validSpanId}-0x`]] },
  { name: "short-trace-id", headers: [["traceparent", `00-${validTraceId.slice(2)}-${validSpanId}-01`]] },
  { name: "long-span-id", headers: [["traceparent", `00-${validTraceId}-${validSpanId}00-01`]] },
  {
    name: "two-traceparents",
    headers: [["traceparent", `00-${validTraceId}-${validSpanId}-01`], [
      "traceparent",
      `00-${validTraceId}-${"1".repeat(16)}-01`
    ]]
  },
  {
    name: "oversized-traceparent",
    headers: [["traceparent", `00-${validTraceId}-${validSpanId}-01${big(hundredKb, "-0")}`]]
  },
  {
    name: "oversized-tracestate-and-baggage-bad-traceparent",
    headers: [["traceparent", "00-xyz"], ["tracestate", big(hundredKb, "a=b,")], ["baggage", big(hundredKb, "k=v,")]]
  },
  // b3 is what Effect's own client sends besides traceparent; OTEL_PROPAGATORS does not list it.
  { name: "b3-only", headers: [["b3", `${validTraceId}-${validSpanId}-1`]] }
]

/** Headers with a valid traceparent: the trace continues, with what could be read of the rest. */
const continuedCases: ReadonlyArray<{
  readonly name: string
  readonly headers: ReadonlyArray<readonly [string, string]>
  /** The server span's `traceState`, or a check of it. */
  readonly traceState: string | ((traceState: string) => boolean)
  readonly baggageSeen: ReadonlyArray<string>
  readonly tenant?: string
}> = [
  {
    name: "oversized-tracestate",
    headers: [["traceparent", `00-${validTraceId}-${validSpanId}-01`], ["tracestate", big(hundredKb, "vendor=x,")]],
    traceState: "",
    baggageSeen: []
  },
  {
    name: "oversized-baggage",
    headers: [["traceparent", `00-${validTraceId}-${validSpanId}-01`], [
      "baggage",
      `tenant.id=x,${big(hundredKb, "k=v,")}`
    ]],
    traceState: "",
    baggageSeen: []
  },
  {
    // W3C: a higher version may add fields after the four known ones; they are ignored.
    name: "future-version-extra-field",
    headers: [["traceparent", `01-${validTraceId}-${validSpanId}-01-whatever`]],
    traceState: "",
    baggageSeen: []
  },
  {
    name: "invalid-tracestate-members",
    headers: [["traceparent", `00-${validTraceId}-${validSpanId}-01`], [
      "tracestate",
      "ok=1,BAD KEY=2,=3,novalue,x=a=b,y=ü"
    ]],
    traceState: "ok=1",
    baggageSeen: []
  },
  {
    // W3C allows at most 32 members; the first 32 are kept.
    name: "too-many-tracestate-members",
    headers: [["traceparent", `00-${validTraceId}-${validSpanId}-01`], [
      "tracestate",
      Array.from({ length: 40 }, (_, i) => `k${i}=v${i}`).join(",")
    ]],
    traceState: (state) => state === Array.from({ length: 32 }, (_, i) => `k${i}=v${i}`).join(","),
    baggageSeen: []
  },
  {
    name: "hostile-baggage",
    headers: [["traceparent", `00-${validTraceId}-${validSpanId}-01`], [
      "baggage",
      "%ZZ=1,__proto__=polluted,constructor=x,=novalue,noequals,tenant.id=%F0%9F%90%8B;prop=1"
    ]],
    traceState: "",
    // OTel's baggage parser drops a `__proto__` entry (it lands on its scratch object's prototype).
    baggageSeen: ["constructor", "tenant.id"],
    tenant: "🐋"
  }
]

describe("malformed and hostile incoming trace headers", () => {
  it.live("start a new trace (or drop just the bad part), and every request is served", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      const tool = yield* startService(files.tool, { ...exportTo(receiver), FIXTURE_MAX_HEADER_SIZE: String(1 << 20) })
      const body = JSON.stringify({ query: "OTLP collectors" })
      yield* Effect.forEach([...freshTraceCases, ...continuedCases], ({ headers, name }) =>
        Effect.gen(function*() {
          const reply = yield* send(`${tool.url}/tools/search_docs?case=${name}`, { headers, body })
          assert.strictEqual(reply.status, 200, `${name}: ${reply.body}`)
          const seen = (JSON.parse(reply.body) as { baggageSeen: ReadonlyArray<string> }).baggageSeen
          const expected = continuedCases.find((c) => c.name === name)?.baggageSeen ?? []
          assert.deepStrictEqual(seen, expected, `${name}: baggage seen by the handler`)
        }), { concurrency: 8 })
      // Still up and well after all that.
      const last = yield* send(`${tool.url}/tools/search_docs?case=after`, { body })
      assert.strictEqual(last.status, 200)

      const result = yield* Effect.promise(() => tool.stop())
      assert.notInclude(result.stderr, "beluga-o11y:", show("the tool service", result))
      assert.notMatch(result.stderr, /Error|at /, show("the tool service", result))
      receiver.assertDecoded()
      const spans = receiver.spans()
      const serverSpan = (name: string) =>
        only(spans, (s) => s.kind === SERVER && stringAttr(s.attributes, "url.query") === `case=${name}`, `${name}`)

      const traceIds = new Set<string>()
      for (const { name } of freshTraceCases) {
        const span = serverSpan(name)
        assert.isUndefined(span.parentSpanId, `${name}: a root span`)
        assert.notStrictEqual(span.traceId, validTraceId, `${name}: a new trace`)
        assert.match(span.traceId, /^[0-9a-f]{32}$/)
        assert.notStrictEqual(span.traceId, "0".repeat(32))
        assert.strictEqual(span.traceState, "", name)
        assert.notProperty(span.attributes, "tenant.id", name)
        traceIds.add(span.traceId)
        // The request's own work is in that new trace.
        assert.sameMembers(childrenOf(spans, span), ["retrieval knowledge-base", "index-status GET /freshness"], name)
      }
      assert.strictEqual(traceIds.size, freshTraceCases.length, "each request its own trace")

      for (const { name, tenant, traceState } of continuedCases) {
        const span = serverSpan(name)
        assert.strictEqual(span.traceId, validTraceId, name)
        assert.strictEqual(span.parentSpanId, validSpanId, name)
        if (typeof traceState === "string") assert.strictEqual(span.traceState, traceState, name)
        else assert.isTrue(traceState(span.traceState), `${name}: ${span.traceState}`)
        assert.deepStrictEqual(
          span.attributes["tenant.id"],
          tenant === undefined ? undefined : { type: "string", value: tenant },
          name
        )
      }
    }), 60_000)
})

// -----------------------------------------------------------------------------
// Propagation.client, in process
// -----------------------------------------------------------------------------

/** An `HttpClient` that sends nothing and records the headers of every request, Effect's included. */
const recordingClient = () => {
  const sent: Array<Readonly<Record<string, string>>> = []
  const client = HttpClient.make((request) =>
    Effect.sync(() => {
      sent.push({ ...request.headers })
      return HttpClientResponse.fromWeb(request, new Response("ok"))
    })
  )
  return { client, sent }
}

const w3c = new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] })
const upstream = OtelTracer.makeExternalSpan({
  traceId: callerTraceId,
  spanId: callerSpanId,
  traceFlags: 1,
  traceState: callerTracestate
})

/** Runs `effect` in a span whose parent is a remote span with trace state, under in-memory tracing. */
const inTrace = <A, E>(effect: Effect.Effect<A, E>) =>
  effect.pipe(
    Effect.withSpan("caller"),
    Effect.withParentSpan(upstream),
    Effect.provide(Testing.layer())
  )

describe("Propagation.client", () => {
  it.effect("adds the trace's tracestate to Effect's traceparent and b3", () =>
    Effect.gen(function*() {
      const { client, sent } = recordingClient()
      yield* Propagation.client(client, { propagator: w3c }).get("http://tools.internal/a")
      const headers = sent[0]!
      assert.match(headers.traceparent!, new RegExp(`^00-${callerTraceId}-[0-9a-f]{16}-01$`))
      assert.notInclude(headers.traceparent!, callerSpanId, "the parent is Effect's client span, not the caller")
      assert.match(headers.b3!, new RegExp(`^${callerTraceId}-`))
      assert.strictEqual(headers.tracestate, callerTracestate)
      assert.isUndefined(headers.baggage, "no baggage without an allow-list")
    }).pipe(Propagation.withBaggage({ "tenant.id": "acme" }), inTrace))

  it.effect("sends baggage only to the hosts the allow-list names", () =>
    Effect.gen(function*() {
      const allowList = [
        "https://api.example.com",
        "tools.internal:8080",
        "billing.internal",
        "*.corp.example",
        "[::1]:9000"
      ]
      const cases: ReadonlyArray<readonly [string, boolean]> = [
        ["https://api.example.com/v1", true],
        ["https://api.example.com:443/v1", true],
        ["http://api.example.com/v1", false], // another origin: another scheme
        ["https://api.example.com:8443/v1", false],
        ["http://tools.internal:8080/x", true],
        ["https://tools.internal:8080/x", true],
        ["http://tools.internal/x", false], // port 80, not 8080
        ["http://TOOLS.internal:8080/x", true], // host names are case-insensitive
        ["http://billing.internal:1234/x", true],
        ["https://billing.internal/x", true],
        ["http://billing.internal.evil.com/x", false],
        ["http://evilbilling.internal/x", false],
        ["http://a.corp.example/x", true],
        ["http://a.b.corp.example:81/x", true],
        ["http://corp.example/x", false], // the wildcard names sub-domains only
        ["http://notcorp.example/x", false],
        ["http://[::1]:9000/x", true],
        ["http://[::1]:9001/x", false],
        ["http://127.0.0.1:8080/x", false]
      ]
      for (const [url, allowed] of cases) {
        const { client, sent } = recordingClient()
        yield* Propagation.client(client, { propagator: w3c, baggageAllowList: allowList }).get(url)
        assert.strictEqual(sent[0]!.baggage, allowed ? "tenant.id=acme" : undefined, url)
        assert.strictEqual(sent[0]!.tracestate, callerTracestate, `${url}: tracestate goes everywhere`)
      }
      // A predicate; one that throws counts as "no".
      const { client, sent } = recordingClient()
      const byPredicate = Propagation.client(client, {
        propagator: w3c,
        baggageAllowList: (url) => {
          if (url.pathname === "/throw") throw new Error("boom")
          return url.pathname === "/yes"
        }
      })
      for (const suffix of ["/yes", "/no", "/throw"]) yield* byPredicate.get(`http://x.internal${suffix}`)
      assert.deepStrictEqual(sent.map((h) => h.baggage), ["tenant.id=acme", undefined, undefined])
    }).pipe(Propagation.withBaggage({ "tenant.id": "acme" }), inTrace))

  it.effect("follows Effect's switches for trace headers; baggage depends only on the allow-list", () =>
    Effect.gen(function*() {
      const { client, sent } = recordingClient()
      const traced = Propagation.client(client, { propagator: w3c, baggageAllowList: ["tools.internal"] })
      yield* traced.get("http://tools.internal/a").pipe(
        Effect.provideService(HttpClient.TracerPropagationEnabled, false)
      )
      yield* traced.get("http://tools.internal/b").pipe(
        Effect.provideService(HttpClient.TracerDisabledWhen, (request) => request.url.endsWith("/b"))
      )
      for (const headers of sent) {
        assert.isUndefined(headers.traceparent)
        assert.isUndefined(headers.tracestate)
        assert.strictEqual(headers.baggage, "tenant.id=acme")
      }
    }).pipe(Propagation.withBaggage({ "tenant.id": "acme" }), inTrace))

  it.effect("never replaces headers the request already has; a relative URL gets no baggage", () =>
    Effect.gen(function*() {
      const { client, sent } = recordingClient()
      const traced = Propagation.client(client, { propagator: w3c, baggageAllowList: () => true })
      yield* traced.execute(
        HttpClientRequest.get("http://tools.internal/a").pipe(
          HttpClientRequest.setHeaders({ tracestate: "mine=1", baggage: "mine=2" })
        )
      )
      assert.strictEqual(sent[0]!.tracestate, "mine=1")
      assert.strictEqual(sent[0]!.baggage, "mine=2")
      // The URL is made absolute after this client saw it: not allowed, whatever the predicate.
      yield* traced.pipe(HttpClient.mapRequest(HttpClientRequest.prependUrl("http://tools.internal"))).get("/b")
      assert.isUndefined(sent[1]!.baggage)
      assert.strictEqual(sent[1]!.tracestate, callerTracestate)
    }).pipe(Propagation.withBaggage({ "tenant.id": "acme" }), inTrace))

  it.effect("writes only what the propagator writes: no baggage propagator, no baggage", () =>
    Effect.gen(function*() {
      const { client, sent } = recordingClient()
      yield* Propagation.client(client, { propagator: new W3CTraceContextPropagator(), baggageAllowList: () => true })
        .get("http://tools.internal/a")
      assert.isUndefined(sent[0]!.baggage)
      assert.strictEqual(sent[0]!.tracestate, callerTracestate)
      // And with the global propagator when none is registered (Testing.layer registers nothing):
      // Effect's own headers only.
      yield* Propagation.client(client, { baggageAllowList: () => true }).get("http://tools.internal/b")
      assert.isDefined(sent[1]!.traceparent)
      assert.isUndefined(sent[1]!.tracestate)
      assert.isUndefined(sent[1]!.baggage)
    }).pipe(Propagation.withBaggage({ "tenant.id": "acme" }), inTrace))
})

// -----------------------------------------------------------------------------
// Propagation.serve, in process
// -----------------------------------------------------------------------------

describe("Propagation.serve", () => {
  it.live("makes exactly one server span per request, hands the handler the request as sent, and keeps TracerDisabledWhen", () =>
    Effect.gen(function*() {
      const app = Effect.map(HttpServerRequest.HttpServerRequest, (request) =>
        HttpServerResponse.jsonUnsafe({
          traceparent: request.headers.traceparent ?? null,
          b3: request.headers.b3 ?? null
        }))
      const server = yield* Layer.build(
        Propagation.serve(app, { propagator: w3c }).pipe(
          Layer.provide(HttpMiddleware.layerTracerDisabledForUrls(["/health"])),
          Layer.provideMerge(NodeHttpServer.layer(() => http.createServer(), { port: 0, host: "127.0.0.1" }))
        )
      )
      const url = yield* HttpServer.addressFormattedWith(Effect.succeed).pipe(Effect.provideContext(server))
      const traceparent = `00-${callerTraceId}-${callerSpanId}-01`
      const b3 = `${callerTraceId}-${callerSpanId}-1`
      const reply = yield* send(`${url}/work`, {
        method: "GET",
        headers: [["traceparent", traceparent], ["tracestate", callerTracestate], ["b3", b3]]
      })
      assert.deepStrictEqual(JSON.parse(reply.body), { traceparent, b3 }, "the handler sees the headers as sent")
      const health = yield* send(`${url}/health`, { method: "GET", headers: [["traceparent", traceparent]] })
      assert.strictEqual(health.status, 200)

      const spans = yield* Testing.finishedSpans
      assert.deepStrictEqual(spans.map((s) => s.name), ["GET"], "one span, for /work only")
      const span = spans[0]!
      assert.strictEqual(span.spanContext().traceId, callerTraceId)
      assert.strictEqual(span.parentSpanContext?.spanId, callerSpanId)
      assert.isTrue(span.parentSpanContext?.isRemote)
      assert.strictEqual(span.spanContext().traceState?.serialize(), callerTracestate)
      assert.strictEqual(span.attributes["url.path"], "/work")
      assert.strictEqual(span.attributes["http.response.status_code"], 200)
    }).pipe(Effect.scoped, Effect.provide(Testing.layer())))
})
