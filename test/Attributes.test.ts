/**
 * Bad attribute values and captured content never crash a pipeline and always encode: each value
 * becomes a valid OTel attribute (or is dropped), and content becomes bounded, valid JSON.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fc from "fast-check"
import { Pipeline, Testing } from "../src/index.ts"
import { boundedJson, boundedSafeJson } from "../src/internal/content.ts"

describe("attribute values", () => {
  it.effect("are sanitized or dropped per the OTel rules, never thrown", () =>
    Effect.gen(function*() {
      const cyclic: Record<string, unknown> = { a: 1 }
      cyclic.self = cyclic
      yield* Pipeline.annotate({
        undef: undefined,
        nul: null,
        nan: NaN,
        inf: Infinity,
        negInf: -Infinity,
        fn: () => 1,
        sym: Symbol("s"),
        big: 12n,
        hugeBig: 2n ** 80n,
        nested: { model: { name: "gpt-4o", params: [1, 2] } },
        mixed: [1, "two", true],
        homogeneous: [1, 2, 3],
        withNull: ["a", null, "b"],
        cyclic,
        lone: "bad \ud800 surrogate",
        fine: "ok"
      }).pipe(Pipeline.step("sanitize"))
      const attributes = Testing.spanNamed(yield* Testing.finishedSpans, "sanitize").attributes
      for (const key of ["undef", "nul", "fn", "sym"]) assert.notProperty(attributes, key)
      assert.strictEqual(attributes.nan, "NaN")
      assert.strictEqual(attributes.inf, "Infinity")
      assert.strictEqual(attributes.negInf, "-Infinity")
      assert.strictEqual(attributes.big, 12)
      assert.strictEqual(attributes.hugeBig, (2n ** 80n).toString())
      assert.deepStrictEqual(JSON.parse(String(attributes.nested)), { model: { name: "gpt-4o", params: [1, 2] } })
      assert.deepStrictEqual(JSON.parse(String(attributes.mixed)), [1, "two", true])
      assert.deepStrictEqual(attributes.homogeneous, [1, 2, 3])
      assert.deepStrictEqual(attributes.withNull, ["a", null, "b"])
      assert.deepStrictEqual(JSON.parse(String(attributes.cyclic)), { a: 1, self: "[Circular]" })
      assert.strictEqual(attributes.lone, "bad \ufffd surrogate")
      assert.strictEqual(attributes.fine, "ok")
    }).pipe(Effect.provide(Testing.layer())))
})

describe("boundedJson", () => {
  it("returns the plain JSON when it fits", () => {
    assert.strictEqual(boundedJson({ a: [1, "x"] }, 100), "{\"a\":[1,\"x\"]}")
  })

  it("shortens the longest strings first, keeping their beginnings, and stays valid JSON", () => {
    const value = [{ role: "user", parts: [{ type: "text", content: "a".repeat(10_000) }] }, {
      role: "assistant",
      parts: []
    }]
    const json = boundedJson(value, 500)
    assert.isAtMost(json.length, 500)
    const parsed = JSON.parse(json)
    assert.strictEqual(parsed.length, 2)
    assert.strictEqual(parsed[0].role, "user")
    assert.match(parsed[0].parts[0].content, /^a+…\[\d+ chars truncated\]$/)
  })

  it("drops the tail of long arrays when strings alone cannot make it fit", () => {
    const value = Array.from({ length: 1000 }, (_, i) => ({ id: `doc-${i}`, score: i / 1000 }))
    const json = boundedJson(value, 400)
    assert.isAtMost(json.length, 400)
    const parsed = JSON.parse(json) as Array<{ id: string }>
    assert.isAbove(parsed.length, 0)
    assert.isBelow(parsed.length, 1000)
    assert.strictEqual(parsed[0]!.id.slice(0, 4), "doc-")
  })

  it("handles 10 MB strings, cycles, BigInt, functions and lone surrogates", () => {
    const cyclic: Record<string, unknown> = { text: "x".repeat(10 * 1024 * 1024), n: 1n, f: () => 0, s: "\udc00" }
    cyclic.me = cyclic
    const json = boundedJson(cyclic, 1000)
    assert.isAtMost(json.length, 1000)
    const parsed = JSON.parse(json)
    assert.strictEqual(parsed.n, "1")
    assert.strictEqual(parsed.s, "\ufffd")
    assert.strictEqual(parsed.me, "[Circular]")
    assert.notProperty(parsed, "f")
  })

  it("never splits a surrogate pair", () => {
    const json = boundedJson("😀".repeat(100), 60)
    assert.isTrue(JSON.parse(json).isWellFormed())
  })

  it("falls back to an empty value of the same type when nothing fits", () => {
    assert.strictEqual(boundedJson([{ a: 1 }], 2), "[]")
    assert.strictEqual(boundedJson({ a: { b: 1 } }, 2), "{}")
  })

  // Plain content is serialized as it is, without the JSON-safe copy: the text must be the copy's.
  const deep = (levels: number): unknown => levels === 0 ? "bottom" : { next: deep(levels - 1) }
  const awkward: ReadonlyArray<readonly [string, unknown]> = [
    ["a lone surrogate", { text: "cut \ud83d" }],
    ["a lone surrogate in a key", { ["k\udc00"]: 1 }],
    ["non-finite numbers", [Number.NaN, Infinity, -Infinity, -0]],
    ["nothing at the top", undefined],
    ["a function at the top", () => 1],
    ["undefined, functions and symbols inside", {
      a: undefined,
      f: () => 1,
      s: Symbol("s"),
      list: [undefined, () => 1]
    }],
    ["an own toJSON", { toJSON: () => "replaced", kept: 1 }],
    ["a toJSON that is not enumerable", Object.defineProperty({ secret: "s" }, "toJSON", { value: () => "hidden" })],
    ["a toJSON on an array", Object.assign([1, 2], { toJSON: () => [Number.NaN] })],
    ["an object with the array prototype", Object.assign(Object.create(Array.prototype), { x: Number.NaN })],
    ["an array with a null prototype", Object.setPrototypeOf([Number.NaN], null)],
    ["an own __proto__ key", JSON.parse("{\"__proto__\":{\"x\":1},\"y\":2}")],
    ["a null-prototype object", Object.assign(Object.create(null), { a: 1 })],
    ["a sparse array", Object.assign([1], { 2: 3 })],
    ["a date, a map, a set, an error", [new Date(0), new Map([["a", 1]]), new Set([1]), new Error("boom")]],
    ["bytes", { data: new Uint8Array([1, 2, 3]) }],
    [
      "a class instance",
      new (class Point {
        x = 1
      })()
    ],
    ["more entries than the limit", { list: Array.from({ length: 50 }, (_, i) => i) }],
    ["plain content longer than the limit", { text: "x".repeat(100), list: ["y".repeat(30), "z"] }],
    // The copy keeps an object's first entries, counting those it then drops for being undefined.
    ["more keys than the limit, the first ones undefined", {
      ...Object.fromEntries(Array.from({ length: 45 }, (_, i) => [`k${i}`, undefined])),
      last: 1
    }],
    ["nesting past the copy's depth", deep(70)],
    [
      "a getter that throws",
      Object.defineProperty({}, "bad", {
        enumerable: true,
        get: () => {
          throw new Error("no")
        }
      })
    ]
  ]
  for (const [name, value] of awkward) {
    it(`writes what the JSON-safe copy writes: ${name}`, () => {
      for (const limit of [40, 10_000]) assert.strictEqual(boundedJson(value, limit), boundedSafeJson(value, limit))
    })
  }

  it("calls a toJSON added to Object.prototype as the copy does, for a null-prototype object too", () => {
    const prototype = Object.prototype as { toJSON?: unknown }
    Object.defineProperty(prototype, "toJSON", { value: () => "everywhere", configurable: true, writable: true })
    try {
      const value = Object.assign(Object.create(null), { a: 1 })
      assert.strictEqual(boundedJson(value, 100), boundedSafeJson(value, 100))
    } finally {
      delete prototype.toJSON
    }
  })

  it("never throws for a getter that answers differently when read again", () => {
    let reads = 0
    const flaky = Object.defineProperty({}, "v", { enumerable: true, get: () => (++reads === 1 ? 1 : 2n) })
    assert.strictEqual(boundedJson(flaky, 100), "{\"v\":\"2\"}")
  })

  it("writes what the JSON-safe copy writes, for any value", () =>
    fc.assert(
      fc.property(
        fc.anything({
          key: fc.oneof(fc.string(), fc.constantFrom("toJSON", "__proto__", "k\ud800")),
          values: [
            fc.string(),
            fc.string({ unit: "binary" }),
            fc.double(),
            fc.integer(),
            fc.boolean(),
            fc.constant(null)
          ],
          withBigInt: true,
          withBoxedValues: true,
          withDate: true,
          withMap: true,
          withNullPrototype: true,
          withObjectString: true,
          withSet: true,
          withSparseArray: true,
          withTypedArray: true,
          withUnicodeString: true
        }),
        fc.constantFrom(20, 200, 100_000),
        (value, limit) => assert.strictEqual(boundedJson(value, limit), boundedSafeJson(value, limit))
      ),
      { numRuns: 2000 }
    ))
})
