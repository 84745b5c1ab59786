/**
 * What both OTLP span encodings (`otlpTraces.ts` for protobuf, `otlpTracesJson.ts` for JSON)
 * share: the batch that serializes each span as it is added and groups the spans by resource and
 * scope, the kind, the `flags`, and the library's own record's times, each as
 * `@opentelemetry/otlp-transformer` 0.223 has them.
 */
import type * as Otel from "@opentelemetry/api"
import type { InstrumentationScope } from "@opentelemetry/core"
import type { Resource } from "@opentelemetry/resources"
import type { ReadableSpan } from "@opentelemetry/sdk-trace"
import { ProtobufWriter } from "./protobufWriter.ts"
import type { BatchEncoder } from "./spanBatcher.ts"

/** A scope as otlp-transformer reads it: the SDK's type has no attributes, but scopes may carry them. */
export interface Scope extends InstrumentationScope {
  readonly attributes?: Otel.Attributes
  readonly droppedAttributesCount?: number
}

/** The spans of one resource and scope in the open batch, by where they were written. */
export interface ScopeGroup {
  /** The first span's scope: what the group is written with. */
  readonly scope: Scope
  /**
   * The group's spans' bytes in the batch's buffer, in order: `[start, end)` ranges, flat (start,
   * end, start, end...), one range for the spans written in a row.
   */
  readonly runs: Array<number>
}

export interface ResourceGroup {
  readonly resource: Resource
  /** In order of first appearance. */
  readonly scopes: Array<ScopeGroup>
  /** The same groups, by what tells scopes apart (see {@link SpanBatch}). */
  readonly byScope: Map<unknown, ScopeGroup>
}

/** otlp-transformer's key for a scope (`createResourceMap` in its `trace/internal.js`). */
const scopeKey = (scope: Scope): string => `${scope.name}@${scope.version || ""}:${scope.schemaUrl || ""}`

/** What an encoding writes into a {@link SpanBatch}: each span as it is added, and what frames them at `seal`. */
export interface Encoding {
  /** Scopes told apart by {@link scopeKey} (JSON), or by object (protobuf). */
  readonly byKey: boolean
  /** Before a batch's first span. */
  readonly begin: () => void
  /** Writes `span` at the writer's end; `first` when it opens its group. */
  readonly writeSpan: (w: ProtobufWriter, span: ReadableSpan, first: boolean) => void
  /** Writes, after the spans, what frames the batch's groups, and lists the request's pieces. */
  readonly frame: (batch: SpanBatch) => void
}

/**
 * A batch that serializes each span as it is added: the span is written at once to the end of
 * one buffer and only its place is kept, so the span object is garbage as soon as `add` returns
 * (why that matters: `spanBatcher.ts`). At `seal` the encoding writes, after the spans, what
 * frames them — each resource and scope once per group — and the request is the pieces copied out
 * in the request's order. Resources and scopes are read at `seal`, when the reference would read
 * them: a resource whose asynchronous attributes settle meanwhile is written settled.
 *
 * The groups are otlp-transformer's: by resource object, then by scope, each in order of first
 * appearance. Its two serializers tell scopes apart differently, and each is followed: protobuf by
 * the scope object, JSON (`byKey`) by {@link scopeKey}, so two equal scope objects make two groups
 * in one and one in the other. A group's spans need not be written in a row; each keeps the ranges
 * its spans took.
 *
 * One class for both encodings, the encoding a field: `add` runs for every span, and sees one
 * shape of batch whichever encodings a process uses.
 */
export class SpanBatch implements BatchEncoder {
  readonly writer = new ProtobufWriter()
  /** The open batch's groups, in order of first appearance. */
  readonly resources: Array<ResourceGroup> = []
  /** The request's pieces for {@link ProtobufWriter.gather}, listed by the encoding's `frame`. */
  readonly pieces: Array<number> = []
  private readonly byResource = new Map<Resource, ResourceGroup>()
  /** The last span's group and the objects that chose it: the next span's group, usually. */
  private last: ScopeGroup | undefined = undefined
  private lastResource: Resource | undefined = undefined
  private lastScope: Scope | undefined = undefined
  private spans = 0

  constructor(private readonly encoding: Encoding) {}

  get count(): number {
    return this.spans
  }

  get bytes(): number {
    return this.writer.pos
  }

  add(span: ReadableSpan): void {
    const resource = span.resource
    const scope = span.instrumentationScope
    const sameAsLast = resource === this.lastResource && scope === this.lastScope
    let group = sameAsLast ? this.last : this.find(resource, scope)
    const w = this.writer
    const start = w.pos
    if (this.spans === 0) this.encoding.begin()
    // A span that throws half-way (a getter of someone else's span) is in no group's runs, so not
    // in the request, and opens no group. Its bytes stay until the seal: a try/catch to take them
    // back measured 5-10% of the protobuf step span's encoding.
    this.encoding.writeSpan(w, span, group === undefined)
    group ??= this.open(resource, scope)
    const runs = group.runs
    if (runs.length > 0 && runs[runs.length - 1] === start) runs[runs.length - 1] = w.pos
    else runs.push(start, w.pos)
    if (!sameAsLast) {
      this.last = group
      this.lastResource = resource
      this.lastScope = scope
    }
    this.spans++
  }

  seal(): Uint8Array {
    try {
      this.encoding.frame(this)
      return this.writer.gather(this.pieces)
    } finally {
      this.clear()
    }
  }

  /** Drops the open batch. */
  clear(): void {
    // Only a batch that wrote something tells the writer how much room batches take.
    if (this.writer.pos > 0) this.writer.reset()
    this.pieces.length = 0
    this.resources.length = 0
    this.byResource.clear()
    this.last = undefined
    this.lastResource = undefined
    this.lastScope = undefined
    this.spans = 0
  }

  /** Lists `[start, writer.pos)` as the request's next piece. */
  piece(start: number): void {
    this.pieces.push(start, this.writer.pos)
  }

  /** Lists a group's spans as the request's next pieces. */
  spansOf(group: ScopeGroup): void {
    const runs = group.runs
    for (let i = 0; i < runs.length; i++) this.pieces.push(runs[i]!)
  }

  private find(resource: Resource, scope: Scope): ScopeGroup | undefined {
    return this.byResource.get(resource)?.byScope.get(this.encoding.byKey ? scopeKey(scope) : scope)
  }

  private open(resource: Resource, scope: Scope): ScopeGroup {
    let group = this.byResource.get(resource)
    if (group === undefined) {
      group = { resource, scopes: [], byScope: new Map() }
      this.byResource.set(resource, group)
      this.resources.push(group)
    }
    const scopeGroup: ScopeGroup = { scope, runs: [] }
    group.scopes.push(scopeGroup)
    group.byScope.set(this.encoding.byKey ? scopeKey(scope) : scope, scopeGroup)
    return scopeGroup
  }
}

/** The bytes of a group's spans. */
export const runBytes = (group: ScopeGroup): number => {
  const runs = group.runs
  let bytes = 0
  for (let i = 0; i < runs.length; i += 2) bytes += runs[i + 1]! - runs[i]!
  return bytes
}

export const hasOwn = Object.prototype.hasOwnProperty

/**
 * Whether a `RecordedSpan`'s nanoseconds are written from the `bigint` as they are: otlp-transformer
 * reads its `HrTime`, which gives the same number for 0..2^64-1, and something else outside
 * (negative, or past 2554), where the encoders go through the `HrTime` too.
 */
export const fitsFixed64 = (nanos: bigint): boolean => nanos >= 0n && nanos <= maxFixed64
const maxFixed64 = (1n << 64n) - 1n

/** The span kind on the wire: the API's enum has no "unspecified", so OTLP's is one more. */
export const otlpKind = (kind: Otel.SpanKind | null | undefined): number => (kind == null ? 0 : kind + 1)

/**
 * OTLP's `flags`: the W3C trace flags in bits 0-7; bit 8, "is_remote is known", always set; bit 9,
 * the parent's (for a link, the linked context's) `isRemote`.
 */
export const otlpFlags = (traceFlags: number, remote: boolean | undefined): number =>
  (traceFlags & 0xff) | hasIsRemote | (remote ? isRemote : 0)
const hasIsRemote = 0x100
const isRemote = 0x200
