// Runs LangGraph's checkpointer validation suite (@langchain/langgraph-checkpoint-validation) against our saver.
//
//   node test/langgraph/validation/run.mjs postgres mariadb sqlite-node
//   bun --bun test/langgraph/validation/run.mjs sqlite-bun
//
// The suite is written for vitest 4 and brings it along (nested under its own package); our own tests run on
// vitest 3. So it runs here, in vitest 4's own runner with no config file (ours is not read), on the
// *.validation.ts files of this folder. Its CLI (validate-checkpointer 1.1.1) cannot be used: its initializer check
// calls a schema its build left out. The run fails if any test fails, if any is skipped, or if none ran.
import { createRequire } from "node:module"
import * as Path from "node:path"
import * as Url from "node:url"

const here = Path.dirname(Url.fileURLToPath(import.meta.url))
const targets = process.argv.slice(2)
const known = ["postgres", "mariadb", "sqlite-node", "sqlite-bun"]
if (targets.length === 0 || targets.some((target) => !known.includes(target))) {
  console.error(`usage: run.mjs <target>... (targets: ${known.join(", ")})`)
  process.exit(2)
}

const validationPackage = createRequire(import.meta.url).resolve("@langchain/langgraph-checkpoint-validation/package.json")
const { startVitest } = await import(createRequire(validationPackage).resolve("vitest/node"))

const vitest = await startVitest("test", [], {
  config: false,
  root: here,
  include: targets.map((target) => `${target}.validation.ts`),
  globals: true,
  watch: false,
  testTimeout: 60_000,
  hookTimeout: 120_000,
  // One target at a time: each creates a database per checkpointer on a shared server.
  fileParallelism: false
})

const counts = { passed: 0, failed: 0, skipped: 0 }
const visit = (task) => {
  if (task.type === "test") {
    const state = task.result?.state
    if (task.mode === "skip" || task.mode === "todo" || state === "skip") counts.skipped += 1
    else if (state === "pass") counts.passed += 1
    else counts.failed += 1
  }
  for (const child of task.tasks ?? []) visit(child)
}
for (const file of vitest.state.getFiles()) {
  if (file.result?.state === "fail" && (file.tasks ?? []).length === 0) counts.failed += 1
  visit(file)
}
await vitest.close()

const runtime = typeof process.versions.bun === "string" ? `Bun ${process.versions.bun}` : `Node.js ${process.version}`
console.log(
  `LangGraph checkpointer validation on ${targets.join(", ")} (${runtime}): ` +
    `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`
)
process.exit(counts.failed === 0 && counts.skipped === 0 && counts.passed > 0 ? 0 : 1)
