/**
 * A JSON value as a collapsible tree: objects and arrays are `<details>` (keyboard- and screen-reader-friendly, and
 * no script needed to fold), leaves are typed spans. Deep levels are built only when first opened, so a state of
 * thousands of messages shows at once.
 */
import { childPath, indexPath } from "./diffJson.js"
import { h } from "./dom.js"

export interface JsonTreeOptions {
  /** Levels open from the start (the root is level 0). */
  readonly openDepth?: number | undefined
}

const isContainer = (value: unknown): value is Readonly<Record<string, unknown>> | ReadonlyArray<unknown> =>
  typeof value === "object" && value !== null

const entriesOf = (value: Readonly<Record<string, unknown>> | ReadonlyArray<unknown>, path: string) =>
  Array.isArray(value)
    ? value.map((item: unknown, i) => ({ label: String(i), value: item, path: indexPath(path, i) }))
    : Object.entries(value).map(([key, item]) => ({ label: key, value: item, path: childPath(path, key) }))

const leaf = (value: unknown): HTMLElement => {
  if (typeof value === "string") return h("span", { class: "json-string", text: JSON.stringify(value) })
  if (typeof value === "number") return h("span", { class: "json-number", text: String(value) })
  if (typeof value === "boolean") return h("span", { class: "json-boolean", text: String(value) })
  if (value === null) return h("span", { class: "json-null", text: "null" })
  return h("span", { class: "json-other", text: String(value) })
}

const PREVIEW_CHARS = 72

// A one-line preview of a folded value, its scalar fields first, so a list of messages reads without opening each.
const previewOf = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (Array.isArray(value)) return `[${value.length}]`
  if (typeof value === "object" && value !== null) return "{…}"
  return String(value)
}

const summaryOf = (value: Readonly<Record<string, unknown>> | ReadonlyArray<unknown>): string => {
  if (Array.isArray(value)) return `[${value.length}]`
  const parts: Array<string> = []
  let length = 0
  const entries = Object.entries(value)
  for (const [key, item] of entries) {
    const part = `${key}: ${previewOf(item)}`
    if (length + part.length > PREVIEW_CHARS && parts.length > 0) break
    parts.push(part)
    length += part.length + 2
  }
  if (entries.length === 0) return "{}"
  return `{ ${parts.join(", ")}${parts.length < entries.length ? ", …" : ""} }`
}

const keyLabel = (label: string | undefined, isIndex: boolean): HTMLElement | null =>
  label === undefined ? null : h("span", { class: isIndex ? "json-index" : "json-key", text: label })

const node = (
  label: string | undefined,
  isIndex: boolean,
  value: unknown,
  path: string,
  depth: number,
  options: JsonTreeOptions
): HTMLElement => {
  if (!isContainer(value)) {
    return h(
      "div",
      { class: "json-leaf", attrs: { "data-path": path } },
      keyLabel(label, isIndex),
      label === undefined ? null : h("span", { class: "json-colon", text: ": " }),
      leaf(value)
    )
  }
  const details = h("details", { class: "json-node", attrs: { "data-path": path } })
  details.appendChild(
    h(
      "summary",
      undefined,
      keyLabel(label, isIndex),
      label === undefined ? null : h("span", { class: "json-colon", text: ": " }),
      h("span", { class: "json-summary", text: summaryOf(value) })
    )
  )
  let built = false
  const build = (): void => {
    if (built) return
    built = true
    const children = h("div", { class: "json-children" })
    const entries = entriesOf(value, path)
    if (entries.length === 0) children.appendChild(h("div", { class: "json-empty", text: "empty" }))
    for (const entry of entries) {
      children.appendChild(node(entry.label, Array.isArray(value), entry.value, entry.path, depth + 1, options))
    }
    details.appendChild(children)
  }
  if (depth < (options.openDepth ?? 2)) {
    details.open = true
    build()
  } else {
    details.addEventListener("toggle", build)
  }
  return details
}

/** The tree of a JSON value; every node carries its path (`data-path="$.messages[2]"`). */
export const jsonTree = (value: unknown, options: JsonTreeOptions = {}): HTMLElement =>
  h("div", { class: "json-tree" }, node(undefined, false, value, "$", 0, options))
