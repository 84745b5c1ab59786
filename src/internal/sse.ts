/**
 * A provider's server-sent-event stream as reply parts. The bytes are decoded as UTF-8 across
 * chunk boundaries and parsed as SSE; each event goes to the provider's {@link StreamDecoder},
 * which knows its wire format. The stream is untrusted input: every pending event is bounded in
 * size, a quiet stream times out, and one cut short before its end marker is an error.
 */
import * as Effect from "effect/Effect"
import * as Sse from "effect/encoding/Sse"
import * as Stream from "effect/Stream"
import type { StreamPart } from "./model.ts"
import { chatError, type Endpoint, idleTimeout, transportError } from "./providerHttp.ts"
import { ChatError } from "./providerModel.ts"

/** One server-sent event: its name (`message` when unnamed) and its data. */
export interface StreamEvent {
  readonly event: string
  readonly data: string
}

/** A provider's reading of its stream: one SSE event to parts, and whether the stream ended properly. */
export interface StreamDecoder {
  /** Parts for one event (possibly none), or the error the event reports. */
  readonly onEvent: (event: StreamEvent) => ReadonlyArray<StreamPart> | ChatError
  /** True once the provider's end-of-stream marker was seen. */
  readonly finished: () => boolean
}

/**
 * Bytes of a server-sent-event stream to reply parts. The SSE parser bounds every pending event
 * to the endpoint's byte limit; a stream that goes quiet fails with `timeout`; one that ends
 * before the provider's end marker fails with `incomplete_stream`; `retry:` directives, comments
 * and empty events are ignored.
 */
export const decodeEvents = <R>(
  bytes: Stream.Stream<Uint8Array, unknown, R>,
  endpoint: Endpoint,
  makeDecoder: () => StreamDecoder
): Stream.Stream<StreamPart, ChatError, R> =>
  Stream.suspend(() => {
    const decoder = makeDecoder()
    const text = new TextDecoder()
    let failure: ChatError | undefined
    let parts: Array<StreamPart> = []
    const parser = Sse.makeParser((event) => {
      if (event._tag !== "Event" || failure !== undefined) return
      const out = decoder.onEvent(event)
      if (out instanceof ChatError) failure = out
      else for (const part of out) parts.push(part)
    }, { maxEventSize: endpoint.maxResponseBytes })
    const feed = (chunk: string): Effect.Effect<ReadonlyArray<StreamPart>, ChatError> => {
      const tooLarge = parser.feed(chunk)
      if (tooLarge !== undefined) {
        return Effect.fail(
          chatError(endpoint, "response_too_large", `a stream event over ${endpoint.maxResponseBytes} bytes`)
        )
      }
      if (failure !== undefined) return Effect.fail(failure)
      const out = parts
      parts = []
      return Effect.succeed(out)
    }
    const end = Effect.suspend(() => {
      const rest = text.decode()
      // A final event needs its blank line: an unterminated one is a truncated stream.
      return Effect.flatMap(rest !== "" ? feed(rest) : Effect.succeed([]), (out) =>
        decoder.finished()
          ? Effect.succeed(out)
          : Effect.fail(
            chatError(endpoint, "incomplete_stream", `${endpoint.baseUrl.host} ended the stream before its end marker`)
          ))
    })
    return bytes.pipe(
      Stream.mapError((error) => transportError(endpoint, (error as { reason?: unknown }).reason ?? error)),
      idleTimeout(endpoint),
      Stream.mapEffect((chunk) => feed(text.decode(chunk, { stream: true }))),
      Stream.concat(Stream.fromEffect(end)),
      Stream.flattenIterable
    )
  })

/** Parses an SSE event's data as JSON, or gives an `invalid_response` error. */
export const eventJson = (event: StreamEvent, endpoint: Endpoint): unknown => {
  try {
    return JSON.parse(event.data) as unknown
  } catch {
    return chatError(endpoint, "invalid_response", `a stream event (${event.event.slice(0, 64)}) is not valid JSON`)
  }
}
