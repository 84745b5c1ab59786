/**
 * The OpenAI Responses API as a local server speaks it: response objects and semantic event
 * streams modelled on recorded API traffic (OpenTelemetry contrib's openai-v2 cassettes for
 * `POST /v1/responses`: `event: <type>` / `data: {…, "sequence_number": n}` pairs, no `[DONE]`,
 * usage with `input_tokens_details` and `output_tokens_details`), served by the provider server
 * of `provider-server.ts` on 127.0.0.1.
 */
export { makeProviderServer as makeResponsesServer, type ProviderServer, type Reply } from "./provider-server.ts"

type Json = Record<string, unknown>

/** One event as the API writes it: the SSE name is the data's `type`, numbered in order. */
export const sseEvent = (payload: Json, sequence: number): string =>
  `event: ${String(payload["type"])}\ndata: ${JSON.stringify({ ...payload, sequence_number: sequence })}\n\n`

/** Events as the chunks of a stream, one event a chunk, numbered from 0. */
export const sse = (events: ReadonlyArray<Json>): Array<string> => events.map(sseEvent)

export const responseId = "resp_0fbd9e3d1111001c0069d85fe2f11c819fb11676e58b5b7bff"
export const responseModel = "gpt-4o-mini-2024-07-18"
const messageId = "msg_0fbd9e3d1111001c0069d85fe435b0819f875602d96de7c6c0"

/** A response object with the fields the API always returns; `overrides` replace them. */
export const responseObject = (overrides: Json = {}): Json => ({
  id: responseId,
  object: "response",
  created_at: 1775788002,
  status: "completed",
  background: false,
  completed_at: 1775788004,
  error: null,
  incomplete_details: null,
  instructions: null,
  max_output_tokens: null,
  model: responseModel,
  output: [],
  parallel_tool_calls: true,
  previous_response_id: null,
  reasoning: { effort: null, summary: null },
  service_tier: "default",
  store: true,
  temperature: 1.0,
  text: { format: { type: "text" }, verbosity: "medium" },
  tool_choice: "auto",
  tools: [],
  top_p: 1.0,
  truncation: "disabled",
  usage: {
    input_tokens: 22,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 6,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 28
  },
  user: null,
  metadata: {},
  ...overrides
})

/** An assistant message item holding `text`. */
export const messageItem = (text: string, id = messageId): Json => ({
  id,
  type: "message",
  status: "completed",
  content: [{ type: "output_text", annotations: [], logprobs: [], text }],
  role: "assistant"
})

export const functionCallItem: Json = {
  id: "fc_0cb296f9e5607fd60069d85fefc01c8190b80847c9f8782620",
  type: "function_call",
  status: "completed",
  arguments: "{\"location\":\"Lisbon\"}",
  call_id: "call_9JGnHg3Qns7ZqDfSVNhAEArE",
  name: "get_weather"
}

export const reasoningItem: Json = {
  id: "rs_6806bfca0b2481918a5748308061a2600d3ce51bdffd5476",
  type: "reasoning",
  summary: [
    { type: "summary_text", text: "**Multiplying**\n\n17×19 is 17×20 − 17." },
    { type: "summary_text", text: "That is 323." }
  ]
}

export const webSearchItem: Json = {
  id: "ws_67c9fa0502748190b7dd390736892e100be649c1a5ff9609",
  type: "web_search_call",
  status: "completed",
  action: { type: "search", query: "weather Lisbon today" }
}

/** A plain reply: "This is a test." (the recorded `test_responses_create` answer). */
export const textResponse: Json = responseObject({ output: [messageItem("This is a test.")] })

/** A plain reply asking for one function call. */
export const toolCallResponse: Json = responseObject({
  id: "resp_0cb296f9e5607fd60069d85fef5a9c8190b9a1023b905723b8",
  output: [functionCallItem],
  usage: {
    input_tokens: 72,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 8,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 80
  }
})

/** A reasoning model's plain reply: two summaries, the answer, cached and reasoning tokens. */
export const reasoningResponse: Json = responseObject({
  id: "resp_00ffaee8970a201e0069d85ff21eec8191b6400bb158fb42bf",
  model: "gpt-5-mini-2025-08-07",
  service_tier: "flex",
  reasoning: { effort: "medium", summary: "auto" },
  output: [reasoningItem, messageItem("17 × 19 = 323.", "msg_00ffaee8970a201e0069d85ffc9fec819199bbeefde8316d62")],
  usage: {
    input_tokens: 1216,
    input_tokens_details: { cached_tokens: 1152 },
    output_tokens: 202,
    output_tokens_details: { reasoning_tokens: 128 },
    total_tokens: 1418
  }
})

/** A plain reply that searched the web first, then answered with a citation. */
export const webSearchResponse: Json = responseObject({
  id: "resp_67c9fa0502748190b7dd390736892e100be649c1a5ff9609",
  tools: [{ type: "web_search", search_context_size: "medium" }],
  output: [webSearchItem, {
    ...messageItem("It is sunny in Lisbon, 24 °C."),
    content: [{
      type: "output_text",
      text: "It is sunny in Lisbon, 24 °C.",
      annotations: [{ type: "url_citation", start_index: 0, end_index: 28, url: "https://weather.example/lisbon" }],
      logprobs: []
    }]
  }]
})

const created = (response: Json): Array<Json> => [
  { type: "response.created", response: { ...response, status: "in_progress", output: [], usage: null } },
  { type: "response.in_progress", response: { ...response, status: "in_progress", output: [], usage: null } }
]

/** The events of a message item whose text arrives in `deltas`. */
const messageEvents = (deltas: ReadonlyArray<string>, index: number, id = messageId): Array<Json> => {
  const text = deltas.join("")
  return [
    {
      type: "response.output_item.added",
      item: { id, type: "message", status: "in_progress", content: [], role: "assistant" },
      output_index: index
    },
    {
      type: "response.content_part.added",
      content_index: 0,
      item_id: id,
      output_index: index,
      part: { type: "output_text", annotations: [], logprobs: [], text: "" }
    },
    ...deltas.map((delta) => ({
      type: "response.output_text.delta",
      content_index: 0,
      delta,
      item_id: id,
      logprobs: [],
      obfuscation: "ZJTX0RKOR8C9",
      output_index: index
    })),
    { type: "response.output_text.done", content_index: 0, item_id: id, logprobs: [], output_index: index, text },
    {
      type: "response.content_part.done",
      content_index: 0,
      item_id: id,
      output_index: index,
      part: { type: "output_text", annotations: [], logprobs: [], text }
    },
    { type: "response.output_item.done", item: messageItem(text, id), output_index: index }
  ]
}

/** The recorded streamed answer: "This is a test." in five deltas. */
export const textStream: Array<string> = sse([
  ...created(textResponse),
  ...messageEvents(["This", " is", " a", " test", "."], 0),
  { type: "response.completed", response: textResponse }
])

/** A long streamed answer of `n` deltas ("w0 w1 …"), for stalls, cuts and early stops. */
export const longTextStream = (n: number): Array<string> => {
  const deltas = Array.from({ length: n }, (_, i) => `w${i} `)
  return sse([
    ...created(textResponse),
    ...messageEvents(deltas, 0),
    { type: "response.completed", response: responseObject({ output: [messageItem(deltas.join(""))] }) }
  ])
}

/** A streamed function call whose arguments arrive split across three deltas. */
export const toolCallStream: Array<string> = sse([
  ...created(toolCallResponse),
  {
    type: "response.output_item.added",
    item: { ...functionCallItem, status: "in_progress", arguments: "" },
    output_index: 0
  },
  ...["{\"loca", "tion\":\"Lis", "bon\"}"].map((delta) => ({
    type: "response.function_call_arguments.delta",
    delta,
    item_id: functionCallItem["id"],
    obfuscation: "u6Lw",
    output_index: 0
  })),
  {
    type: "response.function_call_arguments.done",
    arguments: functionCallItem["arguments"],
    item_id: functionCallItem["id"],
    output_index: 0
  },
  { type: "response.output_item.done", item: functionCallItem, output_index: 0 },
  { type: "response.completed", response: toolCallResponse }
])

/** A streamed reasoning model's answer: two summaries in deltas, then the text. */
export const reasoningStream: Array<string> = sse([
  ...created({ ...reasoningResponse, service_tier: "auto" }),
  { type: "response.output_item.added", item: { ...reasoningItem, summary: [] }, output_index: 0 },
  ...[["**Multiplying**\n\n", "17×19 is 17×20 − 17."], ["That is ", "323."]].flatMap((deltas, summary_index) => [
    {
      type: "response.reasoning_summary_part.added",
      item_id: reasoningItem["id"],
      output_index: 0,
      summary_index,
      part: { type: "summary_text", text: "" }
    },
    ...deltas.map((delta) => ({
      type: "response.reasoning_summary_text.delta",
      item_id: reasoningItem["id"],
      output_index: 0,
      summary_index,
      delta
    })),
    {
      type: "response.reasoning_summary_text.done",
      item_id: reasoningItem["id"],
      output_index: 0,
      summary_index,
      text: deltas.join("")
    }
  ]),
  { type: "response.output_item.done", item: reasoningItem, output_index: 0 },
  ...messageEvents(["17 × 19", " = 323."], 1, "msg_00ffaee8970a201e0069d85ffc9fec819199bbeefde8316d62"),
  { type: "response.completed", response: reasoningResponse }
])

/** A streamed answer after a web search (the built-in tool's own progress events included). */
export const webSearchStream: Array<string> = sse([
  ...created(webSearchResponse),
  { type: "response.output_item.added", item: { ...webSearchItem, status: "in_progress" }, output_index: 0 },
  { type: "response.web_search_call.in_progress", item_id: webSearchItem["id"], output_index: 0 },
  { type: "response.web_search_call.searching", item_id: webSearchItem["id"], output_index: 0 },
  { type: "response.web_search_call.completed", item_id: webSearchItem["id"], output_index: 0 },
  { type: "response.output_item.done", item: webSearchItem, output_index: 0 },
  ...messageEvents(["It is sunny", " in Lisbon, 24 °C."], 1),
  { type: "response.completed", response: webSearchResponse }
])

/** A streamed answer cut at `max_output_tokens`: `response.incomplete`. */
export const incompleteStream: Array<string> = (() => {
  const incomplete = responseObject({
    status: "incomplete",
    max_output_tokens: 16,
    incomplete_details: { reason: "max_output_tokens" },
    output: [{ ...messageItem("Lisbon is a city of"), status: "incomplete" }],
    usage: {
      input_tokens: 12,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 16,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 28
    }
  })
  return sse([
    ...created(incomplete),
    ...messageEvents(["Lisbon is", " a city of"], 0).slice(0, -1),
    { type: "response.incomplete", response: incomplete }
  ])
})()

/** A stream whose response fails after its first words: `response.failed` with the error's code. */
export const failedStream: Array<string> = sse([
  ...created(textResponse),
  ...messageEvents(["This", " is"], 0).slice(0, 3),
  {
    type: "response.failed",
    response: responseObject({
      status: "failed",
      output: [],
      usage: null,
      error: { code: "server_error", message: "The model failed to generate a response." }
    })
  }
])

/** A stream that ends in an `error` event (its fields at the top, as the API reference shows them). */
export const errorEventStream: Array<string> = sse([
  ...created(textResponse),
  {
    type: "error",
    code: "rate_limit_exceeded",
    message: "Rate limit reached for gpt-4o-mini in organization org-test on tokens per min (TPM).",
    param: null
  }
])
