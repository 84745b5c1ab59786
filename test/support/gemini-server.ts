/**
 * The Gemini API as a local server speaks it, for the Gemini tests: the provider server of
 * `provider-server.ts` (a real `node:http` server on 127.0.0.1) scripted with Gemini's wire format.
 *
 * The bodies follow recorded exchanges with the real API — `@google/genai`'s system-test
 * recordings (`test/system/recordings/*.json`: a `gemini-2.5-flash` stream whose every chunk
 * repeats the running `usageMetadata`, a `thought: true` part, a `functionCall` with no id,
 * a 404 `NOT_FOUND` body) and OpenTelemetry's `opentelemetry-instrumentation-google-genai`
 * cassettes (a Vertex AI stream framed with `\r\n\r\n`, `usageMetadata: {trafficType}` until the
 * last chunk) — and the API reference for the rest (`promptFeedback.blockReason`,
 * `cachedContentTokenCount`, `toolUsePromptTokenCount`, several candidates, `RetryInfo`, the
 * embeddings methods, Vertex AI's `:predict`).
 */
export { makeProviderServer as makeGeminiServer, type ProviderServer, type Reply } from "./provider-server.ts"

/** One server-sent event as Gemini frames it: `data: {json}` and a CRLF blank line. */
export const sse = (value: unknown): string =>
  `data: ${typeof value === "string" ? value : JSON.stringify(value)}\r\n\r\n`

const model = "gemini-2.5-flash"

/** A `GenerateContentResponse` chunk of candidate 0 with some text. */
const textChunk = (text: string, usage: Record<string, unknown>, finishReason?: string) => ({
  candidates: [{
    content: { parts: [{ text }], role: "model" },
    ...(finishReason !== undefined ? { finishReason } : {}),
    index: 0
  }],
  usageMetadata: usage,
  modelVersion: model,
  responseId: "tS77aIl-4ZvV7w_A9rTBBg"
})

const running = (candidates: number) => ({
  promptTokenCount: 20,
  candidatesTokenCount: candidates,
  totalTokenCount: 20 + 260 + candidates,
  promptTokensDetails: [{ modality: "TEXT", tokenCount: 20 }],
  thoughtsTokenCount: 260
})

/**
 * A streamed answer: every chunk repeats the running usage (candidates 50 → 253), as the Gemini
 * API does; the last chunk carries `finishReason`. Input 20, output 253 + 260, reasoning 260.
 */
export const textStream: ReadonlyArray<string> = [
  textChunk("low!\n\nThe sky is blue ", running(50)),
  textChunk("because of **Rayleigh scattering**: ", running(100)),
  textChunk("air molecules scatter short wavelengths ", running(150)),
  textChunk("(blue, violet) far more than long ones; ", running(199)),
  textChunk("our eyes are more sensitive to blue", running(249)),
  textChunk(" than violet.", running(253), "STOP")
].map(sse)

/** The text `textStream` spells. */
export const streamedText =
  "low!\n\nThe sky is blue because of **Rayleigh scattering**: air molecules scatter short wavelengths (blue, violet) far more than long ones; our eyes are more sensitive to blue than violet."

/** A long stream of `n` one-word chunks, for early stops and interruptions. */
export const longStream = (n: number): Array<string> =>
  Array.from(
    { length: n },
    (_, i) =>
      sse(
        textChunk(`word${i} `, { promptTokenCount: 9, candidatesTokenCount: i + 1 }, i === n - 1 ? "STOP" : undefined)
      )
  )

/** A complete answer with thinking turned on and no thoughts asked for. */
export const textResponse = {
  candidates: [{
    content: { parts: [{ text: "Lisbon is mild today, around 21°C." }], role: "model" },
    finishReason: "STOP",
    avgLogprobs: -0.128,
    index: 0
  }],
  usageMetadata: {
    promptTokenCount: 12,
    candidatesTokenCount: 11,
    totalTokenCount: 48,
    promptTokensDetails: [{ modality: "TEXT", tokenCount: 12 }],
    thoughtsTokenCount: 25
  },
  modelVersion: model,
  responseId: "qS77aMCqBu6mvr0PsJiykAw"
}

/** A signature as Gemini sends it: opaque base64. */
export const signature = "CiQB0e2Kb7S0kRZ9oJ1vW4qFQ0c2m5xL2Yf3GxwJ8w2vQ2m5xL2Yf3GxwJ8w2vQ=="

/** Two parallel function calls, no ids (as Gemini sends them), the first with its thought signature. */
export const toolCallResponse = {
  candidates: [{
    content: {
      parts: [
        { functionCall: { name: "get_weather", args: { location: "Lisbon" } }, thoughtSignature: signature },
        { functionCall: { name: "get_weather", args: { location: "Porto" } } }
      ],
      role: "model"
    },
    finishReason: "STOP",
    index: 0
  }],
  usageMetadata: {
    promptTokenCount: 61,
    candidatesTokenCount: 14,
    totalTokenCount: 135,
    thoughtsTokenCount: 60
  },
  modelVersion: model,
  responseId: "xtSfaIRs8_Sf2Q-skYe5Dg"
}

/** A streamed turn with thoughts (`includeThoughts`), a sentence, then a function call. */
export const thoughtToolStream: ReadonlyArray<string> = [
  {
    candidates: [{
      content: {
        parts: [{ text: "**Checking the forecast**\nThe user wants Lisbon's weather.", thought: true }],
        role: "model"
      },
      index: 0
    }],
    usageMetadata: { promptTokenCount: 61, totalTokenCount: 88, thoughtsTokenCount: 27 },
    modelVersion: model,
    responseId: "fc-stream-1"
  },
  {
    candidates: [{ content: { parts: [{ text: "Let me check." }], role: "model" }, index: 0 }],
    usageMetadata: { promptTokenCount: 61, candidatesTokenCount: 4, totalTokenCount: 92, thoughtsTokenCount: 27 },
    modelVersion: model,
    responseId: "fc-stream-1"
  },
  {
    candidates: [{
      content: {
        parts: [{ functionCall: { name: "get_weather", args: { location: "Lisbon" } }, thoughtSignature: signature }],
        role: "model"
      },
      finishReason: "STOP",
      index: 0
    }],
    usageMetadata: { promptTokenCount: 61, candidatesTokenCount: 12, totalTokenCount: 100, thoughtsTokenCount: 27 },
    modelVersion: model,
    responseId: "fc-stream-1"
  }
].map(sse)

/** A Vertex AI stream: usage only in the last chunk (`trafficType` before it), CRLF framing. */
export const vertexStream: ReadonlyArray<string> = [
  {
    candidates: [{ content: { role: "model", parts: [{ text: "In labyrinthine code, " }] } }],
    usageMetadata: { trafficType: "ON_DEMAND" },
    modelVersion: model,
    createTime: "2025-10-06T15:51:06.600201Z",
    responseId: "auXjaInRJPP02PgP1dnn0Qo"
  },
  {
    candidates: [{ content: { role: "model", parts: [{ text: "where shadows creep." }] }, finishReason: "STOP" }],
    usageMetadata: {
      promptTokenCount: 8,
      candidatesTokenCount: 370,
      totalTokenCount: 1904,
      trafficType: "ON_DEMAND",
      thoughtsTokenCount: 1526
    },
    modelVersion: model,
    createTime: "2025-10-06T15:51:06.600201Z",
    responseId: "auXjaInRJPP02PgP1dnn0Qo"
  }
].map(sse)

/** Context caching and Google's own tools: input is the prompt plus the tool-use prompt. */
export const cachedResponse = {
  candidates: [{
    content: { parts: [{ text: "Per the cached report, revenue grew 12%." }], role: "model" },
    finishReason: "STOP",
    index: 0
  }],
  usageMetadata: {
    promptTokenCount: 1200,
    cachedContentTokenCount: 1024,
    candidatesTokenCount: 40,
    toolUsePromptTokenCount: 30,
    thoughtsTokenCount: 12,
    totalTokenCount: 1282
  },
  modelVersion: model,
  responseId: "cache-1"
}

/** `candidateCount: 2`: two candidates, the second cut at the token limit. */
export const twoCandidates = {
  candidates: [
    { content: { parts: [{ text: "Mild and sunny." }], role: "model" }, finishReason: "STOP", index: 0 },
    { content: { parts: [{ text: "Sunny, with a light" }], role: "model" }, finishReason: "MAX_TOKENS", index: 1 }
  ],
  usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 9, totalTokenCount: 21 },
  modelVersion: model,
  responseId: "two-1"
}

/** The same two candidates streamed, their chunks interleaved. */
export const twoCandidatesStream: ReadonlyArray<string> = [
  {
    candidates: [
      { content: { parts: [{ text: "Mild " }], role: "model" }, index: 0 },
      { content: { parts: [{ text: "Sunny, " }], role: "model" }, index: 1 }
    ],
    usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 4 },
    modelVersion: model,
    responseId: "two-stream"
  },
  {
    candidates: [{
      content: { parts: [{ text: "with a light" }], role: "model" },
      finishReason: "MAX_TOKENS",
      index: 1
    }],
    usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 7 },
    modelVersion: model,
    responseId: "two-stream"
  },
  {
    candidates: [{ content: { parts: [{ text: "and sunny." }], role: "model" }, finishReason: "STOP", index: 0 }],
    usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 9, totalTokenCount: 21 },
    modelVersion: model,
    responseId: "two-stream"
  }
].map(sse)

/** A prompt Google's filters refused: no candidates, `promptFeedback.blockReason`. */
export const blockedResponse = {
  promptFeedback: {
    blockReason: "SAFETY",
    safetyRatings: [
      { category: "HARM_CATEGORY_SEXUALLY_EXPLICIT", probability: "NEGLIGIBLE" },
      { category: "HARM_CATEGORY_HATE_SPEECH", probability: "NEGLIGIBLE" },
      { category: "HARM_CATEGORY_HARASSMENT", probability: "NEGLIGIBLE" },
      { category: "HARM_CATEGORY_DANGEROUS_CONTENT", probability: "HIGH" }
    ]
  },
  usageMetadata: { promptTokenCount: 8, totalTokenCount: 8 },
  modelVersion: model,
  responseId: "blocked-1"
}

/** Code execution, a tool Google runs: `executableCode` and `codeExecutionResult` parts. */
export const codeExecutionResponse = {
  candidates: [{
    content: {
      parts: [
        { executableCode: { language: "PYTHON", code: "print(sum(range(1, 101)))" } },
        { codeExecutionResult: { outcome: "OUTCOME_OK", output: "5050\n" } },
        { text: "The sum is 5050." }
      ],
      role: "model"
    },
    finishReason: "STOP",
    index: 0
  }],
  usageMetadata: { promptTokenCount: 17, candidatesTokenCount: 30, toolUsePromptTokenCount: 25, totalTokenCount: 72 },
  modelVersion: model,
  responseId: "code-1"
}

/** Google's error body: `{"error": {code, message, status, details}}`. */
export const errorBody = (code: number, status: string, message: string, details: ReadonlyArray<unknown> = []) => ({
  error: { code, message, status, ...(details.length > 0 ? { details } : {}) }
})

/** A 429 with the wait in `RetryInfo`, as the Gemini API sends it (no `retry-after` header). */
export const quotaBody = (retryDelay: string) =>
  errorBody(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and billing details.", [
    {
      "@type": "type.googleapis.com/google.rpc.QuotaFailure",
      violations: [{
        quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
        quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
      }]
    },
    { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay }
  ])

/** The Gemini API's answer to a bad key: 400 `INVALID_ARGUMENT`, the reason in `ErrorInfo`. */
export const badKeyBody = errorBody(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [{
  "@type": "type.googleapis.com/google.rpc.ErrorInfo",
  reason: "API_KEY_INVALID",
  domain: "googleapis.com",
  metadata: { service: "generativelanguage.googleapis.com" }
}])

/** `:embedContent`. */
export const embedding = { embedding: { values: [0.013551234, -0.008901021, -0.046765663] } }
/** `:batchEmbedContents`, in the order of the requests. */
export const embeddings = {
  embeddings: [{ values: [1, 0, 0] }, { values: [0.5, 0.5, 0.7071] }]
}
/** Vertex AI `:predict` for text embeddings. */
export const predictions = {
  metadata: { billableCharacterCount: 16 },
  predictions: [
    { embeddings: { statistics: { token_count: 2, truncated: false }, values: [1, 0, 0] } },
    { embeddings: { statistics: { token_count: 3, truncated: false }, values: [0, 1, 0] } }
  ]
}
