/**
 * A consumer folder for the runtime tests and benchmarks: the package as an app installs it — its
 * `package.json` and a fresh build of `src/` as `dist/` under `node_modules/beluga-o11y` — beside
 * links to this project's other dependencies, and the given programs copied in. Each runtime's
 * resolver (and a bundler such as wrangler) then picks the export conditions it would pick in a
 * user's app, and nothing resolves to `src/` through this project's tsconfig.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"
import { cleanEnv, root } from "./processes.ts"

export const bin = (name: string): string => path.join(root, "node_modules", ".bin", name)

export const execute = promisify(execFile)

/** Makes the folder (in the system's temp directory) with `programs` (paths from the project root) in it. */
export const makeConsumer = async (programs: ReadonlyArray<string>): Promise<string> => {
  const consumer = fs.mkdtempSync(path.join(os.tmpdir(), "beluga-consumer-"))
  const pkg = path.join(consumer, "node_modules", "beluga-o11y")
  fs.mkdirSync(pkg, { recursive: true })
  fs.copyFileSync(path.join(root, "package.json"), path.join(pkg, "package.json"))
  for (const entry of fs.readdirSync(path.join(root, "node_modules"))) {
    if (entry === "beluga-o11y") continue
    fs.symlinkSync(path.join(root, "node_modules", entry), path.join(consumer, "node_modules", entry))
  }
  fs.writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", type: "module" }))
  for (const program of programs) fs.copyFileSync(path.join(root, program), path.join(consumer, path.basename(program)))
  await execute(bin("tsc"), ["-p", path.join(root, "tsconfig.build.json"), "--outDir", path.join(pkg, "dist")], {
    cwd: root,
    env: cleanEnv()
  })
  return consumer
}
