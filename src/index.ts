/**
 * beluga-o11y: Effect-native OpenTelemetry tracing for AI agents and LLM pipelines.
 *
 * - `Tracing`: the layer that exports every Effect span over OTLP/HTTP (`Tracing.TracingLive`).
 * - `GenAI`: the GenAI semantic conventions and one span combinator per operation.
 * - `Pipeline`: runs, steps, events and visible retries.
 * - `Agent`: agent runs (`invoke_agent` spans) with their input and output.
 * - `Identity`: the conversation, session and user every span inside carries.
 * - `Cost`: price tables; inference spans get their cost and runs roll it up.
 * - `Prompt`: the prompt (name, version, template, variables) every model call inside was made from.
 * - `Evaluation`: evaluation results as events on the judged span.
 * - `Redaction`: hooks that scrub attribute values before any exporter sees them.
 * - `Propagation`: traceparent/tracestate/baggage across services over Effect's HTTP client and server.
 * - `ChatModel`, `Tool`, `Retriever`, `Embedder`: components whose calls trace themselves.
 * - `OpenAI`, `OpenAIResponses`, `Anthropic`, `Gemini`, `Bedrock`: ready-made providers
 *   (OpenAI-compatible Chat Completions, the OpenAI Responses API, the Anthropic Messages API, the
 *   Gemini API and Vertex AI, AWS Bedrock Converse).
 * - `EffectAi`: `effect/ai` on these providers, tool calls as spans.
 * - `Mcp`, `McpSdk`: tool calls across the Model Context Protocol as one trace (Effect's `McpClient` and
 *   `McpServer`, and the official SDK's clients and servers).
 * - `Simulated`: offline, deterministic stand-ins for those components.
 * - `Serverless`: a request handler for functions and workers, each request's spans flushed before it ends.
 * - `Testing`: in-memory spans and span-tree assertions.
 *
 * @since 0.1.0
 */
export * as Agent from "./Agent.ts"
export * as Anthropic from "./Anthropic.ts"
export * as Bedrock from "./Bedrock.ts"
export * as ChatModel from "./ChatModel.ts"
export * as Cost from "./Cost.ts"
export * as EffectAi from "./EffectAi.ts"
export * as Embedder from "./Embedder.ts"
export * as Evaluation from "./Evaluation.ts"
export * as Gemini from "./Gemini.ts"
export * as GenAI from "./GenAI.ts"
export * as Identity from "./Identity.ts"
export * as Mcp from "./Mcp.ts"
export * as McpSdk from "./McpSdk.ts"
export * as OpenAI from "./OpenAI.ts"
export * as OpenAIResponses from "./OpenAIResponses.ts"
export * as Pipeline from "./Pipeline.ts"
export * as Prompt from "./Prompt.ts"
export * as Propagation from "./Propagation.ts"
export * as Redaction from "./Redaction.ts"
export * as Retriever from "./Retriever.ts"
export * as Serverless from "./Serverless.ts"
export * as Simulated from "./Simulated.ts"
export * as Testing from "./Testing.ts"
export * as Tool from "./Tool.ts"
export * as Tracing from "./Tracing.ts"
