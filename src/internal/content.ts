/**
 * Turns captured GenAI content (messages, tool arguments, documents) into a JSON string no longer
 * than a limit, that is always valid JSON and never throws, whatever the value holds: cycles,
 * BigInt, functions, symbols, huge strings, lone surrogates.
 *
 * A plain cut of the serialized text would leave broken JSON that backends show as garbage, so
 * content is shortened structurally: long strings first (keeping their beginnings, which is what a
 * reader of a trace wants), then the tails of long arrays.
 */

const truncatedMark = (dropped: number) => `…[${dropped} chars truncated]`

/** Deeper than this, a value is summarized: recursion must not overflow the stack. */
const maxDepth = 64

/**
 * A JSON-safe copy of `value`: cycles, functions, symbols and undefined are replaced or dropped,
 * binary data is described, not copied, and no array or object keeps more than `maxItems`
 * entries (each costs at least a character, so more could never fit the limit anyway).
 */
const toJsonSafe = (value: unknown, maxItems: number, seen: WeakSet<object> = new WeakSet(), depth = 0): unknown => {
  switch (typeof value) {
    case "string":
      return value.toWellFormed()
    case "number":
      return Number.isFinite(value) ? value : String(value)
    case "boolean":
      return value
    case "bigint":
      return value.toString()
    case "undefined":
    case "function":
    case "symbol":
      return undefined
  }
  if (value === null) return null
  const object = value as object
  if (seen.has(object)) return "[Circular]"
  if (depth >= maxDepth) return "[Too deep]"
  seen.add(object)
  const next = (item: unknown) => toJsonSafe(item, maxItems, seen, depth + 1)
  try {
    if (ArrayBuffer.isView(object)) return `[${object.constructor.name} of ${object.byteLength} bytes]`
    if (object instanceof ArrayBuffer) return `[ArrayBuffer of ${object.byteLength} bytes]`
    if (Array.isArray(object)) {
      const out: Array<unknown> = []
      for (let i = 0; i < object.length && i < maxItems; i++) out.push(next(object[i]) ?? null)
      return out
    }
    if (object instanceof Date) return Number.isNaN(object.getTime()) ? null : object.toISOString()
    if (object instanceof Error) return { name: object.name, message: object.message }
    if (object instanceof Map) return next(Object.fromEntries([...object].slice(0, maxItems)))
    if (object instanceof Set) return next([...object].slice(0, maxItems))
    const out: Record<string, unknown> = {}
    let count = 0
    for (const key in object) {
      if (!Object.hasOwn(object, key)) continue
      if (count++ >= maxItems) break
      const safe = next((object as Record<string, unknown>)[key])
      if (safe !== undefined) out[key.toWellFormed()] = safe
    }
    return out
  } catch {
    // A getter that throws, a revoked proxy: record that something was there.
    return "[Unserializable]"
  } finally {
    seen.delete(object)
  }
}

/** What is left of `maxLength` for the rest of a walk of {@link isPlainJson}. */
interface Budget {
  chars: number
}

/**
 * Whether `JSON.stringify(value)` writes what it writes for `toJsonSafe(value, maxLength)`, and
 * could fit `maxLength`, found by a walk that copies nothing: plain objects and arrays (less than
 * `maxDepth` deep, no `toJSON`) of well-formed strings, finite numbers, booleans and `null`, where
 * `undefined`, functions and symbols inside are dropped (in objects) or `null` (in arrays) by both.
 * Most content is that, and for it the copy cost more than the serialization itself. A getter is
 * read by the walk and again by `JSON.stringify` (the copy read it once).
 *
 * The walk counts at least the characters each part takes (every key too, even one whose value is
 * dropped, so an object never has more entries than the copy keeps) and gives up as soon as the
 * text could not fit: content too long for the limit goes to the copy, which shortens it, without
 * being serialized whole first. A walk that passes can still be too long (escapes): the caller checks.
 */
const isPlainJson = (value: unknown, budget: Budget, depth: number): boolean => {
  switch (typeof value) {
    case "string":
      return (budget.chars -= value.length + 2) >= 0 && value.isWellFormed()
    case "number":
      return --budget.chars >= 0 && Number.isFinite(value)
    case "boolean":
      return (budget.chars -= 4) >= 0
    case "bigint":
      return false
    case "undefined":
    case "function":
    case "symbol":
      // At the top `JSON.stringify` gives no text at all, where the copy is `null`.
      return depth > 0
  }
  if (value === null) return (budget.chars -= 4) >= 0
  if (depth >= maxDepth || (budget.chars -= 2) < 0) return false
  // Anything with a `toJSON`, own or inherited, is written as what that returns; the copy ignores it.
  if ((value as { readonly toJSON?: unknown }).toJSON !== undefined) return false
  if (Array.isArray(value)) {
    const items = value as ReadonlyArray<unknown>
    // Each item takes a character at least: a longer array cannot fit, nor be walked to the end first.
    if (items.length > budget.chars) return false
    for (let i = 0; i < items.length; i++) if (!isPlainJson(items[i], budget, depth + 1)) return false
    return true
  }
  const prototype = Object.getPrototypeOf(value)
  if (prototype !== Object.prototype && prototype !== null) return false
  // The copy is an ordinary object: a `toJSON` added to `Object.prototype` is then called for it.
  if (prototype === null && (Object.prototype as { readonly toJSON?: unknown }).toJSON !== undefined) return false
  for (const key in value as object) {
    if (!Object.hasOwn(value as object, key)) continue
    // `__proto__` is no key of the copy (it sets the copy's prototype).
    if ((budget.chars -= key.length + 3) < 0 || key === "__proto__" || !key.isWellFormed()) return false
    if (!isPlainJson((value as Record<string, unknown>)[key], budget, depth + 1)) return false
  }
  return true
}

const longestString = (value: unknown): number => {
  if (typeof value === "string") return value.length
  if (Array.isArray(value)) return value.reduce((max: number, item) => Math.max(max, longestString(item)), 0)
  if (value !== null && typeof value === "object") {
    return Object.values(value).reduce((max: number, item) => Math.max(max, longestString(item)), 0)
  }
  return 0
}

const capStrings = (value: unknown, cap: number): unknown => {
  if (typeof value === "string") {
    if (value.length <= cap) return value
    // Do not split a surrogate pair: that would leave a lone surrogate.
    let end = cap
    const code = value.charCodeAt(end - 1)
    if (end > 0 && code >= 0xd800 && code <= 0xdbff) end--
    return value.slice(0, end) + truncatedMark(value.length - end)
  }
  if (Array.isArray(value)) return value.map((item) => capStrings(item, cap))
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) out[key] = capStrings(item, cap)
    return out
  }
  return value
}

/**
 * Halves every array longer than one element. Dropped items leave no marker behind: a marker
 * string inside an array of messages would break the schema's shape.
 */
const halveArrays = (value: unknown): unknown => {
  if (Array.isArray(value)) {
    return (value.length > 1 ? value.slice(0, Math.ceil(value.length / 2)) : value).map(halveArrays)
  }
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) out[key] = halveArrays(item)
    return out
  }
  return value
}

/**
 * Serializes `value` as JSON of at most `maxLength` characters.
 */
export const boundedJson = (value: unknown, maxLength: number): string => {
  try {
    if (isPlainJson(value, { chars: maxLength }, 0)) {
      const json = JSON.stringify(value)
      if (json.length <= maxLength) return json
    }
  } catch {
    // A getter that throws, or that answers differently the second time: the copy says what was there.
  }
  return boundedSafeJson(value, maxLength)
}

/** {@link boundedJson} through the JSON-safe copy, whatever `value` holds. */
export const boundedSafeJson = (value: unknown, maxLength: number): string => {
  let safe: unknown = toJsonSafe(value, maxLength) ?? null
  const full = JSON.stringify(safe)
  if (full.length <= maxLength) return full
  for (let round = 0; round < 32; round++) {
    // The largest per-string cap that fits, by binary search over the longest string's length.
    let low = 0
    let high = longestString(safe)
    let best: string | undefined
    while (low <= high) {
      const cap = Math.floor((low + high) / 2)
      const json = JSON.stringify(capStrings(safe, cap))
      if (json.length <= maxLength) {
        best = json
        low = cap + 1
      } else {
        high = cap - 1
      }
    }
    if (best !== undefined) return best
    const halved = halveArrays(safe)
    if (JSON.stringify(halved) === JSON.stringify(safe)) break
    safe = halved
  }
  // Nothing structural fits (a limit smaller than the skeleton): an empty value of the same type.
  return Array.isArray(safe) ? "[]" : typeof safe === "object" && safe !== null ? "{}" : "null"
}
