/** Small helpers shared by the benchmark scripts: statistics, formatting, arguments, results files. */
import * as fs from "node:fs"

export const median = (values: ReadonlyArray<number>): number => {
  if (values.length === 0) return Number.NaN
  const sorted = values.toSorted((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const spread = (values: ReadonlyArray<number>): { readonly min: number; readonly max: number } => ({
  min: Math.min(...values),
  max: Math.max(...values)
})

export interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly values: ReadonlyArray<number>
}

export const summarize = (values: ReadonlyArray<number>): Summary => ({
  median: median(values),
  ...spread(values),
  values
})

export const ns = (value: number): string =>
  value >= 1e6
    ? `${(value / 1e6).toFixed(2)} ms`
    : value >= 1e3
    ? `${(value / 1e3).toFixed(2)} µs`
    : `${value.toFixed(0)} ns`

export const bytes = (value: number): string =>
  Math.abs(value) >= 1024 * 1024
    ? `${(value / 1024 / 1024).toFixed(1)} MB`
    : Math.abs(value) >= 1024
    ? `${(value / 1024).toFixed(1)} KB`
    : `${value.toFixed(0)} B`

export const ratio = (value: number): string => `${value.toFixed(2)}×`

export const count = (value: number): string => Math.round(value).toLocaleString("en-US")

/** A markdown table with padded columns. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)].join("\n")
}

/** `--name=value` and `--flag` arguments. */
export const args = (argv: ReadonlyArray<string> = process.argv.slice(2)) => {
  const values = new Map<string, string>()
  for (const arg of argv) {
    const match = /^--([^=]+)(?:=(.*))?$/.exec(arg)
    if (match !== null) values.set(match[1]!, match[2] ?? "true")
  }
  return {
    has: (name: string) => values.has(name),
    string: (name: string, fallback: string) => values.get(name) ?? fallback,
    number: (name: string, fallback: number) => {
      const value = values.get(name)
      return value === undefined ? fallback : Number(value)
    }
  }
}

/** Writes a section's results where the orchestrator asked (`--out=file`), if it did. */
export const writeResult = (out: string | undefined, result: unknown) => {
  if (out !== undefined && out !== "") fs.writeFileSync(out, JSON.stringify(result, null, 2))
}

/** A seeded shuffle (Mulberry32), so a run's row order can be reproduced. */
export const shuffle = <A>(items: ReadonlyArray<A>, seed: number): Array<A> => {
  let state = seed >>> 0
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const result = [...items]
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[result[i], result[j]] = [result[j]!, result[i]!]
  }
  return result
}
