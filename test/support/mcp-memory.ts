/**
 * An MCP server and its client in one process, over the real stdio framing: the client is
 * Effect's `McpClient.stdio` transport (newline-delimited JSON-RPC, its pending-request table,
 * its cancellation), the server `McpServer.layerStdio` (traced or not), and the "child process"
 * between them a `ChildProcessSpawner` whose spawn starts the server layer on in-memory pipes.
 * `kill` interrupts the server, as a dying process would stop answering.
 */
import type * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as ChildProcess from "effect/process/ChildProcess"
import { ChildProcessSpawner, ExitCode, makeHandle, ProcessId } from "effect/process/ChildProcessSpawner"
import * as Queue from "effect/Queue"
import * as Sink from "effect/Sink"
import * as Stdio from "effect/Stdio"
import * as Stream from "effect/Stream"

const encoder = new TextEncoder()

/** What the test can see of the wire: every line each side wrote. */
export interface Wire {
  readonly toServer: Array<string>
  readonly toClient: Array<string>
}

/**
 * A spawner whose every `spawn` runs `server` (a layer that serves over `Stdio`) in this process.
 * `wire` records the traffic; `hook.lines` may rewrite or drop what the client sends.
 */
export const spawnerFor = <E>(
  server: Layer.Layer<never, E, Stdio.Stdio>,
  options: {
    readonly wire?: Wire | undefined
    /**
     * Replaces what the client writes before the server reads it (a hostile client, say); several
     * strings reach the server as as many chunks.
     */
    readonly rewrite?: ((chunk: string) => string | ReadonlyArray<string>) | undefined
    /** Keeps from the client what the server writes for someone else (answers to a hostile client's junk). */
    readonly hide?: ((line: string) => boolean) | undefined
  } = {}
): Layer.Layer<ChildProcessSpawner> =>
  Layer.succeed(
    ChildProcessSpawner,
    ChildProcessSpawner.of({
      spawn: () =>
        Effect.gen(function*() {
          const toServer = yield* Queue.unbounded<Uint8Array, Cause.Done>()
          const toClient = yield* Queue.unbounded<Uint8Array, Cause.Done>()
          const exited = yield* Deferred.make<ExitCode>()
          const decoder = new TextDecoder()
          const stdio = Stdio.make({
            args: Effect.succeed([]),
            stdin: Stream.fromQueue(toServer),
            stdout: () =>
              Sink.forEach((chunk: string | Uint8Array) => {
                const text = typeof chunk === "string" ? chunk : decoder.decode(chunk)
                options.wire?.toClient.push(text)
                if (options.hide?.(text) === true) return Effect.void
                return Queue.offer(toClient, encoder.encode(text))
              }),
            stderr: () => Sink.drain
          })
          const fiber = yield* Layer.launch(server.pipe(Layer.provide(Layer.succeed(Stdio.Stdio, stdio)))).pipe(
            Effect.onExit((exit) =>
              Effect.andThen(
                Queue.end(toClient),
                Deferred.succeed(exited, ExitCode(Exit.isSuccess(exit) ? 0 : 1))
              )
            ),
            Effect.forkScoped
          )
          const stdin = Sink.forEach((chunk: Uint8Array) => {
            const text = new TextDecoder().decode(chunk)
            const written = options.rewrite !== undefined ? options.rewrite(text) : text
            const chunks = typeof written === "string" ? [written] : written
            return Effect.forEach(chunks, (piece) => {
              options.wire?.toServer.push(piece)
              return Queue.offer(toServer, encoder.encode(piece))
            }, { discard: true })
          }).pipe(Sink.ensuring(Queue.end(toServer)))
          return makeHandle({
            pid: ProcessId(1),
            exitCode: Deferred.await(exited),
            isRunning: Effect.map(Deferred.isDone(exited), (done) => !done),
            kill: () => Fiber.interrupt(fiber),
            stdin,
            stdout: Stream.fromQueue(toClient),
            stderr: Stream.empty,
            all: Stream.fromQueue(toClient),
            getInputFd: () => Sink.drain,
            getOutputFd: () => Stream.empty,
            unref: Effect.succeed(Effect.void)
          })
        }),
      exitCode: () => Effect.succeed(ExitCode(0)),
      streamString: () => Stream.empty,
      streamLines: () => Stream.empty,
      lines: () => Effect.succeed([]),
      string: () => Effect.succeed("")
    } as any)
  )

/** The command the in-memory spawner ignores (any will do). */
export const memoryCommand = ChildProcess.make("mcp-in-memory", [])
