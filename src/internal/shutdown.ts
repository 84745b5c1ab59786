/**
 * The bounded shutdown shared by spans and metrics: release sends what is left within a time bound,
 * and past it ends what is in flight and says, in one line, what was lost. A collector that is down
 * or stalled must never keep the program from exiting, nor fail it.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { DeliveryStats } from "./exporter.ts"
import { LIBRARY_NAME } from "./semconv.ts"

/** How long release may take, and where the line saying it gave up goes. */
export interface Policy {
  readonly timeout: Duration.Input
  readonly warn: (message: string) => void
}

/** What a signal loses when release gives up on it, in the words of the message. */
export interface GiveUp {
  /** What release was doing: "flushing spans". */
  readonly doing: string
  /** One item, as counted: "span". */
  readonly unit: string
  /** Where the lost items were: "in flight or queued". */
  readonly where: string
  /** Ends the exports in flight; returns the items lost. */
  readonly abort: () => number
  readonly stats: () => DeliveryStats
}

/** Runs `close` within the policy's timeout; past it, ends what is in flight and says what was lost. */
export const bounded = (close: () => Promise<unknown>, policy: Policy, gaveUp: GiveUp): Effect.Effect<void> =>
  // A failed export is already reported; it must never fail the user's program.
  Effect.promise(() => close().catch(() => {})).pipe(
    Effect.timeoutOption(policy.timeout),
    Effect.flatMap((done) =>
      Effect.sync(() => {
        if (done._tag === "Some") return
        const lost = gaveUp.abort()
        const { lastError } = gaveUp.stats()
        policy.warn(
          `${LIBRARY_NAME}: gave up ${gaveUp.doing} after ${
            Duration.format(Duration.fromInputUnsafe(policy.timeout))
          }` +
            (lastError !== undefined ? ` (last export error: ${lastError})` : "") +
            `; ${lost} ${gaveUp.unit}${lost === 1 ? "" : "s"} ${gaveUp.where} were not delivered`
        )
      })
    ),
    Effect.interruptible
  )
