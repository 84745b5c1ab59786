/**
 * What ships: the declarations the build emits (`tsconfig.build.json`, as `npm run build` makes
 * `dist/`) hold no item marked `@internal`, so nothing users could come to depend on is private,
 * and they type-check on their own, so no public item refers to one that was left out.
 */
import { assert, describe, it } from "@effect/vitest"
import * as path from "node:path"
import ts from "typescript"

const root = path.join(import.meta.dirname, "..")

/** The build's `.d.ts` files, emitted in memory with the build's own options. */
const emitDeclarations = (): Map<string, string> => {
  const configFile = path.join(root, "tsconfig.build.json")
  const config = ts.getParsedCommandLineOfConfigFile(configFile, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"))
    }
  })!
  const program = ts.createProgram(config.fileNames, { ...config.options, emitDeclarationOnly: true })
  const emitted = new Map<string, string>()
  const result = program.emit(undefined, (file, text) => {
    if (file.endsWith(".d.ts")) emitted.set(path.relative(config.options.outDir!, file), text)
  })
  const errors = ts.getPreEmitDiagnostics(program).concat(result.diagnostics)
  assert.deepStrictEqual(errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")), [])
  return emitted
}

describe("the published declarations", () => {
  it("carry no item marked @internal", { timeout: 120_000 }, () => {
    const declarations = emitDeclarations()
    assert.isTrue(declarations.has("index.d.ts"))
    assert.isTrue(declarations.has("Tracing.d.ts"))
    const internal = [...declarations].flatMap(([file, text]) =>
      text.split("\n").flatMap((line, i) => line.includes("@internal") ? [`${file}:${i + 1}: ${line.trim()}`] : [])
    )
    assert.deepStrictEqual(internal, [])

    // The declarations alone, as a consumer's compiler sees them in `dist/`.
    const dist = path.join(root, "dist-declarations")
    const files = new Map([...declarations].map(([file, text]) => [path.join(dist, file), text]))
    const options: ts.CompilerOptions = {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      exactOptionalPropertyTypes: true,
      types: ["node"],
      noEmit: true
    }
    const host = ts.createCompilerHost(options)
    const readFile = host.readFile.bind(host)
    const fileExists = host.fileExists.bind(host)
    host.readFile = (file) => files.get(file) ?? readFile(file)
    host.fileExists = (file) => files.has(file) || fileExists(file)
    const directoryExists = host.directoryExists?.bind(host)
    host.directoryExists = (directory) =>
      directory === dist || directory.startsWith(dist + path.sep) || (directoryExists?.(directory) ?? true)
    const program = ts.createProgram([path.join(dist, "index.d.ts")], options, host)
    const errors = ts.getPreEmitDiagnostics(program)
      .filter((d) => d.file !== undefined && files.has(d.file.fileName))
      .map((d) => `${path.relative(dist, d.file!.fileName)}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`)
    assert.deepStrictEqual(errors, [])
  })
})
