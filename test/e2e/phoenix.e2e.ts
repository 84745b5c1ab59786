/**
 * The conversation example in a real Phoenix (arize-phoenix from PyPI, started by the global
 * setup): read back through its REST API and GraphQL, it is one session of three traces, with AGENT,
 * LLM, TOOL and RETRIEVER spans, token counts that match what the spans reported, a cost, and the
 * evaluation.
 */
import { assert, describe, it } from "@effect/vitest"
import { exportWarnings, runExample, showRun } from "./support/child.ts"
import { graphql, type PhoenixSpan, phoenixUrl, waitForSpans } from "./support/phoenix.ts"

const count = (spans: ReadonlyArray<PhoenixSpan>, kind: string) => spans.filter((s) => s.span_kind === kind).length
const sum = (spans: ReadonlyArray<PhoenixSpan>, key: string) =>
  spans.reduce(
    (total, span) => total + (typeof span.attributes[key] === "number" ? span.attributes[key] as number : 0),
    0
  )

interface Sessions {
  readonly projects: {
    readonly edges: ReadonlyArray<{
      readonly node: {
        readonly name: string
        readonly sessions: {
          readonly edges: ReadonlyArray<{
            readonly node: {
              readonly sessionId: string
              readonly numTraces: number
              readonly tokenUsage: { readonly prompt: number; readonly completion: number }
              readonly costSummary: { readonly total: { readonly cost: number | null } }
            }
          }>
        }
      }
    }>
  }
}

describe("Phoenix, for real", () => {
  it("the conversation example: one session of three traces, AGENT/LLM/TOOL/RETRIEVER, tokens, cost, the evaluation", async () => {
    const project = `e2e-conversation-${Date.now()}`
    const run = await runExample("examples/conversation.ts", {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: phoenixUrl,
        OTEL_RESOURCE_ATTRIBUTES: `openinference.project.name=${project}`
      }
    })
    assert.strictEqual(run.code, 0, showRun(run))
    // Phoenix takes traces only (its /v1/metrics answers 405): one line says so, then no more
    // metrics are sent there. Nothing else is reported.
    const warnings = exportWarnings(run.stderr)
    assert.lengthOf(warnings, 1, showRun(run))
    assert.match(
      warnings[0]!,
      /^beluga-o11y: http:\/\/127\.0\.0\.1:16006\/v1\/metrics takes no metrics \(collector answered HTTP 405/
    )

    // Three turns of: agent, retrieval, two model calls, two tools.
    const spans = await waitForSpans(project, 18)
    assert.strictEqual(spans.length, 18)
    assert.strictEqual(new Set(spans.map((s) => s.context.trace_id)).size, 3, "one trace per turn")
    assert.deepStrictEqual(
      {
        AGENT: count(spans, "AGENT"),
        LLM: count(spans, "LLM"),
        TOOL: count(spans, "TOOL"),
        RETRIEVER: count(spans, "RETRIEVER")
      },
      { AGENT: 3, LLM: 6, TOOL: 6, RETRIEVER: 3 }
    )
    const agents = spans.filter((s) => s.span_kind === "AGENT")
    for (const agent of agents) {
      assert.strictEqual(agent.name, "invoke_agent travel-agent")
      assert.isNull(agent.parent_id, "each turn's agent span is its trace's root")
      // The question and the answer, as Phoenix reads them from gen_ai.input/output.messages.
      assert.strictEqual(agent.attributes["llm.input_messages.0.message.role"], "user")
      assert.isString(agent.attributes["llm.output_messages.0.message.content"])
    }
    for (const span of spans) assert.strictEqual(span.attributes["session.id"], "session-1", span.name)

    // Token counts: Phoenix's LLM spans carry what the chat spans reported, and the agents' roll-ups add up to it.
    const llm = spans.filter((s) => s.span_kind === "LLM")
    for (const span of llm) {
      assert.strictEqual(span.attributes["llm.token_count.prompt"], span.attributes["gen_ai.usage.input_tokens"])
      assert.strictEqual(span.attributes["llm.token_count.completion"], span.attributes["gen_ai.usage.output_tokens"])
    }
    // The prompt each model call was made from, under the names Phoenix reads for a prompt template
    // (OpenInference's: its ingestion does not map gen_ai.prompt.*), and the conventions' beside them.
    for (const span of llm) {
      assert.strictEqual(span.attributes["gen_ai.prompt.name"], "travel-agent-system")
      assert.strictEqual(span.attributes["llm.prompt_template.version"], "3")
      assert.strictEqual(span.attributes["llm.prompt_template.template"], "{knowledge}")
      // Phoenix reads the variables' JSON as an object: it stores them key by key.
      assert.strictEqual(
        span.attributes["llm.prompt_template.variables.question"],
        span.attributes["gen_ai.prompt.variable.question"]
      )
      assert.isString(span.attributes["llm.prompt_template.variables.knowledge"])
    }
    const prompt = sum(llm, "gen_ai.usage.input_tokens")
    const completion = sum(llm, "gen_ai.usage.output_tokens")
    assert.isAbove(prompt, 0)
    assert.strictEqual(sum(agents, "beluga.rollup.input_tokens"), prompt)
    assert.strictEqual(sum(agents, "beluga.rollup.output_tokens"), completion)
    // Agent spans carry no gen_ai.usage.*: Phoenix sums a trace's tokens itself and would count them twice.
    for (const agent of agents) assert.isUndefined(agent.attributes["llm.token_count.prompt"])

    // The session, by GraphQL: three traces, the same token totals, and a cost.
    const data = await graphql<Sessions>(
      "{ projects { edges { node { name sessions(first: 10) { edges { node { sessionId numTraces tokenUsage { prompt completion } costSummary { total { cost } } } } } } } } }"
    )
    const sessions = data.projects.edges.find((e) => e.node.name === project)!.node.sessions.edges.map((e) => e.node)
    assert.strictEqual(sessions.length, 1)
    const session = sessions[0]!
    assert.strictEqual(session.sessionId, "session-1")
    assert.strictEqual(session.numTraces, 3)
    assert.deepStrictEqual(session.tokenUsage, { prompt, completion })
    assert.isAbove(session.costSummary.total.cost ?? 0, 0)
    // Our price table is gpt-4o's, which Phoenix's own table applies to this model name too: the same cost.
    assert.closeTo(session.costSummary.total.cost!, sum(agents, "beluga.rollup.cost"), 1e-9)

    // The second question carried an e-mail address and an API key: the example's redaction hook masked
    // them in every attribute of every span that reached Phoenix, content capture on.
    const everything = JSON.stringify(spans)
    assert.notInclude(everything, "ana@example.com")
    assert.notInclude(everything, "sk-test-4f9a8b7c6d5e")
    assert.include(everything, "[redacted]")

    // The evaluation, on the second turn's agent span.
    const evaluations = agents.flatMap((a) => a.events).filter((e) => e.name === "gen_ai.evaluation.result")
    assert.strictEqual(evaluations.length, 1)
    assert.deepInclude(evaluations[0]!.attributes, {
      "gen_ai.evaluation.name": "relevance",
      "gen_ai.evaluation.score.value": 0.9,
      "gen_ai.evaluation.score.label": "relevant"
    })
  })
})
