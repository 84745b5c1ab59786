/**
 * What captured content costs to put on a span: `boundedJson` (`src/internal/content.ts`), which
 * serializes plain values as they are once a walk has found them plain, ÷ `boundedSafeJson`, which
 * serializes the JSON-safe copy it makes of any value, in interleaved rounds in one process, for a
 * one-turn chat's input and output messages and for a longer conversation with tool calls. For
 * plain data both write the same text (`test/Attributes.test.ts`).
 *
 *   node --experimental-transform-types bench/content.ts [--quick] [--out=file.json]
 */
import type * as GenAI from "../src/GenAI.ts"
import { boundedJson, boundedSafeJson } from "../src/internal/content.ts"
import { args, ns, ratio, shuffle, summarize, type Summary, table, writeResult } from "./stats.ts"

const argv = args()
const quick = argv.has("quick")
const rounds = argv.number("rounds", quick ? 5 : 15)
const calls = argv.number("calls", quick ? 5_000 : 20_000)
const seed = argv.number("seed", Date.now() % 100_000)
/** The library's default `maxContentLength` (`BELUGA_GENAI_CONTENT_MAX_LENGTH`). */
const limit = 16_384

const input: ReadonlyArray<GenAI.InputMessage> = [
  { role: "user", parts: [{ type: "text", content: "How long is the train from Lisbon to Porto?" }] }
]
const output: ReadonlyArray<GenAI.OutputMessage> = [
  { role: "assistant", parts: [{ type: "text", content: "About three hours." }], finish_reason: "stop" }
]
const conversation: ReadonlyArray<GenAI.InputMessage> = [
  { role: "system", parts: [{ type: "text", content: "You are a travel agent. Answer briefly. ".repeat(10) }] },
  ...Array.from({ length: 8 }, (_, turn): GenAI.InputMessage =>
    turn % 2 === 0
      ? { role: "user", parts: [{ type: "text", content: `Question ${turn}: how long is the train to Porto?` }] }
      : {
        role: "assistant",
        parts: [
          { type: "text", content: "Let me look that up." },
          {
            type: "tool_call",
            id: `call_${turn}`,
            name: "search_trains",
            arguments: { from: "Lisbon", to: "Porto", date: "2026-12-03", passengers: 2 }
          }
        ]
      })
]
const values = { "one-turn input": input, "one-turn output": output, "9-message conversation": conversation }

export interface ContentResult {
  readonly rows: Readonly<Record<string, Summary>>
  readonly ratios: Readonly<Record<string, Summary>>
}

const serializers = { plain: boundedJson, copied: boundedSafeJson }
const timed = (serialize: (value: unknown, limit: number) => string, value: unknown): number => {
  const start = process.hrtime.bigint()
  for (let i = 0; i < calls; i++) serialize(value, limit)
  return Number(process.hrtime.bigint() - start) / calls
}

const rows = Object.entries(values).flatMap(([name, value]) =>
  Object.entries(serializers).map(([how, serialize]) => ({ id: `${name}, ${how}`, run: () => timed(serialize, value) }))
)
for (const row of rows) row.run() // warm-up
console.log(`content: ${rows.length} rows × ${rounds} rounds, ${calls} values a sample (seed ${seed})`)
const times = new Map(rows.map((row) => [row.id, [] as Array<number>]))
for (let round = 0; round < rounds; round++) {
  for (const row of shuffle(rows, seed + round)) times.get(row.id)!.push(row.run())
}
const result: ContentResult = {
  rows: Object.fromEntries([...times].map(([id, samples]) => [id, summarize(samples)])),
  ratios: Object.fromEntries(
    Object.keys(values).map((name) => {
      const plain = times.get(`${name}, plain`)!
      const copied = times.get(`${name}, copied`)!
      return [name, summarize(plain.map((t, i) => t / copied[i]!))]
    })
  )
}
console.log()
console.log(table(
  ["captured content, as a span attribute", "boundedJson", "through the JSON-safe copy", "÷ (rounds min–max)"],
  Object.keys(values).map((name) => {
    const r = result.ratios[name]!
    return [
      name,
      ns(result.rows[`${name}, plain`]!.median),
      ns(result.rows[`${name}, copied`]!.median),
      `${ratio(r.median)} (${ratio(r.min)}–${ratio(r.max)})`
    ]
  })
))
writeResult(argv.string("out", "") || undefined, result)
