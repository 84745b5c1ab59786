/**
 * What both OTLP span encodings (`otlpTraces.ts` for protobuf, `otlpTracesJson.ts` for JSON)
 * take from a span the same way: the grouping by resource and scope, the kind, the `flags`, and
 * the library's own record's times, each as `@opentelemetry/otlp-transformer` 0.223 has them.
 */
import type * as Otel from "@opentelemetry/api"
import type { InstrumentationScope } from "@opentelemetry/core"
import type { Resource } from "@opentelemetry/resources"
import type { ReadableSpan } from "@opentelemetry/sdk-trace"

/** A scope as otlp-transformer reads it: the SDK's type has no attributes, but scopes may carry them. */
export interface Scope extends InstrumentationScope {
  readonly attributes?: Otel.Attributes
  readonly droppedAttributesCount?: number
}

export interface ScopeGroup {
  /** The first span's scope: what the group is written with. */
  readonly scope: Scope
  readonly spans: ReadonlyArray<ReadableSpan>
}

export interface ResourceGroup {
  readonly resource: Resource
  readonly scopes: ReadonlyArray<ScopeGroup>
}

/** otlp-transformer's JSON key for a scope (`createResourceMap` in its `trace/internal.js`). */
const scopeKey = (scope: Scope): string => `${scope.name}@${scope.version || ""}:${scope.schemaUrl || ""}`

/**
 * The spans by resource object, then by scope, each in order of first appearance, as
 * otlp-transformer groups them. Its two serializers group scopes differently, and each is
 * followed: protobuf by the scope object, JSON (`byKey`) by {@link scopeKey}, so two equal scope
 * objects make two groups in one and one in the other. A batch from one tracer, the usual case,
 * is one group and is not copied.
 */
export const groups = (spans: ReadonlyArray<ReadableSpan>, byKey: boolean): ReadonlyArray<ResourceGroup> => {
  if (spans.length === 0) return []
  const resource = spans[0]!.resource
  const scope = spans[0]!.instrumentationScope
  let i = 1
  while (i < spans.length && spans[i]!.resource === resource && spans[i]!.instrumentationScope === scope) i++
  if (i === spans.length) return [{ resource, scopes: [{ scope, spans }] }]
  const byResource = new Map<Resource, Map<unknown, { readonly scope: Scope; readonly spans: Array<ReadableSpan> }>>()
  for (const span of spans) {
    let scopes = byResource.get(span.resource)
    if (scopes === undefined) {
      scopes = new Map()
      byResource.set(span.resource, scopes)
    }
    const spanScope = span.instrumentationScope
    const key = byKey ? scopeKey(spanScope) : spanScope
    const group = scopes.get(key)
    if (group === undefined) scopes.set(key, { scope: spanScope, spans: [span] })
    else group.spans.push(span)
  }
  return Array.from(byResource, ([resource, scopes]) => ({ resource, scopes: Array.from(scopes.values()) }))
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
