/**
 * The conversations the content events' deltas follow (`gen_ai.input.messages_delta`): only an input
 * that extends the previous one gets a delta, and what is kept stays bounded.
 */
import { assert, describe, it } from "@effect/vitest"
import { MessageHistories } from "../src/internal/messagesDelta.ts"

const message = (content: string) => ({ role: "user", parts: [{ type: "text", content }] })

describe("MessageHistories", () => {
  it("a delta only for an input that extends the conversation's previous one", () => {
    const histories = new MessageHistories()
    const [a, b, c] = [message("a"), message("b"), message("c")]
    assert.isUndefined(histories.delta("conv", [a]), "the first call carries all")
    assert.deepStrictEqual(histories.delta("conv", [a, b]), [b])
    // Equal content, new objects: compared by what they hold, not by identity.
    assert.deepStrictEqual(histories.delta("conv", [message("a"), message("b"), c]), [c])
    assert.isUndefined(histories.delta("conv", [a, c]), "shorter than the previous input")
    assert.isUndefined(histories.delta("conv", [message("A"), c, b]), "a message changed")
    assert.deepStrictEqual(histories.delta("conv", [message("A"), c, b, a]), [a], "counted again from the rewrite")
  })

  it("a message with no JSON (a cycle) ends the conversation's deltas until its next call", () => {
    const histories = new MessageHistories()
    const cyclic: Record<string, unknown> = { role: "user" }
    cyclic["self"] = cyclic
    histories.delta("conv", [message("a")])
    assert.isUndefined(histories.delta("conv", [message("a"), cyclic]))
    assert.isUndefined(histories.delta("conv", [message("a"), message("b")]))
    assert.deepStrictEqual(histories.delta("conv", [message("a"), message("b"), message("c")]), [message("c")])
  })

  it("keeps at most its capacity of conversations, the least recently used let go", () => {
    const histories = new MessageHistories(2)
    histories.delta("one", [message("1")])
    histories.delta("two", [message("2")])
    histories.delta("one", [message("1"), message("1b")])
    histories.delta("three", [message("3")])
    assert.strictEqual(histories.size, 2)
    assert.isUndefined(histories.delta("two", [message("2"), message("2b")]), "two was let go")
    assert.deepStrictEqual(histories.delta("three", [message("3"), message("3b")]), [message("3b")])
  })
})
