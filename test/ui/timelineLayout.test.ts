import { describe, expect, it } from "vitest"
import { layoutTimeline } from "../../src/ui/page/timelineLayout.js"

const at = (layout: ReturnType<typeof layoutTimeline>) =>
  Object.fromEntries(layout.nodes.map((n) => [n.id, [n.row, n.column]]))

describe("layoutTimeline", () => {
  it("puts a straight history in one column, one row per checkpoint, an edge per parent", () => {
    const layout = layoutTimeline([
      { id: "a", parentId: null },
      { id: "b", parentId: "a" },
      { id: "c", parentId: "b" }
    ])
    expect(at(layout)).toEqual({ a: [0, 0], b: [1, 0], c: [2, 0] })
    expect(layout.columns).toBe(1)
    expect(layout.edges.map((e) => `${e.fromId}>${e.toId}`)).toEqual(["a>b", "b>c"])
    expect(layout.nodes.some((n) => n.isFork)).toBe(false)
  })

  it("draws a fork as a branch in its own column, beside the line it left", () => {
    const layout = layoutTimeline([
      { id: "a", parentId: null },
      { id: "b", parentId: "a" },
      { id: "c", parentId: "b" },
      { id: "x", parentId: "b" },
      { id: "d", parentId: "c" },
      { id: "y", parentId: "x" }
    ])
    expect(at(layout)).toEqual({ a: [0, 0], b: [1, 0], c: [2, 0], x: [3, 1], d: [4, 0], y: [5, 1] })
    expect(layout.columns).toBe(2)
    expect(layout.nodes.filter((n) => n.isFork).map((n) => n.id)).toEqual(["b"])
    expect(layout.edges).toContainEqual({ fromId: "b", toId: "x", fromRow: 1, fromColumn: 0, toRow: 3, toColumn: 1 })
  })

  it("gives a column back once its branch has ended", () => {
    const layout = layoutTimeline([
      { id: "a", parentId: null },
      { id: "b", parentId: "a" },
      { id: "x", parentId: "a" },
      { id: "c", parentId: "b" },
      { id: "y", parentId: "c" },
      { id: "d", parentId: "c" }
    ])
    // x's branch ends at row 2; d forks from c (row 3) later, so it can reuse column 1.
    expect(at(layout)).toEqual({ a: [0, 0], b: [1, 0], x: [2, 1], c: [3, 0], y: [4, 0], d: [5, 1] })
    expect(layout.columns).toBe(2)
  })

  it("marks a checkpoint whose parent is not in the timeline, and draws no edge for it", () => {
    const layout = layoutTimeline([
      { id: "a", parentId: "elsewhere" },
      { id: "b", parentId: "a" },
      { id: "c", parentId: null }
    ])
    expect(layout.nodes.map((n) => n.parentMissing)).toEqual([true, false, false])
    expect(layout.edges.map((e) => `${e.fromId}>${e.toId}`)).toEqual(["a>b"])
    // c starts a history of its own: a new branch, in a free column.
    expect(at(layout)).toEqual({ a: [0, 0], b: [1, 0], c: [2, 0] })
  })

  it("lays out an empty timeline", () => {
    expect(layoutTimeline([])).toEqual({ nodes: [], edges: [], columns: 1 })
  })
})
