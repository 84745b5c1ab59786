/**
 * What a collector answers, read without a protobuf library: the partial success of an export
 * response (`ExportTraceServiceResponse`, `ExportMetricsServiceResponse`, `ExportLogsServiceResponse`: field 1
 * `partial_success { rejected_spans | rejected_data_points | rejected_log_records = 1; error_message = 2 }`) and the
 * message of a `google.rpc.Status` error body (field 2). Both are small and untrusted: a field that
 * does not parse ends the reading with what was read so far.
 */

type Field =
  | { readonly field: number; readonly wire: 0; readonly value: number }
  | { readonly field: number; readonly wire: 2; readonly value: Uint8Array }

/** The varint at `at`: its value (up to 2^53) and where the next field starts. */
const varint = (body: Uint8Array, at: number): [value: number, next: number] | undefined => {
  let value = 0
  for (let shift = 0, i = at; i < body.length && shift < 56; i++, shift += 7) {
    value += (body[i]! & 0x7f) * 2 ** shift
    if ((body[i]! & 0x80) === 0) return [value, i + 1]
  }
  return undefined
}

/** The varint and length-delimited fields of one message, in order; fixed-width fields are skipped. */
const fields = (body: Uint8Array): Array<Field> => {
  const out: Array<Field> = []
  let at = 0
  while (at < body.length) {
    const tag = varint(body, at)
    if (tag === undefined) return out
    const [key, next] = tag
    const field = Math.floor(key / 8)
    const wire = key % 8
    if (wire === 0) {
      const value = varint(body, next)
      if (value === undefined) return out
      out.push({ field, wire, value: value[0] })
      at = value[1]
    } else if (wire === 1 || wire === 5) {
      at = next + (wire === 1 ? 8 : 4)
    } else if (wire === 2) {
      const length = varint(body, next)
      if (length === undefined || length[1] + length[0] > body.length) return out
      out.push({ field, wire, value: body.subarray(length[1], length[1] + length[0]) })
      at = length[1] + length[0]
    } else {
      return out
    }
  }
  return out
}

const utf8 = (bytes: Uint8Array): string | undefined => {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes)
  } catch {
    return undefined
  }
}

export interface PartialSuccess {
  readonly rejected: number
  readonly message: string | undefined
}

const none: PartialSuccess = { rejected: 0, message: undefined }

/**
 * The partial success of a 2xx export response. `rejectedKey` is the JSON name of field 1:
 * `rejectedSpans` for traces, `rejectedDataPoints` for metrics, `rejectedLogRecords` for logs.
 */
export const partialSuccess = (
  body: Uint8Array,
  protocol: "http/protobuf" | "http/json",
  rejectedKey: "rejectedSpans" | "rejectedDataPoints" | "rejectedLogRecords"
): PartialSuccess => {
  if (body.length === 0) return none
  if (protocol === "http/json") {
    const parsed = JSON.parse(new TextDecoder().decode(body)) as {
      readonly partialSuccess?: Record<string, unknown> | null
    } | null
    const partial = parsed?.partialSuccess
    if (typeof partial !== "object" || partial === null) return none
    const rejected = Number(partial[rejectedKey] ?? 0)
    const message = partial.errorMessage
    return {
      rejected: Number.isFinite(rejected) && rejected > 0 ? rejected : 0,
      message: typeof message === "string" && message !== "" ? message : undefined
    }
  }
  const partial = fields(body).find((f) => f.field === 1 && f.wire === 2)
  if (partial === undefined || partial.wire !== 2) return none
  let rejected = 0
  let message: string | undefined
  for (const f of fields(partial.value)) {
    if (f.field === 1 && f.wire === 0) rejected = f.value
    if (f.field === 2 && f.wire === 2) message = utf8(f.value) || undefined
  }
  return { rejected, message }
}

/** Field 2 (`message`) of a protobuf `google.rpc.Status`; undefined when the body is not one. */
export const rpcStatusMessage = (body: Uint8Array): string | undefined => {
  const message = fields(body).find((f) => f.field === 2 && f.wire === 2)
  return message !== undefined && message.wire === 2 ? utf8(message.value) : undefined
}
