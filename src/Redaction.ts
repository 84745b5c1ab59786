/**
 * Redaction hooks for `Tracing.layer({ redact })`. A hook sees every attribute and event attribute
 * of every span just before the span ends, after the library has written everything (content,
 * cost, roll-ups), so nothing it masks reaches an exporter, the terminal view included. A hook that
 * throws records `[redaction failed]` rather than the value it was meant to hide.
 *
 * @since 0.4.0
 */
import type { AttributeValue } from "@opentelemetry/api"

import type { Redact } from "./internal/redaction.ts"

export type { Redact }

/**
 * A redaction hook that replaces every match of `patterns` in every string value (and each string
 * in an array), content included: API keys, e-mail addresses, card numbers.
 *
 * @example
 * ```ts
 * Tracing.layer({ redact: Redaction.redactMatching([/sk-[A-Za-z0-9-]{8,}/g, /[\w.+-]+@[\w-]+\.[\w.]+/g]) })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const redactMatching = (patterns: ReadonlyArray<RegExp>, replacement = "[redacted]"): Redact => {
  const global = patterns.map((p) => p.global ? p : new RegExp(p.source, `${p.flags}g`))
  const clean = (text: string) => global.reduce((out, pattern) => out.replace(pattern, replacement), text)
  return (_key, value) =>
    typeof value === "string"
      ? clean(value)
      : Array.isArray(value)
      ? value.map((item) => typeof item === "string" ? clean(item) : item) as AttributeValue
      : value
}

/**
 * A redaction hook that masks the named fields wherever they appear inside JSON attribute values
 * (tool arguments and results, messages), at any depth, and drops attributes with those names.
 *
 * @example
 * ```ts
 * Tracing.layer({ redact: Redaction.redactFields(["apiKey", "password", "email"]) })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const redactFields = (fields: ReadonlyArray<string>, replacement = "[redacted]"): Redact => {
  const names = new Set(fields.map((f) => f.toLowerCase()))
  const mask = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(mask)
      : typeof value === "object" && value !== null
      ? Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, names.has(k.toLowerCase()) ? replacement : mask(v)])
      )
      : value
  return (key, value) => {
    if (names.has(key.toLowerCase())) return undefined
    if (typeof value !== "string" || (value[0] !== "{" && value[0] !== "[")) return value
    try {
      return JSON.stringify(mask(JSON.parse(value)))
    } catch {
      return value
    }
  }
}

/**
 * Several redaction hooks, applied in order; once one drops the attribute, the rest are not asked.
 *
 * @example
 * ```ts
 * Tracing.layer({
 *   redact: Redaction.redactAll(Redaction.redactFields(["email"]), Redaction.redactMatching([/sk-\w+/g]))
 * })
 * ```
 *
 * @since 0.2.0
 * @category combinators
 */
export const redactAll = (...hooks: ReadonlyArray<Redact>): Redact => (key, value) => {
  let current: AttributeValue | undefined = value
  for (const hook of hooks) {
    if (current === undefined) return undefined
    current = hook(key, current)
  }
  return current
}
