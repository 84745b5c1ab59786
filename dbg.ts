import * as Effect from "effect/Effect"
import { NodeRuntime } from "@effect/platform-node"
import { Tracing, Pipeline } from "./src/index.ts"
const t0 = Date.now()
Effect.void.pipe(Pipeline.run("x"), Effect.provide(Tracing.layer({ onWarning: (m) => console.log(Date.now() - t0, "WARN", m) })), Effect.tap(() => Effect.sync(() => console.log(Date.now() - t0, "after provide"))), NodeRuntime.runMain)
process.on("exit", () => console.log(Date.now() - t0, "exit"))
