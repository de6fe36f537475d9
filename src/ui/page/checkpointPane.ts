/**
 * The right-hand pane of a session: one checkpoint's state as a tree, or the differences between two checkpoints.
 */
import type { CheckpointDetail } from "../InspectorTypes.js"
import { diffJson, type JsonDifference } from "./diffJson.js"
import { h } from "./dom.js"
import { formatBytes, formatClock, formatTime } from "./format.js"
import { jsonTree } from "./jsonTree.js"

const MAX_VALUE_CHARS = 600

/** A value in one line of JSON, cut where it would flood the page (the title holds up to 10 times more). */
const compactJson = (value: unknown): { readonly text: string; readonly full: string } => {
  const full = JSON.stringify(value) ?? String(value)
  return { text: full.length > MAX_VALUE_CHARS ? `${full.slice(0, MAX_VALUE_CHARS)}…` : full, full }
}

const fact = (label: string, value: string | Node, title?: string): HTMLElement =>
  h(
    "div",
    { class: "fact" },
    h("dt", { text: label }),
    h("dd", title === undefined ? undefined : { attrs: { title } }, value)
  )

/** A checkpoint's facts and its state; `onCompareWithParent` is offered when it has a parent. */
export const checkpointPane = (
  checkpoint: CheckpointDetail,
  actions: { readonly onCompareWithParent?: (() => void) | undefined; readonly onSelect: (id: string) => void }
): HTMLElement => {
  const parent = checkpoint.parentId === null ?
    h("span", { class: "muted", text: "none (starts a history)" }) :
    h("button", {
      class: "link mono",
      text: checkpoint.parentId,
      attrs: { type: "button", title: "Show the parent checkpoint" }
    })
  if (checkpoint.parentId !== null) {
    const parentId = checkpoint.parentId
    parent.addEventListener("click", () => actions.onSelect(parentId))
  }
  const compare = actions.onCompareWithParent === undefined ? null : h("button", {
    class: "button",
    text: "Compare with parent",
    attrs: { type: "button" }
  })
  if (compare !== null && actions.onCompareWithParent !== undefined) {
    compare.addEventListener("click", actions.onCompareWithParent)
  }
  return h(
    "section",
    { class: "pane checkpoint-pane", attrs: { "aria-label": "Checkpoint" } },
    h(
      "header",
      { class: "pane-header" },
      h("div", undefined, h("h2", { class: "pane-title", text: checkpoint.name === "" ? "(unnamed)" : checkpoint.name })),
      compare
    ),
    h(
      "dl",
      { class: "facts" },
      fact("Id", h("span", { class: "mono", text: checkpoint.id })),
      fact("Created", formatTime(checkpoint.createdAt)),
      fact("Size", formatBytes(checkpoint.stateBytes)),
      checkpoint.agentId === undefined ? null : fact("Agent", `${checkpoint.agentId} (${checkpoint.agentType ?? "?"})`),
      fact("Parent", parent)
    ),
    h("h3", { class: "section-title", text: "State" }),
    jsonTree(checkpoint.state, { openDepth: 2 })
  )
}

const KIND_SIGN: Record<JsonDifference["kind"], string> = { added: "+", removed: "−", changed: "~" }

const valueCell = (label: string, value: unknown, className: string): HTMLElement => {
  const json = compactJson(value)
  return h(
    "div",
    { class: `diff-value ${className}` },
    h("span", { class: "diff-value-label", text: label }),
    h("code", { attrs: { title: json.full.slice(0, MAX_VALUE_CHARS * 10) }, text: json.text })
  )
}

const INLINE_CHARS = 40

// A change of two short values reads best on one line (`150 → 90`); longer ones get a line each.
const differenceValues = (difference: JsonDifference): ReadonlyArray<HTMLElement> => {
  if (difference.kind === "added") return [valueCell("after", difference.after, "is-after")]
  if (difference.kind === "removed") return [valueCell("before", difference.before, "is-before")]
  const before = compactJson(difference.before)
  const after = compactJson(difference.after)
  if (before.full.length > INLINE_CHARS || after.full.length > INLINE_CHARS) {
    return [valueCell("before", difference.before, "is-before"), valueCell("after", difference.after, "is-after")]
  }
  return [
    h(
      "div",
      { class: "diff-value is-inline" },
      h("code", { class: "is-before", text: before.text }),
      h("span", { class: "diff-arrow", text: "→" }),
      h("code", { class: "is-after", text: after.text })
    )
  ]
}

const differenceRow = (difference: JsonDifference): HTMLElement =>
  h(
    "li",
    { class: `diff-row diff-${difference.kind}`, attrs: { "data-path": difference.path } },
    h(
      "div",
      { class: "diff-head" },
      h("span", { class: "diff-sign", text: KIND_SIGN[difference.kind], attrs: { "aria-label": difference.kind } }),
      h("code", { class: "diff-path", text: difference.path })
    ),
    ...differenceValues(difference)
  )

/** The differences from `older` to `newer`, counted by kind, one row per path. */
export const diffPane = (older: CheckpointDetail, newer: CheckpointDetail, onClose: () => void): HTMLElement => {
  const differences = diffJson(older.state, newer.state)
  const count = (kind: JsonDifference["kind"]) => differences.filter((d) => d.kind === kind).length
  const close = h("button", { class: "button", text: "Close diff", attrs: { type: "button" } })
  close.addEventListener("click", onClose)
  const side = (label: string, checkpoint: CheckpointDetail) =>
    h(
      "div",
      { class: "diff-side" },
      h("span", { class: "diff-side-label", text: label }),
      h("strong", { text: checkpoint.name === "" ? "(unnamed)" : checkpoint.name }),
      h("span", { class: "muted", text: formatClock(checkpoint.createdAt), attrs: { title: formatTime(checkpoint.createdAt) } })
    )
  return h(
    "section",
    { class: "pane diff-pane", attrs: { "aria-label": "Diff" } },
    h(
      "header",
      { class: "pane-header" },
      h("div", undefined, h("h2", { class: "pane-title", text: "Diff" })),
      close
    ),
    h("div", { class: "diff-sides" }, side("from", older), h("span", { class: "diff-arrow", text: "→" }), side("to", newer)),
    h(
      "div",
      { class: "diff-counts" },
      h("span", { class: "badge count-added", text: `+${count("added")} added` }),
      h("span", { class: "badge count-removed", text: `−${count("removed")} removed` }),
      h("span", { class: "badge count-changed", text: `~${count("changed")} changed` })
    ),
    differences.length === 0 ?
      h("p", { class: "empty", text: "The two states are identical." }) :
      h("ol", { class: "diff-list" }, ...differences.map(differenceRow))
  )
}
