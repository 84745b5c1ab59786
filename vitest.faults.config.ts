import { defineConfig } from "vitest/config"

/** `npm run test:faults`: the slow reliability scenarios (bursts, overload, stalls at full size). */
export default defineConfig({
  test: {
    include: ["test/faults/**/*.test.ts"],
    testTimeout: 600_000,
    hookTimeout: 60_000,
    // One scenario at a time: each measures a program against the whole machine.
    fileParallelism: false
  }
})
