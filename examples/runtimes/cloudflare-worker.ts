/**
 * A Cloudflare Worker whose agent is traced: the tracing layer is built at the first request and
 * kept for the isolate's life, and each request's spans are flushed through `ctx.waitUntil`, so
 * the response goes out first. Deploy with `wrangler deploy` (wrangler.toml beside it: main,
 * compatibility_date, `compatibility_flags = ["nodejs_compat"]`, and the collector's URL as the
 * `OTEL_EXPORTER_OTLP_ENDPOINT` variable). See docs/runtimes.md.
 */
import { ChatModel, Pipeline, Serverless, Simulated, Tracing } from "beluga-o11y"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

interface Env {
  readonly OTEL_EXPORTER_OTLP_ENDPOINT: string
}

interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void
}

const agent = (question: string) =>
  Effect.gen(function*() {
    const model = yield* ChatModel.ChatModel
    const reply = yield* model.chat({ messages: [{ role: "user", parts: [{ type: "text", content: question }] }] })
    return reply.text
  }).pipe(Pipeline.run("agent-workflow", { attributes: { "app.route": "/ask" } }))

let app: Serverless.Handler<ChatModel.ChatModel | Tracing.Provides, Tracing.TracingConfigError> | undefined

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    app ??= Serverless.make(Layer.mergeAll(
      Tracing.layer({ serviceName: "agent-worker", endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT }),
      Simulated.layer()
    ))
    const question = new URL(request.url).searchParams.get("q") ?? "How long is the train from Lisbon to Porto?"
    const answer = await app.run(agent(question), { waitUntil: (promise) => ctx.waitUntil(promise) })
    return new Response(answer)
  }
}
