#!/usr/bin/env node
/**
 * The `beluga-o11y` command (`view`, `report`): see docs/viewer.md. Kept apart from the library's
 * modules, which never load the viewer.
 */
import { main } from "./internal/viewer/cli.ts"

process.exitCode = await main(process.argv.slice(2))
