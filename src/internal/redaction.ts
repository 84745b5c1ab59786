/**
 * The user's redaction hook, applied to every attribute (and event attribute) of every span just
 * before it ends, so that nothing it masks reaches an exporter, the terminal view included. It runs
 * after the library has written everything (content, cost, roll-ups), and only when a hook is set.
 */
import type { AttributeValue } from "@opentelemetry/api"
import type { Span, SpanProcessor } from "@opentelemetry/sdk-trace-base"

/**
 * A redaction hook: given an attribute's key and value, returns the value to record instead, the
 * same value to keep it, or `undefined` to drop the attribute.
 *
 * @example
 * ```ts
 * const dropPrompts: Redaction.Redact = (key, value) => (key === GenAI.ATTR_GEN_AI_INPUT_MESSAGES ? undefined : value)
 * ```
 *
 * @since 0.4.0
 * @category models
 */
export type Redact = (key: string, value: AttributeValue) => AttributeValue | undefined

const apply = (redact: Redact, attributes: Record<string, AttributeValue | undefined>): void => {
  for (const key of Object.keys(attributes)) {
    const value = attributes[key]
    if (value === undefined) continue
    let next: AttributeValue | undefined
    try {
      next = redact(key, value)
    } catch {
      // A hook that throws must not leak what it was meant to hide.
      next = "[redaction failed]"
    }
    if (next === undefined) delete attributes[key]
    else if (next !== value) attributes[key] = next
  }
}

export class RedactionProcessor implements SpanProcessor {
  constructor(private readonly redact: Redact) {}

  onStart(): void {}

  onEnding(span: Span): void {
    // The SDK span's attribute maps are plain objects it exports as they are at the end.
    apply(this.redact, span.attributes as Record<string, AttributeValue | undefined>)
    for (const event of span.events) {
      if (event.attributes !== undefined) {
        apply(this.redact, event.attributes as Record<string, AttributeValue | undefined>)
      }
    }
  }

  onEnd(): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve()
  }
  shutdown(): Promise<void> {
    return Promise.resolve()
  }
}
