/**
 * The layout the next engineer relies on: internal modules never import the public ones, no
 * module imports itself back through others, no source file outgrows one concept (700 lines), and
 * every name the library writes is spelled once, in `src/internal/semconv.ts` — a string literal
 * equal to a written name anywhere else in `src/` is a second spelling that a rename would miss.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import ts from "typescript"
import * as N from "../src/internal/semconv.ts"

const src = path.join(import.meta.dirname, "..", "src")
const files = fs.readdirSync(src, { recursive: true, encoding: "utf8" })
  .filter((file) => file.endsWith(".ts"))
  .map((file) => path.join(src, file))
  .toSorted()
const relative = (file: string) => path.relative(src, file)
const isInternal = (file: string) => relative(file).startsWith(`internal${path.sep}`)

const parse = (file: string) => ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true)

/** The project files a file imports or re-exports from, type-only imports included. */
const importsOf = (file: string): Array<string> => {
  const targets: Array<string> = []
  for (const statement of parse(file).statements) {
    if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue
    const specifier = statement.moduleSpecifier
    if (specifier === undefined || !ts.isStringLiteral(specifier) || !specifier.text.startsWith(".")) continue
    targets.push(path.resolve(path.dirname(file), specifier.text))
  }
  return targets
}

/**
 * Every name the library writes: attribute, event and metric names, and its own name. Names
 * without a namespace (`exception`, the operation names such as `embeddings`) are left out: the
 * same words are fields and values of the providers' wire formats.
 */
const writtenNames = new Set<string>([
  ...Object.entries(N).flatMap(([key, value]) =>
    /^(ATTR|LEGACY_ATTR|EVENT|METRIC)_/.test(key) && typeof value === "string" && value.includes(".") ? [value] : []
  ),
  N.LIBRARY_NAME
])

/** What a name in one of the namespaces the library writes or reads looks like, defined or not yet. */
const namespaced = /^(gen_ai|beluga|openai|aws|gcp|mcp|effect)\.[a-z0-9_.]+$/

const literalsOf = (file: string): Array<{ readonly text: string; readonly line: number }> => {
  const source = parse(file)
  const found: Array<{ readonly text: string; readonly line: number }> = []
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      // Module specifiers are paths, not names.
      if (!ts.isImportDeclaration(node.parent) && !ts.isExportDeclaration(node.parent)) {
        found.push({ text: node.text, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 })
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

describe("the source layout", () => {
  it("internal modules import no public module", () => {
    const upward = files.filter(isInternal).flatMap((file) =>
      importsOf(file).filter((target) => !isInternal(target)).map((target) =>
        `${relative(file)} imports ${relative(target)}`
      )
    )
    assert.deepStrictEqual(upward, [])
  })

  it("has no import cycles", () => {
    const graph = new Map(files.map((file) => [file, importsOf(file)]))
    const cycles: Array<string> = []
    const state = new Map<string, "visiting" | "done">()
    const stack: Array<string> = []
    const visit = (file: string) => {
      if (state.get(file) === "done") return
      if (state.get(file) === "visiting") {
        cycles.push([...stack.slice(stack.indexOf(file)), file].map(relative).join(" → "))
        return
      }
      state.set(file, "visiting")
      stack.push(file)
      for (const target of graph.get(file) ?? []) visit(target)
      stack.pop()
      state.set(file, "done")
    }
    for (const file of files) visit(file)
    assert.deepStrictEqual(cycles, [])
  })

  it("keeps every source file under 700 lines", () => {
    const long = files.flatMap((file) => {
      const lines = fs.readFileSync(file, "utf8").split("\n").length
      return lines > 700 ? [`${relative(file)}: ${lines} lines`] : []
    })
    assert.deepStrictEqual(long, [])
  })

  it("spells every written name once, in internal/semconv.ts (its metrics in semconvMetrics.ts)", () => {
    assert.isAbove(writtenNames.size, 80)
    const spelled = files
      .filter((file) =>
        ![path.join("internal", "semconv.ts"), path.join("internal", "semconvMetrics.ts")].includes(relative(file))
      )
      .flatMap((file) =>
        literalsOf(file)
          .filter((literal) => writtenNames.has(literal.text) || namespaced.test(literal.text))
          .map((literal) => `${relative(file)}:${literal.line} "${literal.text}"`)
      )
    assert.deepStrictEqual(spelled, [])
  })
})
