/**
 * A protobuf wire-format reader, only as much as the OTLP trace and metrics messages need, so the
 * shipped viewer decodes `application/x-protobuf` with no runtime dependency. Every length is
 * checked against its buffer: a truncated or hostile body throws {@link ProtobufError} with a
 * reason, which the receiver answers with 400.
 */

/** A body that is not valid protobuf for the message being read. */
export class ProtobufError extends Error {}

/** Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. */
export type WireType = 0 | 1 | 2 | 5

const utf8 = new TextDecoder("utf-8")

/**
 * Reads one message's fields in order. `field` is called with the field number and wire type,
 * positioned at the value; it must consume the value with one of the read methods or `skip`.
 */
export class Reader {
  pos: number
  private readonly view: DataView
  constructor(readonly buf: Uint8Array, start = 0, readonly end = buf.length) {
    this.pos = start
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  /** Calls `field` for every field of the message; `field` reads or skips the value. */
  fields(field: (number: number, wire: WireType) => void): void {
    while (this.pos < this.end) {
      const tag = this.uint32()
      const number = tag >>> 3
      const wire = tag & 7
      if (number === 0) throw new ProtobufError("field number 0")
      if (wire !== 0 && wire !== 1 && wire !== 2 && wire !== 5) {
        throw new ProtobufError(`unsupported wire type ${wire} (field ${number})`)
      }
      const before = this.pos
      field(number, wire)
      if (this.pos === before) this.skip(wire)
    }
    if (this.pos !== this.end) throw new ProtobufError("message runs past its length")
  }

  /** A varint as a bigint (64 bits). */
  varint64(): bigint {
    let result = 0n
    let shift = 0n
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError("truncated varint")
      const byte = this.buf[this.pos++]!
      result |= BigInt(byte & 0x7f) << shift
      if (byte < 0x80) return BigInt.asUintN(64, result)
      shift += 7n
    }
    throw new ProtobufError("varint longer than 10 bytes")
  }

  /** A varint's low 32 bits, as an unsigned number; the fast path for tags, lengths and enums. */
  uint32(): number {
    let result = 0
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) throw new ProtobufError("truncated varint")
      const byte = this.buf[this.pos++]!
      result |= (byte & 0x7f) << (7 * i)
      if (byte < 0x80) return result >>> 0
    }
    // The upper bytes of a 64-bit varint (negative int32 enums are sign-extended to 10 bytes).
    for (let i = 5; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError("truncated varint")
      if (this.buf[this.pos++]! < 0x80) return result >>> 0
    }
    throw new ProtobufError("varint longer than 10 bytes")
  }

  int32(): number {
    return this.uint32() | 0
  }

  int64(): bigint {
    return BigInt.asIntN(64, this.varint64())
  }

  bool(): boolean {
    return this.varint64() !== 0n
  }

  fixed64(): bigint {
    this.need(8)
    const value = this.view.getBigUint64(this.pos, true)
    this.pos += 8
    return value
  }

  fixed32(): number {
    this.need(4)
    const value = this.view.getUint32(this.pos, true)
    this.pos += 4
    return value
  }

  double(): number {
    this.need(8)
    const value = this.view.getFloat64(this.pos, true)
    this.pos += 8
    return value
  }

  /** A length-delimited value's bounds, consumed. */
  span(): { readonly start: number; readonly end: number } {
    const length = this.uint32()
    this.need(length)
    const start = this.pos
    this.pos += length
    return { start, end: this.pos }
  }

  /** A nested message, as a reader over its bytes. */
  message(): Reader {
    const { end, start } = this.span()
    return new Reader(this.buf, start, end)
  }

  bytes(): Uint8Array {
    const { end, start } = this.span()
    return this.buf.subarray(start, end)
  }

  string(): string {
    return utf8.decode(this.bytes())
  }

  /** A packed repeated fixed64 or double field, or one unpacked element. */
  packed64(wire: WireType, read: (reader: Reader) => void): void {
    if (wire === 1) return read(this)
    const { end, start } = this.span()
    if ((end - start) % 8 !== 0) throw new ProtobufError("packed 64-bit field length is not a multiple of 8")
    const inner = new Reader(this.buf, start, end)
    while (inner.pos < end) read(inner)
  }

  skip(wire: WireType): void {
    switch (wire) {
      case 0:
        this.varint64()
        return
      case 1:
        this.need(8)
        this.pos += 8
        return
      case 2:
        this.span()
        return
      case 5:
        this.need(4)
        this.pos += 4
        return
    }
  }

  /** Checks that a field has the wire type its message declares; returns the reader to read it. */
  expect(wire: WireType, expected: WireType, what: string): this {
    if (wire !== expected) throw new ProtobufError(`${what} has wire type ${wire}, expected ${expected}`)
    return this
  }

  private need(bytes: number): void {
    if (this.pos + bytes > this.end) throw new ProtobufError(`value runs past the end of its message (${bytes} bytes)`)
  }
}
