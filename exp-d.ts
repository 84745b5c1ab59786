import { Effect, Layer, Schema, Stream } from "effect"
import { Chat, EmbeddingModel, LanguageModel, Tool, Toolkit } from "effect/ai"
import { EffectAi, Pipeline, Simulated, Testing } from "./src/index.ts"

const GetWeather = Tool.make("GetWeather", {
  description: "Weather for a city",
  parameters: Schema.Struct({ query: Schema.String }),
  success: Schema.Struct({ forecast: Schema.String })
})
const SearchTrains = Tool.make("SearchTrains", {
  description: "Trains between cities",
  parameters: Schema.Struct({ query: Schema.String }),
  success: Schema.Struct({ duration: Schema.String })
})
const Tools = Toolkit.make(GetWeather, SearchTrains)
const ToolsLive = EffectAi.toolkitLayer(Tools, {
  GetWeather: () => Effect.succeed({ forecast: "mild" }),
  SearchTrains: () => Effect.succeed({ duration: "2h58" })
})
const program = Effect.gen(function*() {
  const r1 = yield* LanguageModel.generateText({ prompt: "Weather in Lisbon and trains to Porto?", toolkit: Tools })
  console.log("r1", r1.text, r1.toolCalls.length, r1.toolResults.length)
  const obj = yield* LanguageModel.generateObject({
    prompt: "A city",
    schema: Schema.Struct({ name: Schema.String, population: Schema.Number })
  })
  console.log("obj", obj.value)
  const parts = yield* LanguageModel.streamText({ prompt: "Tell me a story" }).pipe(Stream.take(3), Stream.runCollect)
  console.log("stream", parts.map((p) => p.type))
  const chat = yield* Chat.empty
  yield* chat.generateText({ prompt: "Hi" }).pipe(EffectAi.withConversation("conv-1"))
  yield* chat.generateText({ prompt: "Again" }).pipe(EffectAi.withConversation("conv-1"))
  const e = yield* EmbeddingModel.EmbeddingModel
  yield* e.embed("hello")
  yield* e.embedMany(["a", "b"])
}).pipe(
  Pipeline.run("agent-workflow"),
  Effect.andThen(Effect.sleep(50)),
  Effect.andThen(Effect.gen(function*() {
    const spans = yield* Testing.finishedSpans
    console.log(Testing.render(spans))
    for (const s of spans) {
      console.log(s.name, s.kind, s.parentSpanContext?.spanId, s.spanContext().spanId, s.links.length)
    }
  }))
)
await Effect.runPromise(program.pipe(
  Effect.provide(
    Layer.mergeAll(
      EffectAi.layer(Simulated.chatProvider({ latency: 0 })),
      EffectAi.layerEmbedding(Simulated.embeddingProvider({ latency: 0, dimensions: 4 })),
      ToolsLive
    )
  ),
  Effect.provide(Testing.layer())
))
