/**
 * The AWS event-stream binary framing (`application/vnd.amazon.eventstream`), decoded: what
 * Bedrock's `converse-stream` answers in. A frame is a 12-byte prelude (total length, headers
 * length, both big-endian 32-bit, and the prelude's CRC32), the headers (a name-length byte, the
 * name, a type byte, the typed value), the payload, and the CRC32 of everything before it.
 *
 * The bytes are untrusted input: both checksums are verified, every header must lie within the
 * headers section, an unknown header type is an error, and a frame whose prelude claims more
 * than the endpoint's single-event limit is refused before any of it is buffered, so the memory
 * held is one frame at most. {@link FrameDecoder} is the codec alone (fed chunk by chunk, it
 * gives whole frames, whatever the chunk boundaries); {@link decodeEventStream} runs it over a
 * response body with the provider kit's idle timeout and typed errors.
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { StreamPart } from "./model.ts"
import { chatError, type Endpoint, idleTimeout, transportError } from "./providerHttp.ts"
import { ChatError } from "./providerModel.ts"

/** A header's value, by its wire type: booleans, integers (64-bit ones as `bigint`), strings, bytes. */
export type HeaderValue = boolean | number | bigint | string | Uint8Array

/** One decoded frame. Header names are case-sensitive, as the format has them (`:event-type`). */
export interface Frame {
  readonly headers: ReadonlyMap<string, HeaderValue>
  readonly payload: Uint8Array
}

/** Why bytes are not a frame: `corrupt` (checksum, lengths, header types) or `too_large`. */
export interface FrameError {
  readonly _tag: "FrameError"
  readonly reason: "corrupt" | "too_large"
  readonly message: string
}

const preludeLength = 12
/** Prelude plus the message checksum: the smallest frame, with no headers and no payload. */
const minimumFrame = 16

const table = (() => {
  const out = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    out[n] = c >>> 0
  }
  return out
})()

/** CRC-32 (IEEE 802.3, the one zlib computes), continuing from `previous` when given. */
export const crc32 = (bytes: Uint8Array, previous = 0): number => {
  let c = ~previous
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return ~c >>> 0
}

const corrupt = (message: string): FrameError => ({ _tag: "FrameError", reason: "corrupt", message })

const utf8 = new TextDecoder()

/** The headers section as a map, or why it is malformed. */
const readHeaders = (bytes: Uint8Array): Map<string, HeaderValue> | FrameError => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headers = new Map<string, HeaderValue>()
  let at = 0
  const room = (n: number) => at + n <= bytes.length
  while (at < bytes.length) {
    const nameLength = bytes[at++]!
    if (!room(nameLength + 1)) return corrupt("a header runs past the headers section")
    const name = utf8.decode(bytes.subarray(at, at + nameLength))
    at += nameLength
    const type = bytes[at++]!
    let value: HeaderValue
    switch (type) {
      case 0:
      case 1:
        value = type === 0
        break
      case 2:
        if (!room(1)) return corrupt(`header ${name.slice(0, 64)} runs past the headers section`)
        value = view.getInt8(at)
        at += 1
        break
      case 3:
        if (!room(2)) return corrupt(`header ${name.slice(0, 64)} runs past the headers section`)
        value = view.getInt16(at)
        at += 2
        break
      case 4:
        if (!room(4)) return corrupt(`header ${name.slice(0, 64)} runs past the headers section`)
        value = view.getInt32(at)
        at += 4
        break
      case 5:
      case 8:
        // A long, or a timestamp in milliseconds since the epoch.
        if (!room(8)) return corrupt(`header ${name.slice(0, 64)} runs past the headers section`)
        value = view.getBigInt64(at)
        at += 8
        break
      case 6:
      case 7: {
        if (!room(2)) return corrupt(`header ${name.slice(0, 64)} runs past the headers section`)
        const length = view.getUint16(at)
        at += 2
        if (!room(length)) return corrupt(`header ${name.slice(0, 64)} runs past the headers section`)
        const raw = bytes.subarray(at, at + length)
        value = type === 7 ? utf8.decode(raw) : raw
        at += length
        break
      }
      case 9: {
        if (!room(16)) return corrupt(`header ${name.slice(0, 64)} runs past the headers section`)
        value = Array.from(bytes.subarray(at, at + 16), (b) => b.toString(16).padStart(2, "0")).join("")
        at += 16
        break
      }
      default:
        return corrupt(`header ${name.slice(0, 64)} has unknown type ${type}`)
    }
    headers.set(name, value)
  }
  return headers
}

/**
 * The frame codec, fed chunk by chunk. It holds at most one frame (no more than `maxFrameBytes`)
 * plus the chunk that completes it; after an error it is done and gives the same error again.
 */
export class FrameDecoder {
  private chunks: Array<Uint8Array> = []
  private buffered = 0
  /** The total length of the frame being read, once its prelude has been checked; 0 before. */
  private need = 0
  private preludeCrc = 0
  private failure: FrameError | undefined

  constructor(readonly maxFrameBytes: number) {}

  /** Bytes received that are not yet part of a whole frame. */
  get pendingBytes(): number {
    return this.buffered
  }

  /** The frames `chunk` completes (possibly none), or why the stream is not event-stream framing. */
  push(chunk: Uint8Array): Array<Frame> | FrameError {
    if (this.failure !== undefined) return this.failure
    if (chunk.length > 0) {
      this.chunks.push(chunk)
      this.buffered += chunk.length
    }
    const frames: Array<Frame> = []
    for (;;) {
      if (this.need === 0) {
        if (this.buffered < preludeLength) return frames
        const error = this.readPrelude(this.peek(preludeLength))
        if (error !== undefined) return this.failure = error
      }
      if (this.buffered < this.need) return frames
      const frame = this.readFrame(this.take(this.need))
      this.need = 0
      if ("_tag" in frame) return this.failure = frame
      frames.push(frame)
    }
  }

  private readPrelude(prelude: Uint8Array): FrameError | undefined {
    const view = new DataView(prelude.buffer, prelude.byteOffset, preludeLength)
    const total = view.getUint32(0)
    const headers = view.getUint32(4)
    const crc = crc32(prelude.subarray(0, 8))
    if (crc !== view.getUint32(8)) return corrupt("a frame's prelude checksum does not match")
    if (total < minimumFrame) return corrupt(`a frame claims ${total} bytes, fewer than its prelude and checksum`)
    if (headers > total - minimumFrame) {
      return corrupt(`a frame's ${headers} bytes of headers exceed its ${total} bytes`)
    }
    if (total > this.maxFrameBytes) {
      return {
        _tag: "FrameError",
        reason: "too_large",
        message: `a stream frame of ${total} bytes, over ${this.maxFrameBytes}`
      }
    }
    this.need = total
    this.preludeCrc = crc32(prelude.subarray(8, preludeLength), crc)
    return undefined
  }

  private readFrame(bytes: Uint8Array): Frame | FrameError {
    const end = bytes.length - 4
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    // The prelude's bytes are in the checksum already; only the rest is read again.
    if (crc32(bytes.subarray(preludeLength, end), this.preludeCrc) !== view.getUint32(end)) {
      return corrupt("a frame's message checksum does not match")
    }
    const headersEnd = preludeLength + view.getUint32(4)
    const headers = readHeaders(bytes.subarray(preludeLength, headersEnd))
    if (!(headers instanceof Map)) return headers
    return { headers, payload: bytes.subarray(headersEnd, end) }
  }

  /** The first `n` buffered bytes, contiguous, without consuming them. */
  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!
    if (first.length >= n) return first.subarray(0, n)
    const out = new Uint8Array(n)
    let filled = 0
    for (const chunk of this.chunks) {
      const part = chunk.subarray(0, n - filled)
      out.set(part, filled)
      filled += part.length
      if (filled === n) break
    }
    return out
  }

  /** Consumes the first `n` buffered bytes, contiguous (copied only when they span chunks). */
  private take(n: number): Uint8Array {
    this.buffered -= n
    const first = this.chunks[0]!
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift()
      else this.chunks[0] = first.subarray(n)
      return first.subarray(0, n)
    }
    const out = new Uint8Array(n)
    let filled = 0
    while (filled < n) {
      const chunk = this.chunks[0]!
      const part = chunk.subarray(0, n - filled)
      out.set(part, filled)
      filled += part.length
      if (part.length === chunk.length) this.chunks.shift()
      else this.chunks[0] = chunk.subarray(part.length)
    }
    return out
  }
}

/** A provider's reading of its event stream: one frame to parts, and whether the stream ended properly. */
export interface FrameHandler {
  /** Parts for one frame (possibly none), or the error it reports. */
  readonly onFrame: (frame: Frame) => ReadonlyArray<StreamPart> | ChatError
  /** True once the provider's last event was seen. */
  readonly finished: () => boolean
}

/** A string header of a frame; undefined when absent or of another type. */
export const stringHeader = (frame: Frame, name: string): string | undefined => {
  const value = frame.headers.get(name)
  return typeof value === "string" ? value : undefined
}

/**
 * Bytes of an event stream to reply parts: frames decoded within the endpoint's single-event
 * limit (`response_too_large` above it), corrupt framing failing with `invalid_response`, a quiet
 * stream with `timeout`, a broken connection with `connection_error`, and a stream that ends
 * mid-frame or before the provider's last event with `incomplete_stream`.
 */
export const decodeEventStream = <R>(
  bytes: Stream.Stream<Uint8Array, unknown, R>,
  endpoint: Endpoint,
  makeHandler: () => FrameHandler
): Stream.Stream<StreamPart, ChatError, R> =>
  Stream.suspend(() => {
    const frames = new FrameDecoder(endpoint.maxResponseBytes)
    const handler = makeHandler()
    const feed = (chunk: Uint8Array): Effect.Effect<ReadonlyArray<StreamPart>, ChatError> => {
      const decoded = frames.push(chunk)
      if (!Array.isArray(decoded)) {
        return Effect.fail(
          chatError(
            endpoint,
            decoded.reason === "too_large" ? "response_too_large" : "invalid_response",
            decoded.message
          )
        )
      }
      const parts: Array<StreamPart> = []
      for (const frame of decoded) {
        const out = handler.onFrame(frame)
        if (out instanceof ChatError) return Effect.fail(out)
        for (const part of out) parts.push(part)
      }
      return Effect.succeed(parts)
    }
    const end = Effect.suspend(() =>
      frames.pendingBytes > 0
        ? Effect.fail(
          chatError(endpoint, "incomplete_stream", `${endpoint.baseUrl.host} ended the stream inside a frame`)
        )
        : handler.finished()
        ? Effect.succeed<ReadonlyArray<StreamPart>>([])
        : Effect.fail(
          chatError(endpoint, "incomplete_stream", `${endpoint.baseUrl.host} ended the stream before its last event`)
        )
    )
    return bytes.pipe(
      Stream.mapError((error) => transportError(endpoint, (error as { reason?: unknown }).reason ?? error)),
      idleTimeout(endpoint),
      Stream.mapEffect(feed),
      Stream.concat(Stream.fromEffect(end)),
      Stream.flattenIterable
    )
  })
