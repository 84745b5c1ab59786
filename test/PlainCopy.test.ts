/**
 * The copy a GenAI call run again keeps of its request (`plainCopy.ts`): equal to the data it was
 * taken from, unequal once anything in it is changed in place, and never equal for data it cannot follow.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { copyPlain, notPlain, samePlain } from "../src/internal/plainCopy.ts"

const plain: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 4, arbitrary: fc.oneof(fc.string({ maxLength: 8 }), fc.double(), fc.boolean(), fc.constant(null)) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.array(tie("value"), { maxLength: 4 }) },
    { weight: 2, arbitrary: fc.dictionary(fc.constantFrom("role", "parts", "type", "content", "x"), tie("value")) }
  )
})).value

/** Every array and object inside `value`, with itself. */
const containers = (value: unknown, out: Array<object> = []): Array<object> => {
  if (typeof value === "object" && value !== null) {
    out.push(value)
    for (const item of Object.values(value)) containers(item, out)
  }
  return out
}

describe("a request's plain copy", () => {
  it("equals what it was copied from, which it does not share", () => {
    fc.assert(
      fc.property(plain, (value) => {
        const copy = copyPlain(value)
        expect(samePlain(copy, value)).toBe(true)
        expect(samePlain(copy, structuredClone(value))).toBe(true)
        const inCopy = new Set(containers(copy))
        for (const container of containers(value)) expect(inCopy.has(container)).toBe(false)
      }),
      { numRuns: 500 }
    )
  })

  it("tells a change in place anywhere inside: a value set, a key added or removed, an item pushed", () => {
    const change = fc.constantFrom("set", "add", "remove", "push")
    fc.assert(
      fc.property(plain, fc.nat(), change, (value, pick, how) => {
        const inside = containers(value)
        fc.pre(inside.length > 0)
        const copy = copyPlain(value)
        const target = inside[pick % inside.length] as Record<string, unknown>
        const keys = Object.keys(target)
        if (Array.isArray(target)) {
          if (how === "push" || keys.length === 0) target.push("pushed")
          else target[Number(keys[pick % keys.length])] = { changed: true }
        } else if (how === "remove" && keys.length > 0) delete target[keys[pick % keys.length]!]
        else if (how === "set" && keys.length > 0) target[keys[pick % keys.length]!] = ["changed"]
        else target["a key no draw makes"] = 1
        expect(samePlain(copy, value)).toBe(false)
      }),
      { numRuns: 500 }
    )
  })

  it("follows plain data only: a class instance, a Date, a Map or a cycle never reads as unchanged", () => {
    class Message {
      constructor(readonly text: string) {}
    }
    const cycle: Record<string, unknown> = {}
    cycle["self"] = cycle
    for (const value of [new Date(0), new Map(), new Message("hi"), [{ at: new Date(0) }], cycle]) {
      expect(samePlain(copyPlain(value), value)).toBe(false)
    }
    expect(copyPlain([{ call: () => 1 }])).toBe(notPlain)
    expect(samePlain(copyPlain({ a: [1] }), { a: { 0: 1 } })).toBe(false)
    expect(samePlain(copyPlain({ at: {} }), { at: new Date(0) })).toBe(false)
    expect(samePlain(copyPlain(Number.NaN), Number.NaN)).toBe(true)
  })
})
