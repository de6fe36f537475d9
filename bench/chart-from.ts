/**
 * Redraws the chart from saved results: `vite-node bench/chart-from.ts -- full.json [later.json …] [--out docs/bench.svg]`.
 * A later file replaces the sections it has (for example a re-run of `--only scaling`).
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { renderChart } from "./chart.js"
import type { BenchResults } from "./run.js"

const args = process.argv.slice(2).filter((arg) => arg !== "--")
const outIndex = args.indexOf("--out")
const out = outIndex >= 0 ? args[outIndex + 1]! : Path.join(import.meta.dirname, "..", "docs", "bench.svg")
const files = args.filter((arg, index) => arg !== "--out" && index !== outIndex + 1 || outIndex < 0 && arg !== "--out")
let merged: BenchResults | undefined
for (const file of files) {
  const results = JSON.parse(Fs.readFileSync(file, "utf8")) as BenchResults
  if (merged === undefined) {
    merged = results
    continue
  }
  for (const section of ["throughput", "scaling", "memory", "startup"] as const) {
    if (results[section].length > 0) (merged as Record<string, unknown>)[section] = results[section]
  }
  if (results.scaling.length > 0) merged.options = { ...merged.options, scales: results.options.scales }
}
if (merged === undefined) throw new Error("usage: chart-from.ts results.json [more.json …] [--out file.svg]")
Fs.writeFileSync(out, renderChart(merged))
console.log(`chart: ${out}`)
