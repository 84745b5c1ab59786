/**
 * The `beluga-o11y` command: `view` runs the local viewer (OTLP/HTTP in, web UI out) until
 * interrupted; `report` turns captured OTLP/JSON into one self-contained HTML file.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { LIBRARY_NAME } from "../semconv.ts"
import { OtlpError } from "./otlpDecode.ts"
import { readCapturedJson, renderReport } from "./report.ts"
import { PortInUseError, startServers } from "./server.ts"
import { Store } from "./store.ts"

const usage = `usage:
  beluga-o11y view [options]            receive OTLP/HTTP and show the traces in a browser
    --otlp-port <port>    OTLP/HTTP port (default 4318)
    --ui-port <port>      web UI port (default 4319)
    --host <address>      address both bind (default 127.0.0.1; anything else exposes your telemetry)
    --db <file>           SQLite file (default: beluga-o11y/viewer.sqlite in the user's cache directory)
    --memory              keep everything in memory instead of a file
    --max-traces <n>      traces kept, oldest removed first (default 10000)
    --max-mb <n>          megabytes of spans and log records kept, oldest traces removed first (default 512)
    --max-logs <n>        log records kept that belong to no stored trace, oldest removed first (default 10000)
    --max-body-mb <n>     largest OTLP request accepted, after decompression (default 32)
  beluga-o11y report <file> [-o <out.html>]
                                        one self-contained HTML report from OTLP/JSON captured to a file
`

/** The user's cache directory, per platform convention. */
export const cacheDirectory = (): string => {
  const env = process.env
  if (process.platform === "win32") return env["LOCALAPPDATA"] ?? path.join(os.homedir(), "AppData", "Local")
  if (process.platform === "darwin") return path.join(os.homedir(), "Library", "Caches")
  return env["XDG_CACHE_HOME"] !== undefined && env["XDG_CACHE_HOME"] !== ""
    ? env["XDG_CACHE_HOME"]
    : path.join(os.homedir(), ".cache")
}

class UsageError extends Error {}

const positive = (value: string | undefined, fallback: number, flag: string, allowZero = false): number => {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new UsageError(`${flag} takes a whole number, got "${value}"`)
  }
  return n
}

const view = async (args: ReadonlyArray<string>): Promise<number> => {
  const { values } = parseArgs({
    args: [...args],
    options: {
      "otlp-port": { type: "string" },
      "ui-port": { type: "string" },
      host: { type: "string" },
      db: { type: "string" },
      memory: { type: "boolean" },
      "max-traces": { type: "string" },
      "max-mb": { type: "string" },
      "max-logs": { type: "string" },
      "max-body-mb": { type: "string" }
    },
    strict: true
  })
  const file = values.memory === true
    ? ":memory:"
    : values.db ?? path.join(cacheDirectory(), LIBRARY_NAME, "viewer.sqlite")
  const maxTraces = positive(values["max-traces"], 10_000, "--max-traces")
  const maxMb = positive(values["max-mb"], 512, "--max-mb")
  const maxLogs = positive(values["max-logs"], 10_000, "--max-logs", true)
  const store = new Store({ file, maxTraces, maxBytes: maxMb * 1024 * 1024, maxLooseLogs: maxLogs })
  const host = values.host ?? "127.0.0.1"
  let servers
  try {
    servers = await startServers(store, {
      host,
      otlpPort: positive(values["otlp-port"], 4318, "--otlp-port", true),
      uiPort: positive(values["ui-port"], 4319, "--ui-port", true),
      maxBodyBytes: positive(values["max-body-mb"], 32, "--max-body-mb") * 1024 * 1024
    })
  } catch (error) {
    store.close()
    throw error
  }
  const stats = store.stats()
  process.stdout.write(
    `beluga-o11y viewer\n` +
      `  OTLP/HTTP  ${servers.otlpUrl}  (traces, metrics and logs, JSON or protobuf; point OTEL_EXPORTER_OTLP_ENDPOINT here)\n` +
      `  UI         ${servers.uiUrl}\n` +
      `  storage    ${
        file === ":memory:" ? "in memory" : file
      } (${stats.traces} traces, ${stats.logs} log records; keeps ${maxTraces} traces, ${maxMb} MB)\n`
  )
  if (host !== "127.0.0.1" && host !== "::1" && host !== "localhost") {
    process.stderr.write(
      `beluga-o11y view: listening on ${host}: anyone who can reach it can read and send telemetry\n`
    )
  }
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve)
    process.once("SIGTERM", resolve)
  })
  await servers.close()
  store.close()
  return 0
}

const report = (args: ReadonlyArray<string>): number => {
  const { positionals, values } = parseArgs({
    args: [...args],
    options: { out: { type: "string", short: "o" } },
    allowPositionals: true,
    strict: true
  })
  if (positionals.length !== 1) throw new UsageError("report takes one file of OTLP/JSON")
  const input = positionals[0]!
  const out = values.out ?? `${input.replace(/\.(jsonl|ndjson|json)$/i, "")}.html`
  const captured = readCapturedJson(fs.readFileSync(input, "utf8"))
  fs.writeFileSync(out, renderReport(captured))
  const logs = captured.logs.length === 0 ? "" : `, ${captured.logs.length} log records`
  process.stdout.write(`beluga-o11y report: ${captured.spans.length} spans${logs} → ${out}\n`)
  return 0
}

/** Runs the command; resolves to the process's exit code. */
export const main = async (args: ReadonlyArray<string>): Promise<number> => {
  const [command, ...rest] = args
  try {
    if (command === "view") return await view(rest)
    if (command === "report") return report(rest)
    if (command === undefined || command === "help" || command === "--help" || command === "-h") {
      process.stdout.write(usage)
      return command === undefined ? 2 : 0
    }
    throw new UsageError(`unknown command "${command}"`)
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") === true) {
      process.stderr.write(`beluga-o11y: ${(error as Error).message}\n${usage}`)
      return 2
    }
    if (error instanceof PortInUseError || error instanceof OtlpError) {
      process.stderr.write(`beluga-o11y ${command}: ${error.message}\n`)
      return 1
    }
    if ((error as { code?: string }).code === "ENOENT") {
      process.stderr.write(`beluga-o11y ${command}: ${(error as Error).message}\n`)
      return 1
    }
    throw error
  }
}
