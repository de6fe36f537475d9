/**
 * The SVG of a timeline's lineage: a dot per checkpoint, a line to its parent, a branch per fork. Rows line up with
 * the timeline's list, which has the same fixed row height (inspector.css `--row`).
 */
import { svg } from "./dom.js"
import type { TimelineLayout } from "./timelineLayout.js"

/** Row height in pixels; keep equal to `--row` in inspector.css. */
export const ROW_HEIGHT = 48
const COLUMN_WIDTH = 18
const MARGIN = 14

const x = (column: number): number => MARGIN + column * COLUMN_WIDTH
const y = (row: number): number => row * ROW_HEIGHT + ROW_HEIGHT / 2

const lane = (column: number): string => `lane-${column % 6}`

/** The graph of a layout, the active checkpoint and the two being compared marked. */
export const timelineGraph = (
  layout: TimelineLayout,
  options: { readonly active?: string | undefined; readonly compared: ReadonlySet<string> }
): SVGSVGElement => {
  const width = MARGIN * 2 + (layout.columns - 1) * COLUMN_WIDTH
  const height = Math.max(1, layout.nodes.length) * ROW_HEIGHT
  const root = svg("svg", {
    class: "tl-graph",
    attrs: { width: String(width), height: String(height), viewBox: `0 0 ${width} ${height}`, "aria-hidden": "true" }
  })
  for (const edge of layout.edges) {
    const fx = x(edge.fromColumn)
    const fy = y(edge.fromRow)
    const tx = x(edge.toColumn)
    const ty = y(edge.toRow)
    // A branch leaves its parent in a curve within one row, then runs straight down its own column.
    const d = fx === tx
      ? `M ${fx} ${fy} L ${tx} ${ty}`
      : `M ${fx} ${fy} C ${fx} ${fy + ROW_HEIGHT * 0.6} ${tx} ${fy + ROW_HEIGHT * 0.3} ${tx} ${fy + ROW_HEIGHT} L ${tx} ${ty}`
    root.appendChild(svg("path", { class: `tl-edge ${lane(edge.toColumn)}`, attrs: { d } }))
  }
  for (const node of layout.nodes) {
    const cx = x(node.column)
    const cy = y(node.row)
    if (node.parentMissing) {
      // Its parent is elsewhere (another session, or not shown): a dashed stub says the line continues.
      root.appendChild(
        svg("line", {
          class: `tl-stub ${lane(node.column)}`,
          attrs: { x1: String(cx), y1: String(cy - ROW_HEIGHT / 2), x2: String(cx), y2: String(cy) }
        })
      )
    }
    const classes = ["tl-node", lane(node.column)]
    if (node.isFork) classes.push("is-fork")
    if (node.id === options.active) classes.push("is-active")
    if (options.compared.has(node.id)) classes.push("is-compared")
    if (node.isFork) {
      root.appendChild(
        svg("circle", { class: `tl-fork-ring ${lane(node.column)}`, attrs: { cx: String(cx), cy: String(cy), r: "9" } })
      )
    }
    root.appendChild(
      svg("circle", {
        class: classes.join(" "),
        attrs: { cx: String(cx), cy: String(cy), r: node.id === options.active ? "6" : "5", "data-id": node.id }
      })
    )
  }
  return root
}
