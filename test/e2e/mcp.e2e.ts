/**
 * `examples/mcp.ts` run the way a user runs it (`npx tsx examples/mcp.ts`, default endpoint), and its
 * trace read back from the real Jaeger: an agent that calls one MCP server over stdio (the child
 * process `examples/mcp-server.ts --stdio`, service `beluga-mcp-server`) and one over Streamable HTTP
 * (the same server, in the agent's process, on 127.0.0.1). Both processes export on their own;
 * Jaeger must hold ONE trace with both processes in it, every server's SERVER span the child of the
 * client span whose context it received in `params._meta`, with the MCP attributes as the
 * conventions type them. The trees both processes printed are compared with what Jaeger stored.
 */
import { assert, describe, it } from "@effect/vitest"
import { exportWarnings, printedSpanNames, printedTraces, runExample, showRun } from "./support/child.ts"
import {
  type AnyValue,
  explainTrace,
  Kind,
  outline,
  type Span,
  StatusCode,
  traceIdsOf,
  traceProcesses,
  waitForSpans
} from "./support/jaeger.ts"

const agentService = "beluga-agent"
const serverService = "beluga-mcp-server"
const revision = { stringValue: "2025-11-25" }

/** The whole trace: both processes, siblings by name then start (`outline`). */
const expectedOutline = `
mcp-agent (INTERNAL)
  chat sim-gpt-4o (CLIENT)
  chat sim-gpt-4o (CLIENT)
  DELETE (CLIENT)
  execute_tool get_weather (INTERNAL)
    tools/call get_weather (SERVER)
      weather-api GET /current (CLIENT)
  execute_tool search_trains (INTERNAL)
    POST (CLIENT)
    tools/call search_trains (SERVER)
      timetable lookup (INTERNAL)
  initialize (CLIENT)
    initialize (SERVER)
  initialize (CLIENT)
    initialize (SERVER)
    POST (CLIENT)
  notifications/initialized (CLIENT)
    notifications/initialized (SERVER)
  notifications/initialized (CLIENT)
    notifications/initialized (SERVER)
    POST (CLIENT)
  tools/list (CLIENT)
    tools/list (SERVER)
  tools/list (CLIENT)
    POST (CLIENT)
    tools/list (SERVER)
`.trim()
const spanCount = expectedOutline.split("\n").length

// -----------------------------------------------------------------------------
// What the processes printed
// -----------------------------------------------------------------------------

interface Piece {
  readonly traceId: string
  readonly service: string
  /** The remote parents named by `⇠ continues span <id> of another process`. */
  readonly continues: ReadonlyArray<string>
  readonly names: ReadonlyArray<string>
}

/** Every printed tree in `text`: its heading, the remote parents it names, its span names. */
const printedPieces = (text: string): Array<Piece> => {
  const pieces: Array<{ traceId: string; service: string; continues: Array<string>; names: Array<string> }> = []
  let current: (typeof pieces)[number] | undefined
  for (const line of text.split("\n")) {
    const heading = /^trace ([0-9a-f]{32}) · (\S+)$/.exec(line)
    if (heading !== null) {
      current = { traceId: heading[1]!, service: heading[2]!, continues: [], names: [] }
      pieces.push(current)
      continue
    }
    if (current === undefined) continue
    if (line.trim() === "") {
      current = undefined
      continue
    }
    const continues = /^⇠ continues span ([0-9a-f]{16}) of another process$/.exec(line)
    if (continues !== null) current.continues.push(continues[1]!)
    else current.names.push(line.replace(/^[│├└─\s]+/, "").split("  ")[0]!)
  }
  return pieces
}

/** The span ids the client's tree says it sent to a server in another process (`⇢ span <id>`). */
const sentMarkers = (stdout: string): Array<{ readonly name: string; readonly spanId: string }> =>
  [...stdout.matchAll(/^[│├└─\s]*(\S.*?) {2}.*⇢ span ([0-9a-f]{16})$/gm)].map((m) => ({ name: m[1]!, spanId: m[2]! }))

// -----------------------------------------------------------------------------
// Assertion helpers
// -----------------------------------------------------------------------------

const serviceOf = (span: Span) => {
  const value = span.resource["service.name"]
  return value !== undefined && "stringValue" in value ? value.stringValue : undefined
}

const attr = (span: Span, key: string, expected: AnyValue | undefined) =>
  assert.deepStrictEqual(span.attributes[key], expected, `${key} on "${span.name}" (${serviceOf(span)})`)

const assertPositiveInt = (span: Span, key: string) => {
  const value = span.attributes[key]
  assert.isTrue(
    value !== undefined && "intValue" in value && /^[1-9][0-9]*$/.test(value.intValue),
    `${key} on "${span.name}" should be a positive intValue, got ${JSON.stringify(value)}`
  )
}

const byStart = (a: Span, b: Span) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0)

/** The one span matching all of: name, kind, service, and (when given) `network.transport`. */
const theSpan = (
  spans: ReadonlyArray<Span>,
  name: string,
  kind: number,
  service: string,
  transport?: "pipe" | "tcp"
): Span => {
  const found = spans.filter((s) =>
    s.name === name && s.kind === kind && serviceOf(s) === service &&
    (transport === undefined || JSON.stringify(s.attributes["network.transport"]) === `{"stringValue":"${transport}"}`)
  )
  assert.strictEqual(found.length, 1, `one "${name}" (kind ${kind}, ${service}, ${transport ?? "any transport"})`)
  return found[0]!
}

/** What every MCP span carries, on either side. */
const assertMcp = (span: Span, method: string, transport: "pipe" | "tcp") => {
  attr(span, "mcp.method.name", { stringValue: method })
  attr(span, "mcp.protocol.version", revision)
  attr(span, "network.transport", { stringValue: transport })
  assert.notStrictEqual(span.statusCode, StatusCode.error, `"${span.name}" should not be ERROR`)
  if (method.startsWith("notifications/")) attr(span, "jsonrpc.request.id", undefined)
  else {
    const id = span.attributes["jsonrpc.request.id"]
    assert.isTrue(id !== undefined && "stringValue" in id, `jsonrpc.request.id on "${span.name}" is a string`)
  }
  // JSON-RPC 2.0 is the default: the attribute is for other versions only.
  attr(span, "jsonrpc.protocol.version", undefined)
}

/** A client span and the server span it parents, across the boundary: the ids they share. */
const assertPair = (client: Span, server: Span) => {
  assert.strictEqual(server.parentSpanId, client.spanId, `"${server.name}" (SERVER) is the child of "${client.name}"`)
  assert.strictEqual(server.traceId, client.traceId)
  assert.strictEqual(server.kind, Kind.server)
  assert.deepStrictEqual(server.attributes["jsonrpc.request.id"], client.attributes["jsonrpc.request.id"])
}

// -----------------------------------------------------------------------------
// The test
// -----------------------------------------------------------------------------

describe("examples/mcp.ts, exported to Jaeger on the default endpoint", () => {
  it("one trace across both processes: each server's SERVER spans under the agent's calls, over stdio and HTTP", async () => {
    const before = { agent: await traceIdsOf(agentService), server: await traceIdsOf(serverService) }
    const run = await runExample("examples/mcp.ts")
    assert.strictEqual(run.code, 0, `the example failed:\n${showRun(run)}`)
    // The child's standard error is the agent's: both processes' export warnings would be there.
    assert.deepStrictEqual(exportWarnings(run.stderr), [], `the export reported problems:\n${showRun(run)}`)

    // The agent printed one tree; the child, on its standard error, its pieces of the same trace.
    const printed = printedTraces(run.stdout)
    assert.strictEqual(printed.length, 1, `expected one printed tree from the agent:\n${showRun(run)}`)
    const { service, traceId } = printed[0]!
    assert.strictEqual(service, agentService)
    const pieces = printedPieces(run.stderr)
    assert.strictEqual(pieces.length, 4, `the server's four calls, each printed as it ended:\n${showRun(run)}`)
    for (const piece of pieces) {
      assert.strictEqual(piece.traceId, traceId, "the child printed the agent's trace id")
      assert.strictEqual(piece.service, serverService)
      assert.strictEqual(piece.continues.length, 1, "each piece continues one span of the agent")
    }

    const spans = await waitForSpans(traceId, spanCount)
    const added = {
      agent: [...await traceIdsOf(agentService)].filter((id) => !before.agent.has(id)),
      server: [...await traceIdsOf(serverService)].filter((id) => !before.server.has(id))
    }
    assert.deepStrictEqual(added, { agent: [traceId], server: [traceId] }, "both processes added this trace, no other")

    const processes = await traceProcesses(traceId)
    explainTrace(spans, () => {
      assert.strictEqual(spans.length, spanCount)
      assert.strictEqual(outline(spans), expectedOutline)

      // Two processes in the one trace, as Jaeger's UI lists them.
      assert.deepStrictEqual(processes.map((p) => p.serviceName).toSorted(), [agentService, serverService])
      const child = processes.find((p) => p.serviceName === serverService)!
      assert.deepStrictEqual(child.spanNames.toSorted(), [
        "initialize",
        "notifications/initialized",
        "tools/call get_weather",
        "tools/list",
        "weather-api GET /current"
      ])
      for (const span of spans) {
        assert.deepStrictEqual(span.resource["service.version"], { stringValue: "1.0.0" }, span.name)
      }

      const root = theSpan(spans, "mcp-agent", Kind.internal, agentService)
      assert.strictEqual(root.parentSpanId, undefined)

      // stdio: the child's SERVER spans under the agent's CLIENT spans, across the process boundary.
      for (const method of ["initialize", "notifications/initialized", "tools/list"]) {
        const client = theSpan(spans, method, Kind.client, agentService, "pipe")
        const server = theSpan(spans, method, Kind.server, serverService, "pipe")
        assert.strictEqual(client.parentSpanId, root.spanId)
        assertPair(client, server)
        for (const span of [client, server]) {
          assertMcp(span, method, "pipe")
          attr(span, "network.protocol.name", undefined)
          attr(span, "mcp.session.id", undefined)
          attr(span, "server.address", undefined)
          attr(span, "client.address", undefined)
        }
      }

      // The stdio tool call: the MCP attributes on the agent's execute_tool span, no CLIENT span of its own.
      assert.deepStrictEqual(spans.filter((s) => s.name === "tools/call get_weather" && s.kind === Kind.client), [])
      const weatherTool = theSpan(spans, "execute_tool get_weather", Kind.internal, agentService)
      const weatherCall = theSpan(spans, "tools/call get_weather", Kind.server, serverService)
      assert.strictEqual(weatherTool.parentSpanId, root.spanId)
      assertPair(weatherTool, weatherCall)
      for (const span of [weatherTool, weatherCall]) {
        assertMcp(span, "tools/call", "pipe")
        attr(span, "gen_ai.operation.name", { stringValue: "execute_tool" })
        attr(span, "gen_ai.tool.name", { stringValue: "get_weather" })
        attr(span, "error.type", undefined)
        // Content capture is off: no arguments, no result.
        attr(span, "gen_ai.tool.call.arguments", undefined)
        attr(span, "gen_ai.tool.call.result", undefined)
      }
      attr(weatherTool, "gen_ai.tool.call.id", { stringValue: "call_17nqyvg" })
      const weatherApi = theSpan(spans, "weather-api GET /current", Kind.client, serverService)
      assert.strictEqual(weatherApi.parentSpanId, weatherCall.spanId, "the tool's own work nests under the SERVER span")

      // Streamable HTTP: the server in the agent's process, the POST under each CLIENT span.
      const sessions = new Set<string>()
      for (const method of ["initialize", "notifications/initialized", "tools/list"]) {
        const client = theSpan(spans, method, Kind.client, agentService, "tcp")
        const server = theSpan(spans, method, Kind.server, agentService, "tcp")
        assert.strictEqual(client.parentSpanId, root.spanId)
        assertPair(client, server)
        const post = spans.filter((s) => s.parentSpanId === client.spanId && s.name === "POST")
        assert.strictEqual(post.length, 1, `the POST of "${method}" under its CLIENT span`)
        assert.strictEqual(post[0]!.kind, Kind.client)
        assertMcp(client, method, "tcp")
        assertMcp(server, method, "tcp")
        for (const span of [client, server]) {
          attr(span, "network.protocol.name", { stringValue: "http" })
          const session = span.attributes["mcp.session.id"]
          assert.isTrue(session !== undefined && "stringValue" in session, `mcp.session.id on "${span.name}"`)
          sessions.add((session as { stringValue: string }).stringValue)
        }
        attr(client, "server.address", { stringValue: "127.0.0.1" })
        assertPositiveInt(client, "server.port")
        attr(client, "client.address", undefined)
        attr(server, "client.address", { stringValue: "127.0.0.1" })
        assertPositiveInt(server, "client.port")
        attr(server, "server.address", undefined)
        // The server reads the HTTP version off the request; the example's fetch client cannot know it.
        attr(server, "network.protocol.version", { stringValue: "1.1" })
        attr(client, "network.protocol.version", undefined)
      }
      assert.strictEqual(sessions.size, 1, "one Mcp-Session-Id, the same on both sides")

      const trainsTool = theSpan(spans, "execute_tool search_trains", Kind.internal, agentService)
      const trainsCall = theSpan(spans, "tools/call search_trains", Kind.server, agentService)
      assert.strictEqual(trainsTool.parentSpanId, root.spanId)
      assertPair(trainsTool, trainsCall)
      for (const span of [trainsTool, trainsCall]) {
        assertMcp(span, "tools/call", "tcp")
        attr(span, "gen_ai.operation.name", { stringValue: "execute_tool" })
        attr(span, "gen_ai.tool.name", { stringValue: "search_trains" })
        attr(span, "mcp.session.id", { stringValue: [...sessions][0]! })
      }
      attr(
        trainsTool,
        "server.port",
        theSpan(spans, "tools/list", Kind.client, agentService, "tcp").attributes["server.port"]
      )
      assertPositiveInt(trainsCall, "client.port")
      const lookup = theSpan(spans, "timetable lookup", Kind.internal, agentService)
      assert.strictEqual(lookup.parentSpanId, trainsCall.spanId)

      // The session ends with the agent: Effect's client DELETEs it.
      const remove = theSpan(spans, "DELETE", Kind.client, agentService)
      assert.strictEqual(remove.parentSpanId, root.spanId)

      // What the processes printed is what Jaeger holds, and the pieces name their parents.
      assert.deepStrictEqual(
        printedSpanNames(run.stdout, traceId).toSorted(),
        spans.filter((s) => serviceOf(s) === agentService).map((s) => s.name).toSorted(),
        `the agent's printed tree and Jaeger disagree:\n${showRun(run)}`
      )
      assert.deepStrictEqual(
        pieces.flatMap((piece) => piece.names).toSorted(),
        child.spanNames.toSorted(),
        `the server's printed pieces and Jaeger disagree:\n${showRun(run)}`
      )
      const serverRoots = spans.filter((s) => serviceOf(s) === serverService && s.kind === Kind.server)
        .toSorted(byStart)
      assert.deepStrictEqual(
        pieces.map((piece) => piece.continues[0]),
        serverRoots.map((s) => s.parentSpanId),
        "each printed piece names the agent's span its root continues"
      )
      assert.deepStrictEqual(
        sentMarkers(run.stdout).map(({ spanId }) => spanId).toSorted(),
        serverRoots.map((s) => s.parentSpanId!).toSorted(),
        `the agent's tree marks the spans whose context the child received:\n${showRun(run)}`
      )
      assert.deepStrictEqual(sentMarkers(run.stdout).map(({ name }) => name), [
        "initialize",
        "notifications/initialized",
        "tools/list",
        "execute_tool get_weather"
      ])
    })
  })
})
