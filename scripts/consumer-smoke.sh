#!/usr/bin/env bash
# The package as a user gets it. Packs the library, lints the tarball with publint and
# @arethetypeswrong/cli, then, for each way a user installs it (the tarball, a git URL, a path), makes
# a fresh project that installs it with its peers, type-checks a short program under
# `moduleResolution` `nodenext` and `bundler`, and runs it: it must print its trace.
#
#   bash scripts/consumer-smoke.sh            # every install
#   bash scripts/consumer-smoke.sh tarball    # some of: tarball git path path-packed
#
# The git install clones the committed HEAD (uncommitted changes are not in it) and runs the
# package's `prepare` (the build), as npm does for any git dependency. A plain path install is a
# symlink to this folder, whose own node_modules hold the dev copies of the peers: it runs, but the
# library then loads those copies (reported below); `npm install --install-links <path>`
# (path-packed) installs it like a tarball, with the app's copies.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/node_modules/.bin
# The project's own Node 24 (the `node` dev dependency) and npm on PATH, as `npm run` would put them.
export PATH="$bin:$PATH"
modes=("${@:-tarball git path path-packed}")
read -r -a modes <<<"${modes[*]}"

work=$(mktemp -d "${TMPDIR:-/tmp}/beluga-consumer.XXXXXX")
trap 'rm -rf "$work"' EXIT

step() { printf '\n--- %s\n' "$*"; }

step "pack and lint the tarball"
(cd "$root" && npm pack --silent --pack-destination "$work" >/dev/null)
tarball=$(ls "$work"/beluga-o11y-*.tgz)
publint "$tarball" --strict
# ESM-only on purpose (Effect 4 and this library are ESM): CommonJS `require` is out of scope.
attw "$tarball" --profile esm-only

# The peers by their ranges; with `installed`, at the versions this folder's node_modules hold. A
# plain path link loads the library's types against those copies, so an app on a newer release of
# a peer would see two copies of its types: a user linking a checkout matches its versions.
peers() {
  node -e '
    const path = require("node:path")
    const [file, mode] = process.argv.slice(1)
    const pkg = require(file)
    const version = (name) => require(path.join(path.dirname(file), "node_modules", name, "package.json")).version
    console.log(Object.entries(pkg.peerDependencies)
      .map(([name, range]) => `${name}@${mode === "installed" ? version(name) : range}`).join(" "))
  ' "$root/package.json" "${1:-}"
}

# A quickstart as a user writes it: the public API only, imported by the package name.
write_program() {
  cat >"$1/main.ts" <<'EOF'
import { Effect, Stream } from "effect"
import { ChatModel, Pipeline, Simulated, Tracing } from "beluga-o11y"

const program = Effect.gen(function*() {
  const model = yield* ChatModel.ChatModel
  const reply = yield* model.chat({ messages: [{ role: "user", parts: [{ type: "text", content: "Hello?" }] }] })
  const streamed = yield* ChatModel.collect(model.stream({ messages: [{ role: "user", parts: [{ type: "text", content: "Again?" }] }] }))
  const words: number = reply.text.split(" ").length + streamed.text.split(" ").length
  yield* Stream.make(words).pipe(Stream.runDrain)
}).pipe(Pipeline.run("agent-workflow"))

await Effect.runPromise(program.pipe(
  Effect.provide(Simulated.layer({ latency: 0 })),
  // No collector here: the export fails with one line, the tree still prints.
  Effect.provide(Tracing.layer({ serviceName: "consumer", printTraces: true, endpoint: "http://127.0.0.1:9" }))
))
EOF
}

tsconfig() {
  local dir=$1 module=$2 resolution=$3
  cat >"$dir/tsconfig.$resolution.json" <<EOF
{
  "compilerOptions": {
    "strict": true,
    "target": "es2022",
    "module": "$module",
    "moduleResolution": "$resolution",
    "noEmit": true,
    "allowImportingTsExtensions": true,
    "skipLibCheck": false,
    "types": []
  },
  "files": ["main.ts"]
}
EOF
}

for mode in "${modes[@]}"; do
  step "install from a $mode"
  app=$work/app-$mode
  mkdir -p "$app"
  printf '{ "name": "consumer-%s", "private": true, "type": "module" }\n' "$mode" >"$app/package.json"
  case $mode in
    tarball) source=$tarball ;;
    git) source="git+file://$root" ;;
    path | path-packed) source=$root ;;
    *) echo "unknown mode $mode (tarball, git, path, path-packed)" >&2; exit 2 ;;
  esac
  flags=()
  [ "$mode" = path-packed ] && flags=(--install-links)
  peerMode=ranges
  [ "$mode" = path ] && peerMode=installed
  # shellcheck disable=SC2046
  (cd "$app" && npm install --no-audit --no-fund --loglevel=error "${flags[@]}" "$source" $(peers $peerMode) typescript@~5.9.3 >/dev/null)
  write_program "$app"
  tsconfig "$app" nodenext nodenext
  tsconfig "$app" esnext bundler
  (cd "$app" && tsc -p tsconfig.nodenext.json && tsc -p tsconfig.bundler.json)
  echo "type-checks under nodenext and bundler"
  out=$(cd "$app" && node main.ts 2>&1)
  printf '%s\n' "$out"
  grep -q "^agent-workflow" <<<"$out" || { echo "consumer ($mode) printed no trace" >&2; exit 1; }
  grep -q "chat sim-gpt-4o" <<<"$out" || { echo "consumer ($mode) traced no chat span" >&2; exit 1; }
  # One copy of each shared package, or the app's services and spans would not be the library's.
  for shared in effect @opentelemetry/api; do
    copies=$(cd "$app" && find -L . -path "*/node_modules/$shared/package.json" 2>/dev/null | wc -l)
    if [ "$mode" = path ]; then
      echo "linked from a path: $copies copies of $shared reachable (the library resolves this folder's own)"
    else
      [ "$copies" -eq 1 ] || { echo "consumer ($mode): $copies copies of $shared" >&2; exit 1; }
      echo "one copy of $shared"
    fi
  done
done
echo
echo "consumer smoke test passed: ${modes[*]}"
