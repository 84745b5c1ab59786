/**
 * CPU profile of one row: runs it for `--seconds` under V8's sampling profiler (through
 * `node:inspector`, in process, so positions can be mapped back to the TypeScript sources through
 * the packages' source maps), then prints the functions with the most self time.
 *
 *   npm run bench -- --sections=profile [--rows=ours,ours.chat] [--seconds=5] [--top=25] [--save=dir]
 *     [--context-manager] [--alloc]
 *   node --experimental-transform-types --enable-source-maps bench/profile.ts [--rows=…]
 *
 * (Run under Node's own type transform, as `npm run bench` does, not tsx: see `spawn.ts`.)
 *
 * `--save=dir` also writes the raw `.cpuprofile` files (open them in Chrome DevTools or speedscope).
 *
 * `--alloc` profiles allocation instead: V8's sampling heap profiler (one sample every 128 bytes
 * allocated, garbage included), bytes per step by the function that allocated them.
 */
import * as fs from "node:fs"
import * as inspector from "node:inspector/promises"
import * as module from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { installContextManager, makeRow, type RowId, settle } from "./rows.ts"
import { args, table } from "./stats.ts"

const argv = args()
const ids = argv.string("rows", "ours,ours.chat").split(",") as Array<RowId>
const seconds = argv.number("seconds", 5)
const top = argv.number("top", 25)
const save = argv.string("save", "")
const alloc = argv.has("alloc")
// As TracingLive runs: with the OTel context manager `Tracing.layer` registers by default.
if (argv.has("context-manager")) installContextManager()
const steps = 256

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
  readonly columnNumber: number
}
interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
}
interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/** `file:line` in the original source when a source map is known, else in the loaded file. */
const where = (frame: CallFrame): string => {
  if (frame.url === "") return ""
  let file = frame.url
  let line = frame.lineNumber + 1
  try {
    const entry = module.findSourceMap(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber)
    if (entry !== undefined && "originalSource" in entry && entry.originalSource !== undefined) {
      file = new URL(entry.originalSource, frame.url).href
      line = entry.originalLine + 1
    }
  } catch {
    // keep the generated position
  }
  const local = file.startsWith("file://") ? fileURLToPath(file) : file
  const relative = path.relative(root, local)
  return `${relative.startsWith("..") ? local : relative}:${line}`
}

const selfTimes = (profile: Profile) => {
  const byNode = new Map<number, ProfileNode>(profile.nodes.map((node) => [node.id, node]))
  const totals = new Map<string, { name: string; where: string; micros: number }>()
  let all = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byNode.get(profile.samples[i]!)!
    const delta = profile.timeDeltas[i] ?? 0
    all += delta
    const at = where(node.callFrame)
    const name = node.callFrame.functionName === "" ? "(anonymous)" : node.callFrame.functionName
    const key = `${name} ${at}`
    const entry = totals.get(key) ?? { name, where: at, micros: 0 }
    entry.micros += delta
    totals.set(key, entry)
  }
  return { all, entries: [...totals.values()].toSorted((a, b) => b.micros - a.micros) }
}

interface HeapNode {
  readonly callFrame: CallFrame
  readonly selfSize: number
  readonly children: ReadonlyArray<HeapNode>
}

const allocations = (head: HeapNode) => {
  const totals = new Map<string, { name: string; where: string; bytes: number }>()
  let all = 0
  const visit = (node: HeapNode) => {
    if (node.selfSize > 0) {
      const at = where(node.callFrame)
      const name = node.callFrame.functionName === "" ? "(anonymous)" : node.callFrame.functionName
      const key = `${name} ${at}`
      const entry = totals.get(key) ?? { name, where: at, bytes: 0 }
      entry.bytes += node.selfSize
      totals.set(key, entry)
      all += node.selfSize
    }
    for (const child of node.children) visit(child)
  }
  visit(head)
  return { all, entries: [...totals.values()].toSorted((a, b) => b.bytes - a.bytes) }
}

const profileAllocations = async (session: inspector.Session) => {
  await session.post("HeapProfiler.enable")
  for (const id of ids) {
    const row = await makeRow(id, steps)
    const warm = performance.now() + 500
    while (performance.now() < warm) {
      row.run()
      await settle()
    }
    await session.post("HeapProfiler.startSampling", {
      samplingInterval: 128,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true
    })
    const runs = 200
    for (let i = 0; i < runs; i++) {
      row.run()
      await settle()
    }
    const { profile } = await session.post("HeapProfiler.stopSampling") as { profile: { head: HeapNode } }
    await row.dispose()
    const { all, entries } = allocations(profile.head)
    const perStep = (n: number) => `${(n / (runs * steps)).toFixed(0)} B`
    console.log(`\n${id}: ${row.label} — ${runs * steps} steps, ~${perStep(all)} allocated per step (sampled)`)
    console.log(table(
      ["share", "bytes / step", "function", "where"],
      entries.slice(0, top).map((e) => [
        `${((e.bytes / all) * 100).toFixed(1)}%`,
        perStep(e.bytes),
        e.name,
        e.where
      ])
    ))
  }
}

const main = async () => {
  const session = new inspector.Session()
  session.connect()
  if (alloc) {
    await profileAllocations(session)
    session.disconnect()
    return
  }
  await session.post("Profiler.enable")
  await session.post("Profiler.setSamplingInterval", { interval: 100 })
  for (const id of ids) {
    const row = await makeRow(id, steps)
    // Warm up before profiling so the profile shows optimized code, not the JIT getting there.
    const warm = performance.now() + 1000
    while (performance.now() < warm) {
      row.run()
      await settle()
    }
    await session.post("Profiler.start")
    const end = performance.now() + seconds * 1000
    let runs = 0
    while (performance.now() < end) {
      row.run()
      runs++
      await settle()
    }
    const { profile } = await session.post("Profiler.stop") as { profile: Profile }
    await row.dispose()
    if (save !== "") {
      fs.mkdirSync(save, { recursive: true })
      fs.writeFileSync(path.join(save, `${id}.cpuprofile`), JSON.stringify(profile))
    }
    const { all, entries } = selfTimes(profile)
    console.log(
      `\n${id}: ${row.label} — ${runs * steps} steps in ${seconds} s, ` +
        `${((all / (runs * steps)) * 1000).toFixed(0)} ns/step sampled`
    )
    console.log(table(
      ["self %", "self / step", "function", "where"],
      entries.slice(0, top).map((e) => [
        `${((e.micros / all) * 100).toFixed(1)}%`,
        `${((e.micros / (runs * steps)) * 1000).toFixed(0)} ns`,
        e.name,
        e.where
      ])
    ))
  }
  session.disconnect()
}

await main()
