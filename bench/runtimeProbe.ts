/**
 * Run by `bench/runtimes.ts` on each runtime (Node, Bun, Deno) from a consumer folder, importing
 * the package by name. `PROBE=cold` makes one span, flushes it and says `DELIVERED`: a cold start.
 * `PROBE=steps` times a root step under Effect's native tracer and under `Tracing.layer` (exported
 * to the bench's receiver) in interleaved rounds, then times `Tracing.flush` of 20 spans, and
 * prints one JSON line.
 */
import { Pipeline, Tracing } from "beluga-o11y"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"

/** CPU milliseconds this process has used. */
const cpu = () => {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}

const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT!
const tracing = Tracing.layer({ serviceName: "probe", endpoint, metrics: false, registerGlobal: false })

if (process.env.PROBE === "cold") {
  const result = await Effect.runPromise(
    Effect.gen(function*() {
      yield* Effect.void.pipe(Pipeline.run("cold-start"))
      return yield* Tracing.flush()
    }).pipe(Effect.provide(tracing))
  )
  console.log(result.spans.delivered === 1 ? "DELIVERED" : `NOT DELIVERED ${JSON.stringify(result)}`)
} else {
  const steps = Number(process.env.STEPS ?? "20000")
  const rounds = Number(process.env.ROUNDS ?? "7")
  const step = Effect.void.pipe(
    Effect.withSpan("step", { attributes: { a: 1, b: "two", c: true, d: 4.5, e: "five" } })
  )
  const loop = Effect.gen(function*() {
    for (let i = 0; i < steps; i++) yield* step
  })
  const traced = ManagedRuntime.make(tracing)
  await traced.runPromise(loop) // warm-up, and the layer built
  await Effect.runPromise(loop)
  const time = async (run: () => Promise<void>) => {
    const start = cpu()
    await run()
    return (cpu() - start) * 1e6 / steps // ns a step
  }
  const native: Array<number> = []
  const ours: Array<number> = []
  for (let round = 0; round < rounds; round++) {
    const first = round % 2 === 0
    if (first) native.push(await time(() => Effect.runPromise(loop)))
    ours.push(
      await time(async () => {
        await traced.runPromise(loop)
        // The export is part of the cost: the step's spans sent before the round ends.
        await traced.runPromise(Tracing.flush({ timeout: "30 seconds" }))
      })
    )
    if (!first) native.push(await time(() => Effect.runPromise(loop)))
  }
  const flushes: Array<number> = []
  const twenty = Effect.gen(function*() {
    for (let i = 0; i < 19; i++) yield* Effect.void.pipe(Pipeline.step(`child-${i}`))
  }).pipe(Pipeline.run("flushed"))
  for (let i = 0; i < 30; i++) {
    await traced.runPromise(twenty)
    const start = performance.now()
    const result = await traced.runPromise(Tracing.flush({ timeout: "5 seconds" }))
    flushes.push(performance.now() - start)
    if (result.spans.delivered !== 20) throw new Error(`flush delivered ${JSON.stringify(result)}`)
  }
  await traced.dispose()
  console.log(JSON.stringify({ native, ours, flushes }))
}
