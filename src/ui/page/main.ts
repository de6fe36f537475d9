/**
 * The inspector page (`ecs ui`): a header with the database and its counts, and three tabs (agent checkpoints, app
 * checkpoints, LangGraph threads). Built with DOM calls only: see dom.ts for why.
 */
import type { CheckpointKind, Overview } from "../InspectorTypes.js"
import { api } from "./api.js"
import { h, replaceChildren } from "./dom.js"
import { langGraphView } from "./langGraphView.js"
import { sessionList } from "./sessionList.js"
import { type SessionView, sessionView } from "./sessionView.js"

type Tab = CheckpointKind | "langgraph"

// The server's page may hold the mount point; if not, the page makes its own.
const root = document.getElementById("app") ?? document.body.appendChild(h("div", { attrs: { id: "app" } }))
const content = h("div", { class: "content" })
const tabs = h("nav", { class: "tabs", attrs: { role: "tablist", "aria-label": "Kind" } })
const database = h("span", { class: "database mono", attrs: { title: "Database" } })
let openSession: SessionView | undefined

const tabLabel = (tab: Tab, overview: Overview | undefined): string => {
  if (tab === "agent") return `Agent checkpoints${overview === undefined ? "" : ` · ${overview.agentCheckpoints.toLocaleString("en-US")}`}`
  if (tab === "app") return `App checkpoints${overview === undefined ? "" : ` · ${overview.appCheckpoints.toLocaleString("en-US")}`}`
  const threads = overview?.langGraphThreads
  return `LangGraph threads${threads === null || threads === undefined ? "" : ` · ${threads.toLocaleString("en-US")}`}`
}

const sessionsTab = (kind: CheckpointKind): HTMLElement => {
  const main = h("main", { class: "main" }, h("p", { class: "empty", text: "Pick a session to see its timeline." }))
  const sidebar = sessionList({
    kind,
    onOpen: (sessionId) => {
      openSession?.dispose()
      openSession = sessionView(kind, sessionId)
      replaceChildren(main, openSession.element)
    }
  })
  return h("div", { class: "layout" }, sidebar.element, main)
}

const show = (tab: Tab, overview: Overview | undefined): void => {
  openSession?.dispose()
  openSession = undefined
  for (const button of tabs.children) button.setAttribute("aria-selected", String(button.getAttribute("data-tab") === tab))
  replaceChildren(content, tab === "langgraph" ? langGraphView(overview?.langGraphThreads !== null) : sessionsTab(tab))
}

const start = async (): Promise<void> => {
  replaceChildren(
    root,
    h(
      "header",
      { class: "topbar" },
      h("div", { class: "brand" }, h("span", { class: "brand-mark", text: "◆" }), h("span", { text: "Checkpoint inspector" })),
      tabs,
      database
    ),
    content
  )
  let overview: Overview | undefined
  try {
    overview = await api.overview()
    database.textContent = overview.database
  } catch (error) {
    database.textContent = error instanceof Error ? error.message : String(error)
    database.classList.add("is-error")
  }
  for (const tab of ["agent", "app", "langgraph"] as const) {
    const button = h("button", {
      class: "tab",
      text: tabLabel(tab, overview),
      attrs: { type: "button", role: "tab", "data-tab": tab }
    })
    button.addEventListener("click", () => show(tab, overview))
    tabs.appendChild(button)
  }
  show("agent", overview)
}

void start()
