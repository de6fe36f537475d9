/**
 * The LangGraph tab: threads newest first, and a thread's history (newest checkpoint first) with each checkpoint's
 * metadata and channel values as trees.
 */
import type { ThreadCheckpoint, ThreadSummary } from "../InspectorTypes.js"
import { api } from "./api.js"
import { h, replaceChildren } from "./dom.js"
import { formatAgo, formatTime, plural, shortId } from "./format.js"
import { jsonTree } from "./jsonTree.js"

const checkpointCard = (checkpoint: ThreadCheckpoint): HTMLElement =>
  h(
    "article",
    { class: "card lg-checkpoint", attrs: { "data-id": checkpoint.checkpointId } },
    h(
      "header",
      { class: "card-header" },
      h("span", { class: "mono", text: checkpoint.checkpointId }),
      checkpoint.checkpointNs === "" ? null : h("span", { class: "chip", text: `ns ${checkpoint.checkpointNs}` }),
      h("span", { class: "muted", text: formatTime(checkpoint.createdAt) })
    ),
    h(
      "div",
      { class: "card-meta muted" },
      h("span", {
        text: checkpoint.parentCheckpointId === null ? "no parent" : `parent ${shortId(checkpoint.parentCheckpointId)}`,
        attrs: { title: checkpoint.parentCheckpointId ?? "" }
      }),
      h("span", { text: plural(checkpoint.pendingWrites, "pending write") })
    ),
    h(
      "div",
      { class: "card-columns" },
      h("div", undefined, h("h3", { class: "section-title", text: "Metadata" }), jsonTree(checkpoint.metadata, { openDepth: 1 })),
      h(
        "div",
        undefined,
        h("h3", { class: "section-title", text: "Channel values" }),
        jsonTree(checkpoint.channelValues, { openDepth: 1 })
      )
    )
  )

/** The tab; `available` is false when the database has no LangGraph tables. */
export const langGraphView = (available: boolean): HTMLElement => {
  const list = h("ul", { class: "list", attrs: { "aria-label": "Threads" } })
  const status = h("p", { class: "list-status muted" })
  const more = h("button", { class: "button load-more", text: "Load more", attrs: { type: "button" } })
  more.hidden = true
  const main = h("section", { class: "thread" }, h("p", { class: "empty", text: "Pick a thread to see its history." }))
  const element = h(
    "div",
    { class: "layout" },
    h("aside", { class: "sidebar" }, h("div", { class: "list-scroll" }, list, status, more)),
    h("main", { class: "main" }, main)
  )
  if (!available) {
    replaceChildren(main, h("p", { class: "empty", text: "This database has no LangGraph tables." }))
    status.textContent = "No LangGraph tables."
    return element
  }

  const open = async (thread: ThreadSummary): Promise<void> => {
    replaceChildren(main, h("p", { class: "muted", text: "Loading…" }))
    try {
      const history = await api.thread(thread.threadId)
      replaceChildren(
        main,
        h(
          "header",
          { class: "session-header" },
          h(
            "div",
            { class: "session-heading" },
            h("span", { class: "eyebrow", text: "LangGraph thread" }),
            h("h1", { class: "session-title mono", text: history.threadId })
          )
        ),
        h("div", { class: "session-summary" }, h("span", { text: plural(thread.checkpoints, "checkpoint") }), h("span", {
          text: plural(thread.namespaces, "namespace")
        })),
        h("div", { class: "thread-history" }, ...history.checkpoints.map(checkpointCard))
      )
    } catch (error) {
      replaceChildren(main, h("p", { class: "error", text: error instanceof Error ? error.message : String(error) }))
    }
  }

  const item = (thread: ThreadSummary): HTMLElement => {
    const button = h(
      "button",
      { class: "item", attrs: { type: "button", "data-thread": thread.threadId } },
      h(
        "span",
        { class: "item-top" },
        h("span", { class: "item-title mono", text: thread.threadId }),
        h("span", { class: "item-when", text: formatAgo(thread.lastCreatedAt), attrs: { title: formatTime(thread.lastCreatedAt) } })
      ),
      h("span", { class: "item-meta" }, h("span", { text: plural(thread.checkpoints, "checkpoint") }))
    )
    button.addEventListener("click", () => {
      for (const other of list.querySelectorAll(".item.is-selected")) other.classList.remove("is-selected")
      button.classList.add("is-selected")
      void open(thread)
    })
    return h("li", undefined, button)
  }

  const load = async (after: string | undefined): Promise<void> => {
    more.disabled = true
    try {
      const page = await api.threads(after)
      for (const thread of page.threads) list.appendChild(item(thread))
      status.textContent = list.childElementCount === 0 ? "No threads." : plural(list.childElementCount, "thread")
      const next = page.nextAfter
      more.hidden = next === undefined
      more.onclick = next === undefined ? null : () => void load(next)
    } catch (error) {
      status.textContent = error instanceof Error ? error.message : String(error)
    } finally {
      more.disabled = false
    }
  }
  void load(undefined)
  return element
}
