/**
 * The package as users install it: its reported version matches package.json, the packages whose
 * identity an app must share are peers, and a second copy of `@opentelemetry/api` registered in the
 * process is reported in one warning instead of losing spans silently.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Otel from "@opentelemetry/api"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { Pipeline, Tracing } from "../src/index.ts"
import { version } from "../src/internal/version.ts"

const pkg = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "..", "package.json"), "utf8")) as {
  readonly version: string
  readonly dependencies: Record<string, string>
  readonly peerDependencies: Record<string, string>
  readonly devDependencies: Record<string, string>
}
const ownApiVersion = (
  JSON.parse(
    fs.readFileSync(path.join(import.meta.dirname, "..", "node_modules/@opentelemetry/api/package.json"), "utf8")
  ) as {
    readonly version: string
  }
).version

describe("the package", () => {
  it("reports the version package.json declares (telemetry.distro.version)", () => {
    assert.strictEqual(version, pkg.version)
  })

  it("makes effect, @opentelemetry/api and @effect/opentelemetry peers, never bundled dependencies", () => {
    for (const name of ["effect", "@opentelemetry/api", "@effect/opentelemetry"]) {
      assert.property(pkg.peerDependencies, name)
      assert.notProperty(
        pkg.dependencies,
        name,
        `${name} must not be a dependency: the app's copy must be the one used`
      )
      assert.property(pkg.devDependencies, name, `${name} is installed for the project's own tests`)
    }
  })
})

describe("a second copy of @opentelemetry/api", () => {
  const key = Symbol.for("opentelemetry.js.api.1")
  const registry = globalThis as unknown as Record<symbol, unknown>

  it.effect("registered by the app before the layer starts: one warning naming both versions", () =>
    Effect.gen(function*() {
      // What a newer copy of the API leaves in the shared global registry when the app registers with it.
      const saved = registry[key]
      registry[key] = { version: "1.99.0" }
      const warnings: Array<string> = []
      yield* Effect.void.pipe(
        Pipeline.run("agent-workflow"),
        Effect.provide(Tracing.layer({ endpoint: "http://127.0.0.1:9", onWarning: (m) => warnings.push(m) })),
        Effect.ensuring(Effect.sync(() => {
          registry[key] = saved
        }))
      )
      const about = warnings.filter((w) => w.includes("@opentelemetry/api"))
      assert.strictEqual(about.length, 1, warnings.join("\n"))
      assert.include(about[0], "1.99.0")
      assert.include(about[0], ownApiVersion)
    }))

  it.effect("one shared copy: no warning, and the provider is registered with it", () =>
    Effect.gen(function*() {
      const warnings: Array<string> = []
      const registered = yield* Effect.sync(() => Otel.trace.getTracerProvider()).pipe(
        Effect.provide(Tracing.layer({ endpoint: "http://127.0.0.1:9", onWarning: (m) => warnings.push(m) }))
      )
      assert.deepStrictEqual(warnings.filter((w) => w.includes("@opentelemetry/api")), [])
      assert.notStrictEqual(registered.getTracer("x").startSpan("probe").spanContext().traceId, Otel.INVALID_TRACEID)
    }))
})
