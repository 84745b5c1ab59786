/**
 * `Retry-After`: delay-seconds or an HTTP date, as milliseconds to wait. Undefined when absent or
 * unreadable, so the caller falls back to its own backoff. Shared by the OTLP exporter and the
 * model providers (which also read OpenAI's `retry-after-ms`). Fractional seconds are accepted:
 * some servers send them, and reading them as "no advice" would retry too early.
 */
export const parseRetryAfter = (value: string | undefined, now: number = Date.now()): number | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (trimmed === "") return undefined
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}
