/**
 * A copy of plain data to tell later whether the original was changed in place: how a GenAI call
 * made once and run again (`operationSpan.ts`) knows that the messages it was made with, which the
 * program may go on pushing to, are still what its cached attributes say.
 */

/** What {@link copyPlain} returns for a value that cannot be copied (one holding a function, say). */
export const notPlain: unique symbol = Symbol("beluga-o11y/notPlain")

/** Deeper than this, a value is not followed (a cycle, or data no request holds). */
const maxDepth = 32

const hasOwn = Object.prototype.hasOwnProperty

/**
 * A deep copy of `value` that shares nothing with it. Anything but plain data (a class instance, a
 * `Date`, a `Map`, a cycle) is copied too, but never compares the same with {@link samePlain}: its
 * changes cannot be told apart this way, so it reads as changed on every run.
 */
export const copyPlain = (value: unknown): unknown => {
  try {
    return structuredClone(value)
  } catch {
    return notPlain
  }
}

/** Whether `live` holds what `copy` (made by {@link copyPlain}) holds: the same primitives in the same plain shape. */
export const samePlain = (copy: unknown, live: unknown, depth = 0): boolean => {
  if (typeof copy !== "object" || copy === null) return Object.is(copy, live)
  if (typeof live !== "object" || live === null || depth >= maxDepth) return false
  if (Array.isArray(copy)) {
    if (!Array.isArray(live) || live.length !== copy.length) return false
    for (let i = 0; i < copy.length; i++) if (!samePlain(copy[i], live[i], depth + 1)) return false
    return true
  }
  if (Array.isArray(live)) return false
  const prototype = Object.getPrototypeOf(live)
  if (prototype !== Object.prototype && prototype !== null) return false
  const copied = copy as Record<string, unknown>
  const current = live as Record<string, unknown>
  let keys = 0
  for (const key in current) {
    if (!hasOwn.call(current, key)) continue
    if (!hasOwn.call(copied, key) || !samePlain(copied[key], current[key], depth + 1)) return false
    keys++
  }
  for (const key in copied) if (hasOwn.call(copied, key)) keys--
  return keys === 0
}
