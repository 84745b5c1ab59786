/**
 * What the library needs from its runtime, on workerd (Cloudflare Workers) and the edge runtimes
 * (the `workerd`, `worker` and `edge-light` export conditions): HTTP through `fetch`, gzip through
 * `CompressionStream`, and a context manager over the `AsyncLocalStorage` these runtimes offer as
 * `node:async_hooks` (Cloudflare's `nodejs_compat` or `nodejs_als` flag; Vercel Edge has it
 * built in). The SDK's own context manager is CommonJS that `require`s `async_hooks`, which an ES
 * module worker cannot do. A worker's isolate has no package files to read, so the check for a
 * second copy of the OTel API (`global.ts`) has no version to compare and stays quiet. The OTel
 * metrics API gets a meter provider over the GenAI recorder instead of the SDK's.
 */
import * as Otel from "@opentelemetry/api"
import type { Resource } from "@opentelemetry/resources"
import { AsyncLocalStorage } from "node:async_hooks"
import type { ApiMeters } from "../apiMeters.ts"
import type { TemporalityPreference } from "../config.ts"
import { fetchClient, type HttpClient } from "../httpClient.ts"
import type { Recorder } from "../metrics.ts"
import { recorderMeterProvider } from "../recorderMeters.ts"

export const httpClient = (_url: URL): HttpClient => fetchClient()

/** Workers have no file system to write a report to: the option is refused, not ignored. */
export const runReport = (file: string, _warn: (message: string) => void): never => {
  throw new Error(`this runtime has no file system to write the report ${file} to`)
}

/** Workers have no file system to read a prices file from: the table goes in code (`prices`). */
export const readTextFile = (file: string): string => {
  throw new Error(`this runtime has no file system to read ${file} from; pass the prices in code instead`)
}

export const gzip = async (data: Uint8Array): Promise<Uint8Array> => {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream("gzip"))
  return new Uint8Array(await new Response(stream).arrayBuffer())
}

class AsyncLocalStorageContext implements Otel.ContextManager {
  private readonly storage = new AsyncLocalStorage<Otel.Context>()

  active(): Otel.Context {
    return this.storage.getStore() ?? Otel.ROOT_CONTEXT
  }

  with<A extends ReadonlyArray<unknown>, F extends (...args: A) => ReturnType<F>>(
    context: Otel.Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.storage.run(context, () => fn.call(thisArg, ...args))
  }

  bind<T>(context: Otel.Context, target: T): T {
    if (typeof target !== "function") return target
    const storage = this.storage
    return function(this: unknown, ...args: Array<unknown>) {
      return storage.run(context, () => (target as (...a: Array<unknown>) => unknown).apply(this, args))
    } as T
  }

  enable(): this {
    return this
  }

  disable(): this {
    this.storage.disable()
    return this
  }
}

export const contextManager = (): Otel.ContextManager | undefined => new AsyncLocalStorageContext()

/**
 * The meter provider behind the OTel metrics API: not the SDK's, which is 45 KB of a worker's
 * bundle, but one that records the library's own histograms (`McpSdk`'s durations) into the GenAI
 * recorder; instruments of any other name are the API's no-ops here.
 */
export const meterProvider = (
  _resource: Resource,
  _temporality: TemporalityPreference,
  recorder: Recorder
): ApiMeters => ({ provider: recorderMeterProvider(recorder) })

export const ownApiVersion = (): string | undefined => undefined
