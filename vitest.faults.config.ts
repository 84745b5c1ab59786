import { defineConfig } from "vitest/config"

/** `npm run test:faults`: the slow reliability scenarios (bursts, overload, stalls at full size). */
export default defineConfig({
  // `#platform` is Node's own in tests, from src (package.json's `imports` name the built files).
  resolve: { alias: { "#platform": new URL("src/internal/platform/node.ts", import.meta.url).pathname } },
  test: {
    include: ["test/faults/**/*.test.ts"],
    testTimeout: 600_000,
    hookTimeout: 60_000,
    // One scenario at a time: each measures a program against the whole machine.
    fileParallelism: false
  }
})
