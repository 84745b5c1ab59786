/**
 * How one configuration value is read and checked: each `OTEL_*` variable through Effect `Config`,
 * each explicit option against what it accepts, and the `TracingConfigError` a bad one fails with
 * (naming the variable or option, the value, and what is accepted). Which settings there are, and
 * their defaults, is `config.ts`.
 */
import { parseKeyPairsIntoRecord } from "@opentelemetry/core"
import * as Config from "effect/Config"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/**
 * Invalid tracing configuration: which variable (or option), the value found, and what is accepted.
 * Secret values (OTLP headers) are never echoed: `value` reads `<redacted>` for them.
 */
export class TracingConfigError extends Data.TaggedError("TracingConfigError")<{
  readonly variable: string
  readonly value: string
  readonly expected: string
}> {
  override get message(): string {
    return `${this.variable}=${JSON.stringify(this.value)} is invalid: expected ${this.expected}`
  }
}

const oneOf = (values: ReadonlyArray<string>) => `one of ${values.map((v) => JSON.stringify(v)).join(", ")}`

/** An explicit option, else the variable, else the default. */
export const setting = <A>(option: A | undefined, variable: Option.Option<A>, fallback: A): A =>
  option ?? Option.getOrElse(variable, () => fallback)

/** Fails with a `TracingConfigError` unless `ok`. */
export const ensure = (ok: boolean, variable: string, value: unknown, expected: string) =>
  ok ? Effect.void : Effect.fail(new TracingConfigError({ variable, value: String(value), expected }))

/** A whole number of at least `minimum`; only an option can miss that, a variable is checked as it is read. */
export const ensureWhole = (variable: string, value: number, minimum: number, expected: string) =>
  ensure(Number.isInteger(value) && value >= minimum, variable, value, expected)

/** An explicit option, when given, must be one of `values`: the types do not hold for untyped callers. */
export const ensureOneOf = <A extends string>(variable: string, value: A | undefined, values: ReadonlyArray<A>) =>
  ensure(value === undefined || values.includes(value), variable, value, oneOf(values))

/** Reads one variable as a string. An empty value counts as unset, as the OTel spec requires. */
export const raw = (name: string): Effect.Effect<Option.Option<string>> =>
  Config.option(Config.String(name)).pipe(
    Effect.map(Option.filter((value) => value.trim() !== "")),
    // A provider that cannot be read at all is an environment fault, not a user's bad value.
    Effect.orDie
  )

/**
 * Reads one variable and parses it; text that `parse` turns into `undefined` fails with a
 * `TracingConfigError` carrying the text as `shown` renders it.
 */
export const parsed = <A>(
  name: string,
  expected: string,
  parse: (text: string) => A | undefined,
  shown: (text: string) => string = (text) => text
): Effect.Effect<Option.Option<A>, TracingConfigError> =>
  Effect.flatMap(raw(name), (text) => {
    if (Option.isNone(text)) return Effect.succeedNone
    const value = parse(text.value)
    return value !== undefined
      ? Effect.succeedSome(value)
      : Effect.fail(new TracingConfigError({ variable: name, value: shown(text.value), expected }))
  })

/** Decodes one variable with a Schema; a value that does not decode or fails `check` is an error. */
export const decoded = <S extends Schema.ConstraintDecoder<unknown>>(
  name: string,
  schema: S,
  expected: string,
  check: (value: S["Type"]) => boolean = () => true
) =>
  parsed(
    name,
    expected,
    (text): S["Type"] | undefined =>
      Option.getOrUndefined(Option.filter(Schema.decodeUnknownOption(schema)(text.trim()), check))
  )

export const literal = <A extends string>(
  name: string,
  values: ReadonlyArray<A>,
  normalize: (s: string) => string = (s) => s.trim().toLowerCase()
) => parsed(name, oneOf(values), (text) => values.find((v) => v === normalize(text)))

const NonNegativeInt = Schema.NumberFromString.pipe(Schema.decodeTo(Schema.Int))
export const positiveInt = (name: string) =>
  decoded(name, NonNegativeInt, "a whole number greater than 0", (n) => n > 0)
export const nonNegativeInt = (name: string, unit: string) =>
  decoded(name, NonNegativeInt, `a whole number of ${unit}, 0 or more`, (n) => n >= 0)

export const boolean = (name: string) => Effect.map(literal(name, ["true", "false"]), Option.map((v) => v === "true"))

/** An http(s) URL, the form every OTLP/HTTP endpoint variable takes. */
export const endpointUrl = (name: string) =>
  parsed(
    name,
    "an absolute http:// or https:// URL such as http://localhost:4318",
    (text) => parseHttpUrl(text.trim()),
    redactUrlText
  )

/**
 * An endpoint as text fit for an error message: credentials (`user:password@`) and the query
 * string (which may carry a key) are replaced, even when the text is not a valid URL.
 */
export const redactUrlText = (text: string): string =>
  text.replace(/\/\/[^/?#\s]*@/, "//<redacted>@").replace(/\?.*$/s, "?<redacted>")

/** Parses an absolute http(s) URL; `undefined` for anything else. */
export const parseHttpUrl = (value: string): URL | undefined => {
  try {
    const url = new URL(value)
    return url.protocol === "http:" || url.protocol === "https:" ? url : undefined
  } catch {
    return undefined
  }
}

/**
 * `k=v,k2=v2`, percent-encoded, parsed by the SDK's own parser. The value is a secret (API keys),
 * so it is read as `Redacted` and a malformed one is reported without echoing it.
 */
export const headers = (name: string) =>
  Effect.flatMap(Config.option(Config.Redacted(name)).pipe(Effect.orDie), (value) => {
    const text = Option.match(value, { onNone: () => "", onSome: (secret) => Redacted.value(secret).trim() })
    if (text === "") return Effect.succeed<Readonly<Record<string, string>>>({})
    // Every pair must decode: the SDK's parser skips a pair it cannot read, which would send
    // exports without the API key the user set.
    const pairs = text.split(",").filter((pair) => pair.trim() !== "")
    const wellFormed = pairs.length > 0 && pairs.every((pair) => decodePair(pair) !== undefined)
    let record: Record<string, string> = {}
    try {
      record = parseKeyPairsIntoRecord(text)
    } catch {
      // Unreachable after the check above; kept so a parser change cannot throw into start-up.
    }
    return Effect.as(
      ensure(
        wellFormed && Object.keys(record).length > 0,
        name,
        "<redacted>",
        "comma-separated key=value pairs with percent-encoded values, e.g. api-key=abc,x-team=ml"
      ),
      record
    )
  })

/** One `key=value` pair, both sides percent-decoded; `undefined` without a key or if a side does not decode. */
export const decodePair = (pair: string): readonly [key: string, value: string] | undefined => {
  const eq = pair.indexOf("=")
  if (eq <= 0) return undefined
  const key = safeDecode(pair.slice(0, eq).trim())
  const value = safeDecode(pair.slice(eq + 1).trim())
  return key === undefined || value === undefined ? undefined : [key, value]
}

const safeDecode = (s: string): string | undefined => {
  try {
    return decodeURIComponent(s)
  } catch {
    return undefined
  }
}
