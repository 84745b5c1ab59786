/**
 * The VictoriaLogs the e2e suite stores log records in: `scripts/victorialogs.sh` (built once from
 * the Go module proxy and cached), on a port of its own so that a developer's VictoriaLogs on 9428
 * is never touched, with its data in a fresh directory, read back through its LogsQL HTTP API.
 *
 * VictoriaLogs takes OTLP/HTTP logs in protobuf only (JSON is answered with 400); it keeps a
 * record's attributes and resource as fields, flattens a key-value-list body into fields
 * (`order.id`), and stores any other body as the message `_msg`.
 */
import { runScript } from "./phoenix.ts"

export const victoriaLogsPort = 19428
export const victoriaLogsUrl = `http://127.0.0.1:${victoriaLogsPort}`
/** Where a program sends its logs: VictoriaLogs' OTLP receiver. */
export const victoriaLogsOtlpUrl = `${victoriaLogsUrl}/insert/opentelemetry/v1/logs`

/** Runs `scripts/victorialogs.sh <command>` with the suite's port and `stateDir`. */
export const victoriaLogsSh = (command: string, stateDir: string) =>
  runScript("victorialogs.sh", command, {
    ...process.env,
    VICTORIALOGS_PORT: String(victoriaLogsPort),
    VICTORIALOGS_STATE_DIR: stateDir
  })

/** One stored record: every field as VictoriaLogs returns it, a string. */
export type StoredLog = Readonly<Record<string, string>>

/** A LogsQL query over all time, its records in time order. */
export const query = async (logsql: string): Promise<Array<StoredLog>> => {
  const response = await fetch(`${victoriaLogsUrl}/select/logsql/query`, {
    method: "POST",
    body: new URLSearchParams({ query: `${logsql} | sort by (_time)` })
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`VictoriaLogs: \`${logsql}\` answered ${response.status}: ${text}`)
  // One JSON object a line.
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line) as StoredLog)
}

/** Polls `logsql` until at least `count` records match (ingestion is asynchronous). */
export const waitForLogs = async (logsql: string, count: number, timeoutMs = 15_000): Promise<Array<StoredLog>> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const logs = await query(logsql)
    if (logs.length >= count) return logs
    if (Date.now() >= deadline) {
      throw new Error(`VictoriaLogs: \`${logsql}\` gave ${logs.length} of ${count} records after ${timeoutMs} ms`)
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}
