import { defineConfig } from "vitest/config"

export default defineConfig({
  // `#platform` is Node's own in tests, from src (package.json's `imports` name the built files).
  resolve: { alias: { "#platform": new URL("src/internal/platform/node.ts", import.meta.url).pathname } },
  test: {
    include: ["test/**/*.test.ts"],
    // The slow fault scenarios run on their own: npm run test:faults.
    exclude: ["test/faults/**", "**/node_modules/**"],
    // Tests start real HTTP receivers on 127.0.0.1; give slow CI machines room without hiding hangs.
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
