/**
 * The span batcher's encoder: serializes each batch with the library's own OTLP serializer.
 */
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import type { Protocol } from "./config.ts"
import { encodeSpans } from "./otlpTraces.ts"
import type { BatchEncoder } from "./spanBatcher.ts"

export const spanEncoder = (protocol: Protocol): BatchEncoder => {
  let spans: Array<ReadableSpan> = []
  return {
    add: (span) => {
      spans.push(span)
    },
    get count() {
      return spans.length
    },
    seal: () => {
      const body = encodeSpans(spans, protocol)
      spans = []
      return body
    }
  }
}
