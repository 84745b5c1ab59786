/**
 * docs/api.md is what the doc comments of the public modules generate (`scripts/api.ts`), so the
 * reference cannot drift from the code: change a doc comment, then run `npx tsx scripts/api.ts`.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { render, root } from "../scripts/api.ts"

describe("docs/api.md", () => {
  // One TypeScript program over src/ takes several seconds to load and check.
  it("is what the doc comments generate", { timeout: 60_000 }, () => {
    assert.strictEqual(fs.readFileSync(path.join(root, "docs", "api.md"), "utf8"), render())
  })
})
