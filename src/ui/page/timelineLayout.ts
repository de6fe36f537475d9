/**
 * Where each checkpoint of a timeline sits in its graph: one row per checkpoint (the timeline's order, oldest first)
 * and a column per branch, so that a fork (two checkpoints continuing one parent) shows as a branch beside the line it
 * left. Pure (no DOM), so that it is unit-tested under Node; the view turns it into SVG.
 */

/** What the layout needs of a checkpoint. */
export interface LayoutInput {
  readonly id: string
  readonly parentId: string | null
}

export interface LayoutNode {
  readonly id: string
  readonly row: number
  readonly column: number
  /** More than one checkpoint continues this one. */
  readonly isFork: boolean
  /** It names a parent that is not in this timeline (another session's checkpoint, or one deleted or not shown). */
  readonly parentMissing: boolean
}

export interface LayoutEdge {
  readonly fromId: string
  readonly toId: string
  readonly fromRow: number
  readonly fromColumn: number
  readonly toRow: number
  readonly toColumn: number
}

export interface TimelineLayout {
  readonly nodes: ReadonlyArray<LayoutNode>
  readonly edges: ReadonlyArray<LayoutEdge>
  /** How many columns the graph needs (at least 1). */
  readonly columns: number
}

interface Branch {
  /** The row its column is taken from: its parent's row when it forks off, else its first checkpoint's. */
  readonly start: number
  end: number
  column: number
}

/**
 * Lays out a timeline. A checkpoint stays in its parent's column when it is the parent's first child (the line goes
 * on); a later child starts a branch. Branches get columns greedily by the rows they span, so a branch that has ended
 * gives its column to the next one and the graph stays narrow.
 *
 * @example
 * layoutTimeline([{ id: "a", parentId: null }, { id: "b", parentId: "a" }, { id: "c", parentId: "a" }])
 * // a and b in column 0, c in column 1; edges a→b, a→c; a.isFork
 */
export const layoutTimeline = (entries: ReadonlyArray<LayoutInput>): TimelineLayout => {
  const rowOf = new Map<string, number>()
  entries.forEach((entry, row) => {
    if (!rowOf.has(entry.id)) rowOf.set(entry.id, row)
  })
  const children = new Map<string, number>()
  const branchOfRow: Array<Branch> = []
  const branches: Array<Branch> = []
  entries.forEach((entry, row) => {
    const parentRow = entry.parentId === null ? undefined : rowOf.get(entry.parentId)
    // A parent listed after its child (clock skew between writers) is treated as missing: lines only go downwards.
    const parentInView = parentRow !== undefined && parentRow < row ? parentRow : undefined
    const siblingsBefore = entry.parentId === null ? 0 : children.get(entry.parentId) ?? 0
    if (entry.parentId !== null && parentInView !== undefined) children.set(entry.parentId, siblingsBefore + 1)
    const parentBranch = parentInView === undefined ? undefined : branchOfRow[parentInView]
    if (parentBranch !== undefined && siblingsBefore === 0 && parentBranch.end === parentInView) {
      parentBranch.end = row
      branchOfRow[row] = parentBranch
    } else {
      const branch: Branch = { start: parentInView ?? row, end: row, column: 0 }
      branches.push(branch)
      branchOfRow[row] = branch
    }
  })
  // Interval colouring in order of start row: the lowest column free again before this branch starts.
  const columnEnds: Array<number> = []
  for (const branch of [...branches].sort((x, y) => x.start - y.start)) {
    let column = columnEnds.findIndex((end) => end < branch.start)
    if (column === -1) column = columnEnds.length
    columnEnds[column] = branch.end
    branch.column = column
  }
  const nodes: Array<LayoutNode> = entries.map((entry, row) => {
    const parentRow = entry.parentId === null ? undefined : rowOf.get(entry.parentId)
    return {
      id: entry.id,
      row,
      column: branchOfRow[row]?.column ?? 0,
      isFork: (children.get(entry.id) ?? 0) > 1 && rowOf.get(entry.id) === row,
      parentMissing: entry.parentId !== null && (parentRow === undefined || parentRow >= row)
    }
  })
  const edges: Array<LayoutEdge> = []
  for (const node of nodes) {
    const parentId = entries[node.row]?.parentId ?? null
    if (parentId === null || node.parentMissing) continue
    const parent = nodes[rowOf.get(parentId) ?? -1]
    if (parent === undefined) continue
    edges.push({
      fromId: parent.id,
      toId: node.id,
      fromRow: parent.row,
      fromColumn: parent.column,
      toRow: node.row,
      toColumn: node.column
    })
  }
  return { nodes, edges, columns: Math.max(1, columnEnds.length) }
}
