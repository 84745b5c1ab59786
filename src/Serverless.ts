/**
 * Tracing in serverless functions and edge workers (AWS Lambda, Vercel Functions, Cloudflare
 * Workers, Deno Deploy): the tracing layer is built once per instance, each request runs in it,
 * and its spans are flushed before the response is finished — handed to the platform's
 * `waitUntil` where there is one, so the response is not held, awaited before returning where
 * there is none (the platform may freeze the instance the moment the handler returns).
 *
 * ```ts
 * const app = Serverless.make(Layer.mergeAll(Tracing.layer({ serviceName: "agent" }), Simulated.layer()))
 *
 * export const handler = (event: { question: string }) => app.run(agent(event.question))
 * ```
 *
 * See `docs/runtimes.md` for each platform's complete handler.
 *
 * @since 0.4.0
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import { nothingFlushed } from "./internal/flush.ts"
import * as Tracing from "./Tracing.ts"

/**
 * @since 0.4.0
 * @category models
 */
export interface Options {
  /**
   * How long a request's flush may wait for the collector (default 2 seconds): what a collector
   * that is down costs each request at most. Spans still pending then go on in the background.
   */
  readonly flushTimeout?: Duration.Input | undefined
  /** Told each flush's result, for a platform log line or a metric of your own. */
  readonly onFlush?: ((result: Tracing.FlushResult) => void) | undefined
}

/**
 * @since 0.4.0
 * @category models
 */
export interface RunOptions {
  /**
   * The platform's way to keep the instance alive after the response (Cloudflare's
   * `ctx.waitUntil`, Vercel's `waitUntil` from `@vercel/functions`). With it the flush runs after
   * the result is returned; without it the flush is awaited first.
   */
  readonly waitUntil?: ((promise: Promise<unknown>) => void) | undefined
  /** Interrupts the request's effect (the client went away, the platform's deadline). */
  readonly signal?: AbortSignal | undefined
}

/**
 * @since 0.4.0
 * @category models
 */
export interface Handler<R, ER> {
  /**
   * Runs one request's effect in the instance's runtime, then flushes what it traced. Resolves
   * with the effect's value; rejects with its failure, once the flush is done or handed over.
   */
  readonly run: <A, E>(effect: Effect.Effect<A, E, R>, options?: RunOptions) => Promise<A>
  /** Sends what has ended, now, within the flush timeout; `released` once disposed. */
  readonly flush: () => Promise<Tracing.FlushResult>
  /** Releases the layer (the last spans go out); for platforms that announce shutdown (Lambda's `SIGTERM`). */
  readonly dispose: () => Promise<void>
  /** The runtime the requests run in, for anything else the handler does. */
  readonly runtime: ManagedRuntime.ManagedRuntime<R, ER>
}

const defaultFlushTimeout = Duration.seconds(2)

const released = nothingFlushed(true)

/**
 * A request handler over `layer`, built at the first request and kept for the instance's life.
 * The layer should hold `Tracing.layer` (or `TracingLive`); without `Tracing.Delivery` there is
 * nothing to flush, and requests just run.
 *
 * @since 0.4.0
 * @category constructors
 */
export const make = <R, ER>(layer: Layer.Layer<R, ER>, options: Options = {}): Handler<R, ER> => {
  const runtime = ManagedRuntime.make(layer)
  const timeout = Duration.fromInputUnsafe(options.flushTimeout ?? defaultFlushTimeout)
  let disposed = false
  const flush = async (): Promise<Tracing.FlushResult> => {
    if (disposed) return released
    const result = await runtime.runPromise(
      Effect.flatMap(
        Effect.serviceOption(Tracing.Delivery),
        Option.match({
          onNone: () => Effect.succeed(released),
          onSome: (delivery) => delivery.flush(timeout)
        })
      )
    )
    options.onFlush?.(result)
    return result
  }
  return {
    run: async (effect, runOptions = {}) => {
      const exit = await runtime.runPromiseExit(effect, { signal: runOptions.signal })
      // A flush that fails to build the layer fails again here: the request already has that error.
      const flushed = flush().catch(() => released)
      if (runOptions.waitUntil !== undefined) runOptions.waitUntil(flushed)
      else await flushed
      if (Exit.isSuccess(exit)) return exit.value
      throw Cause.squash(exit.cause)
    },
    flush,
    dispose: async () => {
      disposed = true
      await runtime.dispose()
    },
    runtime
  }
}
