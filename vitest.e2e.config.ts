import { defineConfig } from "vitest/config"

/**
 * The end-to-end suite: the examples and the library against a real Jaeger, Phoenix and Prometheus
 * (`test/e2e/`). Run with `npx vitest run --config vitest.e2e.config.ts`; `test/e2e/globalSetup.ts` starts
 * Jaeger on the default ports, Phoenix and Prometheus on ports of their own, and stops them afterwards. The
 * files are `*.e2e.ts`, so the unit suite (`*.test.ts`) never picks them up.
 */
export default defineConfig({
  // `#platform` is Node's own in tests, from src (package.json's `imports` name the built files).
  resolve: { alias: { "#platform": new URL("src/internal/platform/node.ts", import.meta.url).pathname } },
  test: {
    include: ["test/e2e/**/*.e2e.ts"],
    globalSetup: ["test/e2e/globalSetup.ts"],
    // One Jaeger for every file, and some tests count the traces of a service: one file at a time.
    fileParallelism: false,
    // Child processes start through npx and tsx; leave slow CI machines room without hiding hangs.
    testTimeout: 90_000,
    hookTimeout: 30_000
  }
})
