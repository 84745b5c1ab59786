/**
 * The OTLP span encoder (`src/internal/otlpTraces.ts`) against the one it replaces,
 * `@opentelemetry/otlp-transformer`'s `ProtobufTraceSerializer` / `JsonTraceSerializer`, per span.
 *
 * Batches of `--batch` spans (512) in three shapes: the micro bench's step (5 attributes, one
 * parent: `attributes` in `rows.ts`), a GenAI chat (the 10 `chatAttributes` and one retry event),
 * both as the library records them (`RecordedSpan`, nanosecond times), and the step as another
 * tracer's plain `ReadableSpan` (`HrTime` times). The resource is the library's own. Each row
 * encodes its batch `--samples` times; rows are interleaved in a shuffled order each round and the
 * ratio ours ÷ reference is taken within a round. Before measuring, each pair is checked to write
 * the same bytes, so both sides do the same work. Ours is `encodeSpans`, which is the span
 * batcher's path: each span added to a batch (serialized then), the batch sealed (framed, copied out).
 *
 *   node --experimental-transform-types bench/serializer.ts [--quick] [--rounds=15] [--batch=512] [--samples=20] [--out=file.json]
 */
import * as Otel from "@opentelemetry/api"
import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer"
import { AlwaysOnSampler, type ReadableSpan } from "@opentelemetry/sdk-trace"
import { encodeSpans } from "../src/internal/otlpTraces.ts"
import { make as makeResource } from "../src/internal/resource.ts"
import * as N from "../src/internal/semconv.ts"
import { type RecordedSpan, SpanSource } from "../src/internal/spanRecord.ts"
import { version } from "../src/internal/version.ts"
import { attributes, chatAttributes } from "./rows.ts"
import { args, ns, ratio, shuffle, summarize, type Summary, table, writeResult } from "./stats.ts"

const argv = args()
const quick = argv.has("quick")
const rounds = argv.number("rounds", quick ? 5 : 15)
const batchSize = argv.number("batch", 512)
const samples = argv.number("samples", quick ? 8 : 20)
const seed = argv.number("seed", Date.now() % 100_000)

const source = new SpanSource(
  makeResource({ serviceName: "bench", serviceVersion: undefined, resourceAttributes: {} }),
  { name: N.LIBRARY_NAME, version },
  new AlwaysOnSampler(),
  false,
  []
)
const parent: Otel.SpanContext = {
  traceId: "0af7651916cd43dd8448eb211c80319c",
  spanId: "b7ad6b7169203331",
  traceFlags: Otel.TraceFlags.SAMPLED
}
const epoch = BigInt(Date.now()) * 1_000_000n

const recorded = (name: string, kind: Otel.SpanKind, spanAttributes: Otel.Attributes, event: boolean) =>
  Array.from({ length: batchSize }, (_, i): ReadableSpan => {
    const start = epoch + BigInt(i) * 1_000_000n
    const span = source.start(name, kind, start, spanAttributes, undefined, Otel.ROOT_CONTEXT, parent) as RecordedSpan
    if (event) {
      span.eventAt(N.EVENT_BELUGA_PROVIDER_RETRY, {
        [N.ATTR_BELUGA_RETRY_DELAY_MS]: 500,
        [N.ATTR_HTTP_REQUEST_RESEND_COUNT]: 1,
        [N.ATTR_HTTP_RESPONSE_STATUS_CODE]: 429
      }, start + 100_000n)
    }
    span.endAt(start + 734_512n)
    return span
  })

/** The same spans as another tracer's: plain objects, times as `HrTime`. */
const plain = (spans: ReadonlyArray<ReadableSpan>) =>
  spans.map((span): ReadableSpan => {
    const context = span.spanContext()
    return {
      name: span.name,
      kind: span.kind,
      spanContext: () => context,
      parentSpanContext: span.parentSpanContext!,
      startTime: [...span.startTime],
      endTime: [...span.endTime],
      duration: span.duration,
      ended: true,
      status: span.status,
      attributes: { ...span.attributes },
      links: [],
      events: [],
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
      resource: span.resource,
      instrumentationScope: span.instrumentationScope
    }
  })

const step = recorded("step", Otel.SpanKind.INTERNAL, attributes, false)
const shapes: ReadonlyArray<{ readonly name: string; readonly spans: ReadonlyArray<ReadableSpan> }> = [
  { name: "step (5 attributes)", spans: step },
  {
    name: "GenAI chat (10 attributes, 1 event)",
    spans: recorded("chat gpt-4o", Otel.SpanKind.CLIENT, chatAttributes as unknown as Otel.Attributes, true)
  },
  { name: "step, another tracer's span", spans: plain(step) }
]
const protocols = ["http/protobuf", "http/json"] as const
/** otlp-transformer's serializers return `undefined` only for a payload they cannot take. */
const references = {
  "http/protobuf": (spans: ReadonlyArray<ReadableSpan>) =>
    ProtobufTraceSerializer.serializeRequest(spans as Array<ReadableSpan>)!,
  "http/json": (spans: ReadonlyArray<ReadableSpan>) =>
    JsonTraceSerializer.serializeRequest(spans as Array<ReadableSpan>)!
}

interface Pair {
  readonly shape: string
  readonly protocol: (typeof protocols)[number]
  readonly ours: () => Uint8Array
  readonly reference: () => Uint8Array
}
const pairs: ReadonlyArray<Pair> = shapes.flatMap(({ name, spans }) =>
  protocols.map((protocol) => ({
    shape: name,
    protocol,
    ours: () => encodeSpans(spans, protocol),
    reference: () => references[protocol](spans)
  }))
)

/** Nanoseconds per span of `encode`, over `samples` batches. */
const perSpan = (encode: () => Uint8Array): number => {
  const start = process.hrtime.bigint()
  let bytes = 0
  for (let i = 0; i < samples; i++) bytes += encode().length
  const elapsed = Number(process.hrtime.bigint() - start)
  // Read the sizes, so no encode can be left out.
  if (bytes === 0) throw new Error("nothing was encoded")
  return elapsed / samples / batchSize
}

export interface SerializerResult {
  readonly batch: number
  readonly rows: Record<
    string,
    { readonly ours: Summary; readonly reference: Summary; readonly ratio: Summary; readonly bytesPerSpan: number }
  >
}

const target = (key: string) => (key.endsWith("http/json") ? "≤ 0.50×" : "≤ 0.35×")

const main = () => {
  for (const pair of pairs) {
    if (!Buffer.from(pair.ours()).equals(Buffer.from(pair.reference()))) {
      throw new Error(`${pair.shape}, ${pair.protocol}: ours and the reference wrote different bytes`)
    }
    for (let i = 0; i < 5; i++) {
      perSpan(pair.ours)
      perSpan(pair.reference)
    }
  }
  console.log(
    `serializer: ${pairs.length} pairs × ${rounds} rounds, ${samples} batches of ${batchSize} spans a sample (seed ${seed})`
  )
  const times = new Map(pairs.map((pair) => [pair, { ours: [] as Array<number>, reference: [] as Array<number> }]))
  for (let round = 0; round < rounds; round++) {
    const order = shuffle(
      pairs.flatMap((pair) => [{ pair, side: "ours" as const }, { pair, side: "reference" as const }]),
      seed + round
    )
    for (const { pair, side } of order) times.get(pair)![side].push(perSpan(pair[side]))
  }
  const result: SerializerResult = {
    batch: batchSize,
    rows: Object.fromEntries([...times].map(([pair, { ours, reference }]) => [`${pair.shape}, ${pair.protocol}`, {
      ours: summarize(ours),
      reference: summarize(reference),
      ratio: summarize(ours.map((t, i) => t / reference[i]!)),
      bytesPerSpan: pair.ours().length / batchSize
    }]))
  }
  console.log()
  console.log(table(
    ["batch (per span)", "bytes", "reference", "ours", "ours ÷ reference (rounds min–max)", "target"],
    Object.entries(result.rows).map(([key, row]) => [
      key,
      row.bytesPerSpan.toFixed(0),
      ns(row.reference.median),
      ns(row.ours.median),
      `${ratio(row.ratio.median)} (${ratio(row.ratio.min)}–${ratio(row.ratio.max)})`,
      target(key)
    ])
  ))
  writeResult(argv.string("out", "") || undefined, result)
}

main()
