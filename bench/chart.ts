/**
 * The benchmark's chart as a self-contained SVG: throughput ratios (ours ÷ raw driver, and ours ÷ the bare SqlClient of
 * the same layer where it ran) and scaling curves.
 */
import type { BenchResults } from "./run.js"

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
const DB_LABEL: Record<string, string> = { pg: "PostgreSQL", mysql: "MariaDB", sqlite: "SQLite" }

export const renderChart = (results: BenchResults): string => {
  const parts: Array<string> = []
  const width = 1400
  // --- Ratios ---
  const bars = results.throughput.filter((row) => row.ratio.effect !== undefined)
  const barHeight = 13
  const left = 260
  const plotWidth = 300
  const maxRatio = Math.max(4, ...bars.map((row) => Math.max(row.ratio.effect ?? 0, row.ratio.promise ?? 0)))
  const x = (ratio: number) => left + (Math.min(ratio, maxRatio) / maxRatio) * plotWidth
  const ratioHeight = 60 + bars.length * (barHeight * 2 + 4)
  // The second column: ours ÷ bare SqlClient (one caller), from 0 to 1.5, the floors 0.85 and 0.90 marked.
  const bareLeft = 620
  const bareWidth = 200
  const bareMax = 1.5
  const bx = (ratio: number) => bareLeft + (Math.min(ratio, bareMax) / bareMax) * bareWidth
  parts.push(`<text x="10" y="20" font-size="14" font-weight="bold">Throughput: ours ÷ raw driver, and ÷ bare SqlClient (same run, median of interleaved rounds)</text>`)
  parts.push(`<text x="${left}" y="30" font-size="10" fill="#555">÷ raw driver</text>`)
  parts.push(`<text x="${bareLeft}" y="30" font-size="10" fill="#555">÷ bare SqlClient of the same layer (floors 0.90 / 0.85)</text>`)
  for (const mark of [0.85, 0.9, 1]) {
    parts.push(`<line x1="${bx(mark)}" y1="48" x2="${bx(mark)}" y2="${ratioHeight - 6}" stroke="#999" stroke-dasharray="3,3"/>`)
    parts.push(`<text x="${bx(mark)}" y="${ratioHeight + 6 + (mark === 0.9 ? 9 : 0)}" font-size="9" text-anchor="middle">${mark}×</text>`)
  }
  parts.push(`<rect x="${left}" y="34" width="10" height="8" fill="${COLORS[0]}"/><text x="${left + 14}" y="42" font-size="10">Effect API</text>`)
  parts.push(`<rect x="${left + 90}" y="34" width="10" height="8" fill="${COLORS[1]}"/><text x="${left + 104}" y="42" font-size="10">Promise facade</text>`)
  for (const mark of [0.5, 0.8, 1, 2.5]) {
    if (mark > maxRatio) continue
    parts.push(`<line x1="${x(mark)}" y1="48" x2="${x(mark)}" y2="${ratioHeight - 6}" stroke="#999" stroke-dasharray="3,3"/>`)
    parts.push(`<text x="${x(mark)}" y="${ratioHeight + 6}" font-size="9" text-anchor="middle">${mark}×</text>`)
  }
  bars.forEach((row, index) => {
    const y = 52 + index * (barHeight * 2 + 4)
    const label = `${DB_LABEL[row.db]} ${row.op} ${row.size} ×${row.callers}`
    parts.push(`<text x="${left - 6}" y="${y + barHeight + 3}" font-size="10" text-anchor="end">${escape(label)}</text>`)
    ;(["effect", "promise"] as const).forEach((side, k) => {
      const ratio = row.ratio[side]
      if (ratio === undefined) return
      parts.push(`<rect x="${left}" y="${y + k * barHeight}" width="${Math.max(1, x(ratio) - left)}" height="${barHeight - 2}" fill="${COLORS[k]}"/>`)
      parts.push(`<text x="${x(ratio) + 3}" y="${y + k * barHeight + 9}" font-size="9">${ratio.toFixed(2)}</text>`)
      const toBare = row.ratioToBare?.[side]
      if (toBare === undefined) return
      parts.push(`<rect x="${bareLeft}" y="${y + k * barHeight}" width="${Math.max(1, bx(toBare) - bareLeft)}" height="${barHeight - 2}" fill="${COLORS[k]}"/>`)
      parts.push(`<text x="${bx(toBare) + 3}" y="${y + k * barHeight + 9}" font-size="9">${toBare.toFixed(2)}</text>`)
    })
  })
  // --- Scaling ---
  const dbs = [...new Set(results.scaling.map((row) => row.db))]
  const panelWidth = 150
  const panelHeight = 150
  const top = 60
  const scalingLeft = 900
  parts.push(`<text x="${scalingLeft}" y="20" font-size="14" font-weight="bold">Scaling: µs per call by rows in the table (Effect API)</text>`)
  const ops = ["retrieve", "latest", "listPage", "deepPage"]
  ops.forEach((op, k) =>
    parts.push(`<rect x="${scalingLeft + k * 90}" y="34" width="10" height="8" fill="${COLORS[k]}"/><text x="${scalingLeft + 14 + k * 90}" y="42" font-size="10">${op}</text>`)
  )
  dbs.forEach((db, panel) => {
    const rows = results.scaling.filter((row) => row.db === db && row.side === "effect")
    const scales = results.options.scales
    const maxMicros = Math.max(1, ...rows.flatMap((row) => Object.values(row.micros))) * 1.15
    const px = scalingLeft + 30 + panel * (panelWidth + 10)
    const sx = (index: number) => px + (index / Math.max(1, scales.length - 1)) * (panelWidth - 40)
    const sy = (micros: number) => top + panelHeight - (micros / maxMicros) * panelHeight
    parts.push(`<text x="${px + (panelWidth - 40) / 2}" y="${top - 4}" font-size="11" text-anchor="middle">${DB_LABEL[db]}</text>`)
    parts.push(`<line x1="${px}" y1="${top}" x2="${px}" y2="${top + panelHeight}" stroke="#333"/>`)
    parts.push(`<line x1="${px}" y1="${top + panelHeight}" x2="${px + panelWidth - 40}" y2="${top + panelHeight}" stroke="#333"/>`)
    parts.push(`<text x="${px - 3}" y="${top + 8}" font-size="9" text-anchor="end">${Math.round(maxMicros)}</text>`)
    parts.push(`<text x="${px - 3}" y="${top + panelHeight}" font-size="9" text-anchor="end">0</text>`)
    scales.forEach((n, index) =>
      parts.push(`<text x="${sx(index)}" y="${top + panelHeight + 12}" font-size="9" text-anchor="middle">${n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`}</text>`)
    )
    rows.forEach((row) => {
      const color = COLORS[ops.indexOf(row.op)] ?? "#000"
      const points = scales.map((n, index) => `${sx(index)},${sy(row.micros[n] ?? 0)}`).join(" ")
      parts.push(`<polyline points="${points}" fill="none" stroke="${color}" stroke-width="1.5"/>`)
    })
  })
  const m = results.machine
  const height = Math.max(ratioHeight + 40, top + panelHeight + 40)
  parts.push(`<text x="10" y="${height - 6}" font-size="10" fill="#555">${escape(`${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; ${m.runtime}; ${Object.values(m.databases).join(", ")}; ${results.startedAt}`)}</text>`)
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${parts.join("\n")}
</svg>
`
}
