/**
 * Who and what a run belongs to: a conversation, a session and a user, put on every span started
 * inside {@link withIdentity} (this library's, effect/ai's, your own, and those of OTel-instrumented
 * libraries nested under them) as `gen_ai.conversation.id`, `session.id` and `user.id`. Across
 * processes they travel only as baggage, to the hosts the propagation allow-list names.
 *
 * @since 0.4.0
 */
import * as Effect from "effect/Effect"
import { ATTR_GEN_AI_CONVERSATION_ID, ATTR_SESSION_ID, ATTR_USER_ID } from "./internal/semconv.ts"
import * as Propagation from "./Propagation.ts"

export { ATTR_SESSION_ID, ATTR_USER_ID } from "./internal/semconv.ts"

/**
 * Who and what a run belongs to.
 *
 * @example
 * ```ts
 * const identity: Identity.Identity = { conversationId: "conv-42", sessionId: "session-1", userId: "u-7" }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Identity {
  /** `gen_ai.conversation.id`: Phoenix groups the traces that share it into a session. */
  readonly conversationId?: string | undefined
  /** `session.id`. */
  readonly sessionId?: string | undefined
  /** `user.id`: an opaque identifier, never a name or an address. */
  readonly userId?: string | undefined
}

/**
 * Runs `self` as part of a conversation, session and user: every span started within carries
 * them (this library's, effect/ai's, your own, and OTel-instrumented libraries' under them). They
 * are also put in the propagation baggage, so a call to a host on the allow-list carries them,
 * and a server that lists them in `baggageAttributes` records them on its spans.
 *
 * @example
 * ```ts
 * yield* answer(question).pipe(Identity.withIdentity({ conversationId: "conv-42", userId: "u-7" }))
 * ```
 *
 * @since 0.2.0
 * @category combinators
 */
export const withIdentity = (identity: Identity) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  const attributes = identityAttributes(identity)
  return self.pipe(Effect.annotateSpans(attributes), Propagation.withBaggage(attributes))
}

/**
 * {@link withIdentity} with a conversation id only.
 *
 * @example
 * ```ts
 * yield* answer(question).pipe(Identity.withConversation("conv-42"))
 * ```
 *
 * @since 0.2.0
 * @category combinators
 */
export const withConversation = (conversationId: string) => withIdentity({ conversationId })

// internal

const identityAttributes = (identity: Identity): Record<string, string> => {
  const attributes: Record<string, string> = {}
  if (identity.conversationId !== undefined) attributes[ATTR_GEN_AI_CONVERSATION_ID] = identity.conversationId
  if (identity.sessionId !== undefined) attributes[ATTR_SESSION_ID] = identity.sessionId
  if (identity.userId !== undefined) attributes[ATTR_USER_ID] = identity.userId
  return attributes
}
