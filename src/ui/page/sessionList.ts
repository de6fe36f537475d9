/**
 * The sidebar of the agent and app tabs: filters (agent type, agent, time range), then the sessions (or, for agent
 * checkpoints, the agents) newest first, a page at a time.
 */
import type { AgentSummary, CheckpointKind, SessionSummary } from "../InspectorTypes.js"
import { api, type SessionFilter } from "./api.js"
import { h, replaceChildren } from "./dom.js"
import { formatAgo, formatBytes, formatTime, plural } from "./format.js"

export interface SessionListOptions {
  readonly kind: CheckpointKind
  readonly onOpen: (sessionId: string) => void
}

// `datetime-local` gives local wall-clock text; the API takes epoch milliseconds.
const epochOf = (input: HTMLInputElement): number | undefined => {
  const millis = input.value === "" ? Number.NaN : new Date(input.value).getTime()
  return Number.isFinite(millis) ? millis : undefined
}

const field = (label: string, control: HTMLElement): HTMLElement =>
  h("label", { class: "field" }, h("span", { class: "field-label", text: label }), control)

const chips = (values: ReadonlyArray<string>, className: string): HTMLElement =>
  h("span", { class: "chips" }, ...values.map((value) => h("span", { class: `chip ${className}`, text: value })))

/** The sidebar; `select(id)` marks the open session. */
export const sessionList = (options: SessionListOptions) => {
  const { kind } = options
  let mode: "sessions" | "agents" = "sessions"
  let selected: string | undefined
  let generation = 0

  const agentType = h("input", {
    attrs: { type: "search", name: "agentType", list: "agent-types", placeholder: "all", autocomplete: "off" }
  })
  const agentId = h("input", { attrs: { type: "search", name: "agentId", placeholder: "all", autocomplete: "off" } })
  const from = h("input", { attrs: { type: "datetime-local", name: "from", step: "1" } })
  const to = h("input", { attrs: { type: "datetime-local", name: "to", step: "1" } })
  const agentTypes = h("datalist", { attrs: { id: "agent-types" } })
  const apply = h("button", { class: "button button-primary", text: "Apply", attrs: { type: "submit" } })
  const clear = h("button", { class: "button", text: "Clear", attrs: { type: "button" } })
  const form = h(
    "form",
    { class: "filters", attrs: { role: "search", "aria-label": "Filters" } },
    kind === "agent" ? h("div", { class: "field-row" }, field("Agent type", agentType), field("Agent", agentId)) : null,
    h("div", { class: "field-row" }, field("From", from), field("To", to)),
    agentTypes,
    h("div", { class: "filter-actions" }, apply, clear)
  )
  const modeSwitch = h("div", { class: "segmented", attrs: { role: "tablist", "aria-label": "List" } })
  const list = h("ul", { class: "list", attrs: { "aria-label": "Sessions" } })
  const status = h("p", { class: "list-status muted" })
  const more = h("button", { class: "button load-more", text: "Load more", attrs: { type: "button" } })
  more.hidden = true
  const element = h(
    "aside",
    { class: "sidebar" },
    form,
    kind === "agent" ? modeSwitch : null,
    h("div", { class: "list-scroll" }, list, status, more)
  )

  const filter = (): SessionFilter => ({
    agentType: kind === "agent" ? agentType.value.trim() || undefined : undefined,
    agentId: kind === "agent" ? agentId.value.trim() || undefined : undefined,
    from: epochOf(from),
    to: epochOf(to)
  })

  const sessionItem = (session: SessionSummary): HTMLElement => {
    const button = h(
      "button",
      {
        class: `item${session.sessionId === selected ? " is-selected" : ""}`,
        attrs: { type: "button", "data-session": session.sessionId }
      },
      h(
        "span",
        { class: "item-top" },
        h("span", { class: "item-title mono", text: session.sessionId }),
        h("span", { class: "item-when", text: formatAgo(session.lastCreatedAt), attrs: { title: formatTime(session.lastCreatedAt) } })
      ),
      session.agentTypes.length === 0 ? null : chips(session.agentTypes, "chip-type"),
      h(
        "span",
        { class: "item-meta" },
        h("span", { text: plural(session.checkpoints, "checkpoint") }),
        session.agentIds.length === 0 ? null : h("span", { text: plural(session.agentIds.length, "agent") }),
        h("span", { text: formatBytes(session.totalStateBytes) })
      )
    )
    button.addEventListener("click", () => {
      selected = session.sessionId
      for (const other of list.querySelectorAll(".item.is-selected")) other.classList.remove("is-selected")
      button.classList.add("is-selected")
      options.onOpen(session.sessionId)
    })
    return h("li", undefined, button)
  }

  const agentItem = (agent: AgentSummary): HTMLElement => {
    const button = h(
      "button",
      { class: "item", attrs: { type: "button", title: "Show this agent's sessions", "data-agent": agent.agentId } },
      h(
        "span",
        { class: "item-top" },
        h("span", { class: "item-title", text: agent.agentId }),
        h("span", { class: "item-when", text: formatAgo(agent.lastCreatedAt), attrs: { title: formatTime(agent.lastCreatedAt) } })
      ),
      chips([agent.agentType], "chip-type"),
      h(
        "span",
        { class: "item-meta" },
        h("span", { text: plural(agent.checkpoints, "checkpoint") }),
        h("span", { text: plural(agent.sessions, "session") })
      )
    )
    button.addEventListener("click", () => {
      agentId.value = agent.agentId
      agentType.value = agent.agentType
      setMode("sessions")
    })
    return h("li", undefined, button)
  }

  // Each reload bumps the generation, so a slow page of an old filter never lands in the new list.
  const load = async (cursor: string | undefined): Promise<void> => {
    const mine = cursor === undefined ? ++generation : generation
    more.disabled = true
    status.textContent = "Loading…"
    try {
      const page = mode === "agents" ? await api.agents(filter(), cursor) : await api.sessions(kind, filter(), cursor)
      if (mine !== generation) return
      if (cursor === undefined) list.replaceChildren()
      if ("agents" in page) {
        for (const agent of page.agents) list.appendChild(agentItem(agent))
      } else {
        for (const session of page.sessions) list.appendChild(sessionItem(session))
      }
      const shown = list.childElementCount
      status.textContent = shown === 0 ?
        (mode === "agents" ? "No agents match." : "No sessions match.") :
        `${plural(shown, mode === "agents" ? "agent" : "session")}${page.nextCursor === undefined ? "" : " so far"}`
      more.hidden = page.nextCursor === undefined
      const next = page.nextCursor
      more.onclick = next === undefined ? null : () => void load(next)
    } catch (error) {
      if (mine === generation) status.textContent = error instanceof Error ? error.message : String(error)
    } finally {
      more.disabled = false
    }
  }

  const setMode = (next: "sessions" | "agents"): void => {
    mode = next
    list.setAttribute("aria-label", next === "agents" ? "Agents" : "Sessions")
    for (const tab of modeSwitch.children) tab.setAttribute("aria-selected", String(tab.getAttribute("data-mode") === next))
    void load(undefined)
  }
  for (const name of ["sessions", "agents"] as const) {
    const tab = h("button", {
      class: "segment",
      text: name === "sessions" ? "Sessions" : "Agents",
      attrs: { type: "button", role: "tab", "data-mode": name }
    })
    tab.addEventListener("click", () => setMode(name))
    modeSwitch.appendChild(tab)
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault()
    void load(undefined)
  })
  clear.addEventListener("click", () => {
    form.reset()
    void load(undefined)
  })

  // The agent types for the filter's suggestions: the first page of agents is enough to be useful.
  if (kind === "agent") {
    api.agents({}).then((page) => {
      replaceChildren(agentTypes, ...[...new Set(page.agents.map((a) => a.agentType))].sort().map((t) => h("option", { attrs: { value: t } })))
    }, () => undefined)
  }

  setMode("sessions")
  return { element }
}
