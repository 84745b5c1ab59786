/**
 * A protobuf writer over one growable buffer, for encoders that write a message straight from
 * their own records (`otlpTraces.ts`; the JSON encoder writes its UTF-8 through it too): no
 * intermediate message objects, no size pass.
 *
 * A length-delimited field is written by reserving the bytes its length is expected to take
 * ({@link ProtobufWriter.begin}), writing the contents, and writing the length in front
 * ({@link ProtobufWriter.end}); only a guess that was wrong moves the contents. Callers pick the
 * reservation per message: most attributes fit in 127 bytes, most spans in 16 KiB. Measured against
 * computing every size first, the pass saved is worth more than the rare move.
 *
 * The buffer holds a whole batch, written in the order its parts arrive, not the order they are
 * sent in; {@link ProtobufWriter.gather} copies the parts out in the request's order.
 */

/** What the buffer starts at; it doubles when a batch needs more. */
const initialBytes = 64 * 1024
/**
 * A buffer grown past this is let go once a batch fills less than a quarter of it, so one outsized
 * batch does not keep its memory for the life of the process, while batches that are large as a
 * rule (4096 GenAI spans in JSON are ~5 MiB) do not grow a new buffer from scratch each time.
 */
const retainedBytes = 4 * 1024 * 1024

/**
 * Strings up to this many UTF-16 units are copied in a loop; longer ones through `Buffer#write`,
 * whose native call costs more than the loop for short strings and far less for long ones.
 */
const shortString = 42

/**
 * Hex digit values as `@opentelemetry/otlp-transformer`'s `hexToBinary` reads them, for the ASCII
 * range: 0-9, a-f and A-F as digits, any other code `c` as `c - 55`. That reading decides what an id
 * that is not hex becomes, so it is kept, cut to the low byte that survives into the output.
 */
const nibbles = Uint8Array.from(
  { length: 128 },
  (_, code) => code >= 48 && code <= 57 ? code - 48 : code >= 97 && code <= 102 ? code - 87 : (code - 55) & 0xff
)

/** The number of bytes `value`'s varint takes; a negative number takes 10 (its 64-bit two's complement). */
export const varintSize = (value: number): number =>
  value < 0 ? 10 : value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5

/**
 * The last string written through it and the bytes it became, for ids: the spans of a batch
 * mostly share a trace and often a parent, so such an id is turned into bytes once and copied
 * after (a string compare, usually of the very same string, costs less than reading 32 digits).
 */
export class BytesMemo {
  text = ""
  bytes: Uint8Array = new Uint8Array(0)
}

/**
 * The last text written through it as its whole field, tag and length included: records of a kind
 * repeat their texts (a severity, an event name), and copying the field costs a fraction of
 * encoding the text again.
 */
export class StringFieldMemo {
  private text: string | undefined = undefined
  private field: Uint8Array = new Uint8Array(0)

  constructor(private readonly tag: number) {}

  write(w: ProtobufWriter, text: string): void {
    if (text !== this.text) {
      const start = w.pos
      w.byte(this.tag)
      w.string(text)
      this.field = w.copy(start)
      this.text = text
      w.pos = start
    }
    w.raw(this.field)
  }
}

export class ProtobufWriter {
  buffer: Buffer = Buffer.allocUnsafe(initialBytes)
  pos = 0
  private view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength)

  /** Room for `bytes` more bytes. */
  ensure(bytes: number): void {
    if (this.pos + bytes > this.buffer.length) this.grow(bytes)
  }

  private grow(bytes: number): void {
    let size = this.buffer.length * 2
    while (size < this.pos + bytes) size *= 2
    const grown = Buffer.allocUnsafe(size)
    this.buffer.copy(grown, 0, 0, this.pos)
    this.buffer = grown
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength)
  }

  /**
   * The ranges `[start, end)` listed in `pieces` (flat: start, end, start, end...), copied out one
   * after the other into bytes of their own.
   */
  gather(pieces: ReadonlyArray<number>): Uint8Array {
    let size = 0
    for (let i = 0; i < pieces.length; i += 2) size += pieces[i + 1]! - pieces[i]!
    const out = Buffer.allocUnsafe(size)
    const buffer = this.buffer
    let pos = 0
    for (let i = 0; i < pieces.length; i += 2) pos += buffer.copy(out, pos, pieces[i]!, pieces[i + 1]!)
    return out
  }

  /**
   * Empties the writer for the next batch: what was written so far is the batch that ends, and
   * decides whether a buffer grown past {@link retainedBytes} is kept.
   */
  reset(): void {
    if (this.buffer.length > retainedBytes && this.pos < this.buffer.length / 4) {
      this.buffer = Buffer.allocUnsafe(initialBytes)
      this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength)
    }
    this.pos = 0
  }

  /** A copy of what was written from `start` on, to be written again with {@link raw}. */
  copy(start: number): Uint8Array {
    return new Uint8Array(this.buffer.subarray(start, this.pos))
  }

  /** One byte: a tag of a field below 16, or a varint below 128. */
  byte(value: number): void {
    this.ensure(1)
    this.buffer[this.pos++] = value
  }

  /**
   * A varint. Integers outside 0..2^32-1 are written as 64-bit two's complement, split into halves
   * without `BigInt`; any other number is written as otlp-transformer's writer writes it, so that
   * both agree on every value a caller passes through.
   */
  varint(value: number): void {
    // Most varints written are counts and enums below 128: kept small enough to be inlined.
    if (value >= 0 && value < 0x80 && (value | 0) === value) this.byte(value)
    else this.varintLong(value)
  }

  private varintLong(value: number): void {
    this.ensure(10)
    const buffer = this.buffer
    let pos = this.pos
    if (value >= 0 && value <= 0xffffffff) {
      let v = value >>> 0
      while (v > 0x7f) {
        buffer[pos++] = (v & 0x7f) | 0x80
        v >>>= 7
      }
      buffer[pos++] = v
    } else {
      let low: number
      let high: number
      if (value >= 0) {
        low = value >>> 0
        high = (value / 0x100000000) >>> 0
      } else {
        const abs = Math.abs(value)
        low = ~(abs >>> 0) >>> 0
        high = ~((abs / 0x100000000) >>> 0) >>> 0
        low = (low + 1) >>> 0
        if (low === 0) high = (high + 1) >>> 0
      }
      while (high > 0 || low > 0x7f) {
        buffer[pos++] = (low & 0x7f) | 0x80
        low = ((low >>> 7) | (high << 25)) >>> 0
        high >>>= 7
      }
      buffer[pos++] = low & 0x7f
    }
    this.pos = pos
  }

  fixed32(value: number): void {
    this.ensure(4)
    this.view.setUint32(this.pos, value >>> 0, true)
    this.pos += 4
  }

  /** A fixed64 from its 32-bit halves. */
  fixed64(low: number, high: number): void {
    this.ensure(8)
    this.view.setUint32(this.pos, low >>> 0, true)
    this.view.setUint32(this.pos + 4, high >>> 0, true)
    this.pos += 8
  }

  /** A fixed64 from a `bigint` in 0..2^64-1. */
  fixed64Big(value: bigint): void {
    this.ensure(8)
    this.view.setBigUint64(this.pos, value, true)
    this.pos += 8
  }

  double(value: number): void {
    this.ensure(8)
    this.view.setFloat64(this.pos, value, true)
    this.pos += 8
  }

  /**
   * A length-prefixed string in UTF-8, lone surrogates as U+FFFD (what `TextEncoder` writes). The
   * length's bytes are reserved for the longest the string can encode to and, when that guess was
   * one byte too many for a long string, the text moves back.
   */
  string(value: string): void {
    const length = value.length
    this.ensure(3 * length + 5)
    const buffer = this.buffer
    if (length <= shortString) {
      // At most 126 bytes: the length is one byte.
      const start = this.pos
      let pos = start + 1
      for (let i = 0; i < length; i++) {
        const code = value.charCodeAt(i)
        if (code >= 0x80) {
          pos = start + 1 + buffer.write(value, start + 1)
          break
        }
        buffer[pos++] = code
      }
      buffer[start] = pos - start - 1
      this.pos = pos
      return
    }
    const reserve = varintSize(length)
    const start = this.pos
    const written = buffer.write(value, start + reserve)
    this.pos = start + reserve + written
    this.prefix(start, reserve, written)
  }

  /** A string known to be ASCII (JSON's punctuation and keys, digits), byte for byte, no length. */
  ascii(value: string): void {
    const length = value.length
    this.ensure(length)
    const buffer = this.buffer
    const pos = this.pos
    for (let i = 0; i < length; i++) buffer[pos + i] = value.charCodeAt(i)
    this.pos = pos + length
  }

  /**
   * Short text that JSON writes as it is (printable ASCII other than `"` and `\`), byte for byte,
   * and whether it was: nothing is written otherwise, and the caller escapes it (`JSON.stringify`,
   * whose native scan beats this loop on long text).
   */
  jsonChars(value: string): boolean {
    const length = value.length
    if (length > 64) return false
    this.ensure(length)
    const buffer = this.buffer
    const start = this.pos
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i)
      if (code < 0x20 || code === 0x22 || code === 0x5c || code >= 0x80) return false
      buffer[start + i] = code
    }
    this.pos = start + length
    return true
  }

  /**
   * Bytes as they are, no length: a loop for a few, `set` (a native copy, dearer to call) for more.
   */
  raw(bytes: Uint8Array): void {
    const length = bytes.length
    this.ensure(length)
    const buffer = this.buffer
    const pos = this.pos
    if (length > 16) buffer.set(bytes, pos)
    else for (let i = 0; i < length; i++) buffer[pos + i] = bytes[i]!
    this.pos = pos + length
  }

  /**
   * A whole number in 0..2^31-1 in decimal ASCII, zero-padded to `width` digits. In int32 on
   * purpose: `%` on a double is a call into C, nine of them a time.
   */
  digits(value: number, width = 1): void {
    let rest = value | 0
    let length = rest < 10 ? 1 : rest < 100 ? 2 : rest < 1e3 ? 3 : rest < 1e4 ? 4 : rest < 1e5 ?
      5 :
      rest < 1e6
      ? 6
      : rest < 1e7
      ? 7
      : rest < 1e8
      ? 8
      : rest < 1e9
      ? 9
      : 10
    if (length < width) length = width
    this.ensure(length)
    const buffer = this.buffer
    const start = this.pos
    for (let i = start + length - 1; i >= start; i--) {
      buffer[i] = 0x30 + (rest % 10)
      rest = (rest / 10) | 0
    }
    this.pos = start + length
  }

  /** Any string in UTF-8, no length; lone surrogates as U+FFFD. */
  utf8(value: string): void {
    this.ensure(3 * value.length)
    this.pos += this.buffer.write(value, this.pos)
  }

  /** Length-prefixed raw bytes. */
  bytes(value: Uint8Array): void {
    this.varint(value.length)
    this.ensure(value.length)
    this.buffer.set(value, this.pos)
    this.pos += value.length
  }

  /**
   * A length-prefixed id from its hex form, as otlp-transformer's `hexToBinary` makes it: half as
   * many bytes as characters (an odd last one dropped), each from two digits through {@link nibbles}.
   * Written in place, with no intermediate buffer.
   */
  hexBytes(hex: string, memo?: BytesMemo): void {
    if (memo !== undefined && memo.text === hex) {
      this.bytes(memo.bytes)
      return
    }
    const length = hex.length >>> 1
    this.ensure(length + 5)
    if (length < 0x80) this.buffer[this.pos++] = length
    else this.varint(length)
    const buffer = this.buffer
    let pos = this.pos
    for (let i = 0; i < 2 * length; i += 2) {
      const high = hex.charCodeAt(i)
      const low = hex.charCodeAt(i + 1)
      buffer[pos++] = ((high < 128 ? nibbles[high]! : high - 55) << 4) | (low < 128 ? nibbles[low]! : low - 55)
    }
    if (memo !== undefined) {
      memo.text = hex
      memo.bytes = new Uint8Array(buffer.subarray(this.pos, pos))
    }
    this.pos = pos
  }

  /** A 32-bit number's four bytes, most significant first: an id's bytes kept as words. */
  word(value: number): void {
    this.ensure(4)
    this.view.setUint32(this.pos, value, false)
    this.pos += 4
  }

  /** Starts a length-delimited field's contents, `reserve` bytes on from here; pass the result to {@link end}. */
  begin(reserve: number): number {
    this.ensure(reserve)
    const start = this.pos
    this.pos += reserve
    return start
  }

  /** Ends the field {@link begin} started at `start` with the same `reserve`: writes its length in front. */
  end(start: number, reserve: number): void {
    this.prefix(start, reserve, this.pos - start - reserve)
  }

  /** Writes `length` as a varint at `start`, where `reserve` bytes were kept, moving the contents if it takes more or fewer. */
  private prefix(start: number, reserve: number, length: number): void {
    const size = varintSize(length)
    if (size !== reserve) {
      if (size > reserve) this.ensure(size - reserve)
      this.buffer.copyWithin(start + size, start + reserve, this.pos)
      this.pos += size - reserve
    }
    const buffer = this.buffer
    let pos = start
    let v = length
    while (v > 0x7f) {
      buffer[pos++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    buffer[pos] = v
  }
}
