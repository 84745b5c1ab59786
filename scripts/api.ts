/**
 * Writes docs/api.md from the doc comments: every export of each module `src/index.ts` re-exports
 * (`export * as Tracing from "./Tracing.ts"`), read with the TypeScript compiler under the project's
 * tsconfig, re-exports from `src/internal/` followed to their declarations. `--check` fails instead
 * when the page is out of date.
 *
 *   npx tsx scripts/api.ts           # regenerate docs/api.md
 *   npx tsx scripts/api.ts --check   # exit 1 if it differs from the doc comments
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import ts from "typescript"

export const root = path.resolve(import.meta.dirname, "..")

type Kind = "function" | "const" | "class" | "interface" | "type" | "namespace"

/** One property of an interface, or one member of a class or of a service's shape. */
interface Member {
  readonly signature: string
  readonly summary: string
}

interface Entry {
  readonly name: string
  /** Usually one; a name declared as both a value and a type has both. */
  readonly kinds: ReadonlyArray<Kind>
  /** One line each; several for overloads, or for a name that is both a value and a type. */
  readonly signatures: ReadonlyArray<string>
  readonly members: ReadonlyArray<Member>
  readonly description: string
  readonly since: string | undefined
  readonly deprecated: string | undefined
  readonly category: string | undefined
}

interface Module {
  readonly name: string
  /** The first paragraph of the file's leading doc comment (with the list it introduces, if any). */
  readonly intro: string
  readonly entries: ReadonlyArray<Entry>
}

/** The longest signature line written; longer ones are cut at a separator and end in "…". */
const maxSignature = 200
const maxMemberSignature = 140
const typeFlags = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope

const compare = (a: string, b: string) => {
  const la = a.toLowerCase()
  const lb = b.toLowerCase()
  return la < lb ? -1 : la > lb ? 1 : a < b ? -1 : a > b ? 1 : 0
}

const capitalised = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`
const oneLine = (text: string) => text.replace(/\s+/g, " ").trim()

/** Types the checker cannot name from where they are printed come out as `import("/abs/path").X`. */
const withoutImportPaths = (text: string) => text.replace(/import\("[^"]*"\)\./g, "")

const truncate = (text: string, max: number) => {
  if (text.length <= max) return text
  const cut = text.slice(0, max - 2)
  const at = Math.max(cut.lastIndexOf("; "), cut.lastIndexOf(", "), cut.lastIndexOf(" | "), cut.lastIndexOf(" "))
  return `${(at > max / 2 ? cut.slice(0, at) : cut).trimEnd()} …`
}

/** A code span around any text, backticks included. */
const code = (text: string) => {
  const fence = "`".repeat(Math.max(0, ...Array.from(text.matchAll(/`+/g), (m) => m[0].length)) + 1)
  return fence.length > 1 ? `${fence} ${text} ${fence}` : `\`${text}\``
}

/** Doc comment parts as Markdown: `{@link X}` becomes `X` in code, or its own text when it has one. */
const markdown = (parts: ReadonlyArray<ts.SymbolDisplayPart> | undefined): string => {
  let out = ""
  let link: { name: string; text: string } | undefined
  for (const part of parts ?? []) {
    if (part.kind === "link") {
      if (link === undefined) link = { name: "", text: "" }
      else {
        const name = link.name.trim()
        const text = link.text.trim()
        out += /^https?:/.test(name) ? `[${text || name}](${name})` : text !== "" ? text : code(name)
        link = undefined
      }
    } else if (link !== undefined) {
      if (part.kind === "linkName") link.name += part.text
      else link.text += part.text
    } else out += part.text
  }
  return out.trim()
}

const linkTags = (text: string) =>
  text.replace(
    /\{@link(?:code|plain)?\s+([^}\s|]+)(?:[\s|]+([^}]*))?\}/g,
    (_, name: string, label?: string) => label !== undefined && label.trim() !== "" ? label.trim() : code(name)
  )

/** The module header: the file's leading doc comment, when it is not the first declaration's own. */
const moduleIntro = (file: ts.SourceFile): string => {
  const comments = (ts.getLeadingCommentRanges(file.text, 0) ?? [])
    .map((range) => file.text.slice(range.pos, range.end))
    .filter((text) => text.startsWith("/**"))
  const first = file.statements[0]
  const headed = comments.length > 1 ||
    (first !== undefined && (ts.isImportDeclaration(first) || ts.isExportDeclaration(first)))
  if (comments[0] === undefined || !headed) return ""
  const body = comments[0]
    .replace(/^\/\*\*/, "")
    .replace(/\*\/$/, "")
    .split("\n")
    .map((line) => line.replace(/^\s*\* ?/, "").trimEnd())
  const tags = body.findIndex((line) => line.startsWith("@"))
  const text = (tags === -1 ? body : body.slice(0, tags)).join("\n").trim()
  // A first paragraph that ends in a colon introduces the block after it (a list of what is inside).
  const paragraphs = text.split(/\n\s*\n/)
  const count = paragraphs[0]?.endsWith(":") === true && paragraphs.length > 1 ? 2 : 1
  return linkTags(paragraphs.slice(0, count).join("\n\n"))
}

interface Doc {
  readonly description: string
  readonly tags: ReadonlyMap<string, string>
}

const docOf = (checker: ts.TypeChecker, symbol: ts.Symbol): Doc => ({
  description: markdown(symbol.getDocumentationComment(checker)),
  tags: new Map(symbol.getJsDocTags(checker).map((tag) => [tag.name, markdown(tag.text)]))
})

/** A re-export's own doc comment wins, tag by tag, over the declaration's. */
const mergedDoc = (checker: ts.TypeChecker, exported: ts.Symbol, target: ts.Symbol): Doc => {
  if (exported === target) return docOf(checker, target)
  const own = docOf(checker, exported)
  const declared = docOf(checker, target)
  return {
    description: own.description !== "" ? own.description : declared.description,
    tags: new Map([...declared.tags, ...own.tags])
  }
}

/** A member's doc under its list item: the first line after the signature, the rest indented beneath. */
const memberDoc = (description: string) =>
  description.split("\n").map((line, i) => i === 0 || line.trim() === "" ? line.trimEnd() : `  ${line}`).join("\n")

const printer = ts.createPrinter({ removeComments: true })
/** A type as written in the source, comments left out. */
const asWritten = (node: ts.TypeNode) => oneLine(printer.printNode(ts.EmitHint.Unspecified, node, node.getSourceFile()))

const isCallable = (type: ts.Type) => type.getCallSignatures().length > 0 && type.getProperties().length === 0

const hidden = (checker: ts.TypeChecker, symbol: ts.Symbol) =>
  symbol.getJsDocTags(checker).some((tag) => tag.name === "internal")

/** A property or method as `name?: Type` / `name(args): Type`, written from where it is declared. */
const memberOf = (checker: ts.TypeChecker, symbol: ts.Symbol): Member | undefined => {
  const declaration = symbol.valueDeclaration ?? symbol.declarations?.[0]
  if (declaration === undefined || hidden(checker, symbol)) return undefined
  const name = symbol.name
  const type = checker.getTypeOfSymbolAtLocation(symbol, declaration)
  const signature = symbol.flags & ts.SymbolFlags.Method
    ? type.getCallSignatures().map((sig) => `${name}${checker.signatureToString(sig, declaration, typeFlags)}`)
      .join("; ")
    : `${name}${symbol.flags & ts.SymbolFlags.Optional ? "?" : ""}: ${
      checker.typeToString(type, declaration, typeFlags)
    }`
  return {
    signature: truncate(withoutImportPaths(signature), maxMemberSignature),
    summary: memberDoc(markdown(symbol.getDocumentationComment(checker)))
  }
}

const typeParameters = (node: { readonly typeParameters?: ts.NodeArray<ts.TypeParameterDeclaration> | undefined }) =>
  node.typeParameters === undefined ? "" : `<${node.typeParameters.map((p) => oneLine(p.getText())).join(", ")}>`

/** The type literals written in a class's `extends` (a service's shape, an error's fields), outermost only. */
const literalsIn = (node: ts.Node): Array<ts.TypeLiteralNode> =>
  ts.isTypeLiteralNode(node) ? [node] : node.getChildren().flatMap(literalsIn)

const heritage = (declaration: ts.ClassDeclaration | ts.InterfaceDeclaration): string =>
  (declaration.heritageClauses ?? []).map((clause) => {
    let text = clause.getText()
    for (const literal of literalsIn(clause).toReversed()) {
      const start = literal.getStart() - clause.getStart()
      text = `${text.slice(0, start)}{ … }${text.slice(start + literal.getWidth())}`
    }
    return ` ${oneLine(text)}`
  }).join("")

const classMembers = (checker: ts.TypeChecker, declaration: ts.ClassDeclaration): Array<Member> => {
  const fromShape = (declaration.heritageClauses ?? []).flatMap(literalsIn).flatMap((literal) =>
    literal.members.flatMap((member) => {
      const symbol = member.name === undefined ? undefined : checker.getSymbolAtLocation(member.name)
      return symbol === undefined ? [] : [memberOf(checker, symbol)]
    })
  )
  const own = declaration.members.flatMap((member) => {
    const modifiers = ts.getCombinedModifierFlags(member)
    if (modifiers & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return []
    if (ts.isConstructorDeclaration(member)) {
      const signature = checker.getSignatureFromDeclaration(member)
      return signature === undefined || member.parameters.length === 0 ? [] : [{
        signature: truncate(`new ${checker.signatureToString(signature, member, typeFlags)}`, maxMemberSignature),
        summary: memberDoc(markdown(signature.getDocumentationComment(checker)))
      }]
    }
    if (member.name === undefined || ts.isPrivateIdentifier(member.name)) return []
    const symbol = checker.getSymbolAtLocation(member.name)
    const written = symbol === undefined ? undefined : memberOf(checker, symbol)
    return written === undefined ? [] : [
      modifiers & ts.ModifierFlags.Static ? { ...written, signature: `static ${written.signature}` } : written
    ]
  })
  return [...fromShape, ...own].filter((member): member is Member => member !== undefined)
}

/** What a symbol is, and its one-line signatures; a name can be a value and a type at once. */
const describe = (checker: ts.TypeChecker, name: string, target: ts.Symbol) => {
  const kinds: Array<Kind> = []
  const signatures: Array<string> = []
  const members: Array<Member> = []
  const declarations = target.declarations ?? []
  const find = <N extends ts.Declaration>(is: (node: ts.Node) => node is N) => declarations.find(is)

  const cls = find(ts.isClassDeclaration)
  const fn = find(ts.isFunctionDeclaration)
  const variable = find(ts.isVariableDeclaration)
  const iface = find(ts.isInterfaceDeclaration)
  const alias = find(ts.isTypeAliasDeclaration)
  const namespace = find(ts.isModuleDeclaration) ?? find(ts.isSourceFile)
  const enumDeclaration = find(ts.isEnumDeclaration)

  if (cls !== undefined) {
    kinds.push("class")
    signatures.push(`class ${name}${typeParameters(cls)}${heritage(cls)}`)
    members.push(...classMembers(checker, cls))
  } else if (fn !== undefined || variable !== undefined) {
    const declaration = (fn ?? variable)!
    const type = checker.getTypeOfSymbolAtLocation(target, declaration)
    if (fn !== undefined || isCallable(type)) {
      kinds.push("function")
      for (const sig of type.getCallSignatures()) {
        signatures.push(`function ${name}${checker.signatureToString(sig, declaration, typeFlags)}`)
      }
    } else {
      kinds.push("const")
      signatures.push(`const ${name}: ${checker.typeToString(type, declaration, typeFlags)}`)
    }
  } else if (enumDeclaration !== undefined) {
    kinds.push("const")
    signatures.push(`enum ${name}`)
  }
  if (iface !== undefined) {
    kinds.push("interface")
    signatures.push(`interface ${name}${typeParameters(iface)}${heritage(iface)}`)
    const type = checker.getDeclaredTypeOfSymbol(target)
    for (const property of checker.getPropertiesOfType(type)) {
      const member = memberOf(checker, property)
      if (member !== undefined) members.push(member)
    }
  } else if (alias !== undefined) {
    kinds.push("type")
    signatures.push(`type ${name}${typeParameters(alias)} = ${asWritten(alias.type).replace(/^\| /, "")}`)
  }
  if (kinds.length === 0 && namespace !== undefined) {
    kinds.push("namespace")
    signatures.push(`namespace ${name}`)
    const exports = target.exports === undefined ? [] : checker.getExportsOfModule(target)
    for (const exported of exports.toSorted((a, b) => compare(a.name, b.name))) {
      const resolved = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
      if (hidden(checker, exported) || hidden(checker, resolved)) continue
      members.push({ signature: exported.name, summary: memberDoc(mergedDoc(checker, exported, resolved).description) })
    }
  }
  return {
    kinds,
    signatures: signatures.map((line) => truncate(withoutImportPaths(oneLine(line)), maxSignature)),
    members
  }
}

/** Every public module: the namespaces `src/index.ts` re-exports, in name order. */
const load = (): Array<Module> => {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(root, "tsconfig.json"), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"))
    }
  })
  if (config === undefined) throw new Error("tsconfig.json could not be read")
  const indexPath = path.join(root, "src", "index.ts")
  const program = ts.createProgram({ rootNames: [indexPath], options: config.options })
  const checker = program.getTypeChecker()
  const index = program.getSourceFile(indexPath)
  const indexSymbol = index === undefined ? undefined : checker.getSymbolAtLocation(index)
  if (indexSymbol === undefined) throw new Error("src/index.ts is not a module")
  return checker.getExportsOfModule(indexSymbol)
    .flatMap((exported) => {
      const module = checker.getAliasedSymbol(exported)
      const file = module.declarations?.find(ts.isSourceFile)
      return file === undefined ? [] : [{ name: exported.name, module, file }]
    })
    .toSorted((a, b) => compare(a.name, b.name))
    .map(({ file, module, name }) => ({
      name,
      intro: moduleIntro(file),
      entries: checker.getExportsOfModule(module).flatMap((exported) => {
        const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
        const doc = mergedDoc(checker, exported, target)
        if (doc.tags.has("internal")) return []
        return [{
          name: exported.name,
          ...describe(checker, exported.name, target),
          description: doc.description,
          since: doc.tags.get("since"),
          deprecated: doc.tags.get("deprecated"),
          category: doc.tags.get("category")
        }]
      })
    }))
}

const preamble = [
  "# API reference",
  "",
  "<!-- Generated by `npx tsx scripts/api.ts` from the doc comments in `src/`; do not edit by hand. -->",
  "",
  "Every export of each module of `beluga-o11y`, from its doc comment. Import the modules by name from the",
  "package:",
  "",
  "```ts",
  "import { NodeRuntime } from \"@effect/platform-node\"",
  "import { ChatModel, Pipeline, Retriever, Simulated, Tracing } from \"beluga-o11y\"",
  "import * as Effect from \"effect/Effect\"",
  "",
  "const agent = (question: string) =>",
  "  Effect.gen(function*() {",
  "    const docs = yield* (yield* Retriever.Retriever).retrieve(question) // retrieval knowledge-base",
  "    const reply = yield* (yield* ChatModel.ChatModel).chat({ // chat sim-gpt-4o",
  "      messages: [{ role: \"user\", parts: [{ type: \"text\", content: question }] }],",
  "      maxTokens: 512",
  "    })",
  "    return reply.text",
  "  }).pipe(Pipeline.run(\"agent-workflow\")) // the root span",
  "",
  "agent(\"How do I get to Porto?\").pipe(",
  "  Effect.provide(Simulated.layer()), // or your own providers, see ChatModel.make",
  "  Effect.provide(Tracing.TracingLive), // the one layer",
  "  NodeRuntime.runMain // SIGINT/SIGTERM interrupt, then spans are flushed",
  ")",
  "```",
  "",
  "The guides: [configuration.md](configuration.md) (every option and `OTEL_*` variable),",
  "[agents.md](agents.md) (identity, cost, evaluations, redaction), [providers.md](providers.md) (OpenAI Chat",
  "Completions and Responses, Anthropic, Gemini, Bedrock), [effect-ai.md](effect-ai.md), [metrics.md](metrics.md),",
  "[distributed-tracing.md](distributed-tracing.md) and [attributes.md](attributes.md) (what the spans carry).",
  ""
]

/** The page, unformatted: dprint (see {@link render}) has the last word on its layout. */
const markdownOf = (modules: ReadonlyArray<Module>): string => {
  const lines = [...preamble, `Modules: ${modules.map((m) => `[${m.name}](#${m.name.toLowerCase()})`).join(", ")}.`, ""]
  for (const module of modules) {
    lines.push(`## ${module.name}`, "")
    if (module.intro !== "") lines.push(module.intro, "")
    const categories = [...new Set(module.entries.map((entry) => entry.category))].toSorted((a, b) =>
      a === undefined ? 1 : b === undefined ? -1 : compare(a, b)
    )
    for (const category of categories) {
      lines.push(`### ${capitalised(category ?? "other")}`, "")
      const entries = module.entries.filter((entry) => entry.category === category)
      for (const entry of entries.toSorted((a, b) => compare(a.name, b.name))) {
        lines.push(`#### \`${module.name}.${entry.name}\``, "")
        if (entry.signatures.length === 1) lines.push(code(entry.signatures[0]!), "")
        else if (entry.signatures.length > 1) lines.push(...entry.signatures.map((s) => `- ${code(s)}`), "")
        if (entry.deprecated !== undefined) {
          lines.push(`**Deprecated:** ${entry.deprecated === "" ? "do not use in new code." : entry.deprecated}`, "")
        }
        if (entry.description !== "") lines.push(entry.description, "")
        if (entry.members.length > 0) {
          lines.push(
            ...entry.members.map((member) =>
              `- ${code(member.signature)}${member.summary === "" ? "" : ` — ${member.summary}`}`
            ),
            ""
          )
        }
        lines.push(
          `${capitalised(entry.kinds.join(" and "))}${entry.since === undefined ? "" : `, since ${entry.since}`}.`,
          ""
        )
      }
    }
  }
  return lines.join("\n")
}

/** Formats Markdown as `npx dprint fmt` would (the code blocks in doc comments included). */
const dprint = (text: string): string =>
  execFileSync(path.join(root, "node_modules", ".bin", "dprint"), ["fmt", "--stdin", "docs/api.md"], {
    cwd: root,
    input: text,
    encoding: "utf8",
    stdio: ["pipe", "pipe", "pipe"],
    maxBuffer: 64 * 1024 * 1024
  })

/** docs/api.md as the doc comments in `src/` make it. */
export const render = (): string => dprint(markdownOf(load()))

const main = () => {
  const out = path.join(root, "docs", "api.md")
  const text = render()
  if (process.argv.includes("--check")) {
    const current = fs.existsSync(out) ? fs.readFileSync(out, "utf8") : ""
    if (current !== text) {
      console.error("docs/api.md is out of date: run npx tsx scripts/api.ts")
      process.exit(1)
    }
    return
  }
  fs.writeFileSync(out, text)
  console.log(`wrote ${path.relative(root, out)}`)
}

if (import.meta.filename === process.argv[1]) main()
