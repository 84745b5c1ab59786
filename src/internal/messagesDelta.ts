/**
 * `gen_ai.input.messages_delta`, for the content events of multi-turn conversations: an agent loop
 * or a chat sends the whole history on every call, so each call's details event would repeat it.
 * With the delta on, a call in a conversation (`gen_ai.conversation.id`) whose input extends the
 * previous call's input carries only the messages appended since, as `gen_ai.input.messages_delta`
 * instead of `gen_ai.input.messages`; the history is the first call's `gen_ai.input.messages`
 * followed by each later call's delta, in order. A call whose input does not extend the previous one
 * (the first call, a history that was cut, summarized or rewritten) carries the whole input, as
 * without the delta, and starts the count again — so no message is ever left out of every event.
 *
 * The name is a draft of semantic-conventions-genai (pull request 365, not merged), hence opt-in.
 * What is kept per conversation is one 53-bit hash per message of its last input, never the
 * content; at most {@link maxConversations} conversations, the least recently used let go.
 */

/** Conversations followed at once; one let go only loses its next call's delta (that call carries all). */
const maxConversations = 4096

export class MessageHistories {
  /** Per conversation, the hash of each message of its last call's input; in use order, oldest first. */
  private readonly conversations = new Map<string, ReadonlyArray<number>>()

  constructor(private readonly capacity = maxConversations) {}

  /**
   * The messages of `input` appended since `conversation`'s previous call, or `undefined` when
   * `input` does not extend it: then the call records its whole input.
   */
  delta(conversation: string, input: ReadonlyArray<unknown>): ReadonlyArray<unknown> | undefined {
    const hashes = hashMessages(input)
    const previous = this.conversations.get(conversation)
    this.conversations.delete(conversation)
    if (hashes === undefined) return undefined
    if (this.conversations.size >= this.capacity) {
      this.conversations.delete(this.conversations.keys().next().value!)
    }
    this.conversations.set(conversation, hashes)
    if (previous === undefined || previous.length > hashes.length) return undefined
    for (let i = 0; i < previous.length; i++) if (previous[i] !== hashes[i]) return undefined
    return input.slice(previous.length)
  }

  /** Conversations followed now. */
  get size(): number {
    return this.conversations.size
  }
}

// internal

/** Each message's hash, from its JSON; `undefined` when one has no JSON (a cycle, a bigint). */
const hashMessages = (input: ReadonlyArray<unknown>): Array<number> | undefined => {
  const hashes: Array<number> = []
  for (const message of input) {
    let text: string | undefined
    try {
      text = JSON.stringify(message)
    } catch {
      return undefined
    }
    hashes.push(hash(text ?? "undefined"))
  }
  return hashes
}

/** cyrb53: a fast 53-bit string hash; two histories that differ collide about once in 2^53. */
const hash = (text: string): number => {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ code, 2654435761)
    h2 = Math.imul(h2 ^ code, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return 4294967296 * (2097151 & h2) + (h1 >>> 0)
}
