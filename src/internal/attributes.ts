/**
 * Turns any JavaScript value into a valid OTel attribute value, or nothing.
 *
 * Pipelines annotate spans with whatever they have at hand: a model's response object, an
 * optional field that is `undefined`, a `BigInt` token count. None of that may crash the program
 * or produce an OTLP payload a collector rejects, so:
 * - `undefined`, `null`, functions and symbols are dropped (OTel has no null attribute);
 * - strings lose lone surrogates (they cannot be encoded as UTF-8 on the wire);
 * - `NaN` and ±`Infinity` become strings, which every OTLP encoding and backend accepts;
 * - `BigInt` becomes a number when it is a safe integer, a string otherwise;
 * - arrays of one primitive type stay arrays; anything else (objects, mixed arrays) becomes
 *   bounded JSON text, binary data a short description;
 * - a value that cannot even be read (a revoked proxy, a throwing getter) becomes `[unreadable]`.
 */
import type { AttributeValue } from "@opentelemetry/api"
import { boundedJson } from "./content.ts"

/** The longest JSON text an object-valued attribute becomes. */
const maxStructuredLength = 8192

/** Text without lone surrogates, which cannot be encoded as UTF-8 (JSON writes them as `\ud800`-style escapes). */
export const wellFormed = (s: string): string => (s.isWellFormed() ? s : s.toWellFormed())

const primitive = (value: unknown): string | number | boolean | undefined => {
  switch (typeof value) {
    case "string":
      return wellFormed(value)
    case "boolean":
      return value
    case "number":
      return Number.isFinite(value) ? value : String(value)
    case "bigint":
      return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(value)
        : value.toString()
    default:
      return undefined
  }
}

export const toAttributeValue = (value: unknown): AttributeValue | undefined => {
  try {
    return convert(value)
  } catch {
    // A revoked proxy, a getter that throws: the value cannot be read, and that is all we record.
    return "[unreadable]"
  }
}

const convert = (value: unknown): AttributeValue | undefined => {
  if (value === undefined || value === null) return undefined
  const type = typeof value
  if (type === "function" || type === "symbol") return undefined
  if (type !== "object") return primitive(value)
  if (Array.isArray(value)) {
    // The common case, e.g. finish reasons or stop sequences: well-formed strings, as they are.
    if (value.every((item) => typeof item === "string" && item.isWellFormed())) return value.slice() as Array<string>
    const items = value.map(primitive)
    const first = items.find((item) => item !== undefined)
    // Homogeneous arrays of one primitive type are native OTel arrays.
    if (
      items.every((item, i) => item !== undefined || value[i] === null || value[i] === undefined) &&
      items.every((item) => item === undefined || typeof item === typeof first)
    ) {
      return items.map((item) => item ?? null) as AttributeValue
    }
  }
  return boundedJson(value, maxStructuredLength)
}
