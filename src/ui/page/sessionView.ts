/**
 * One session: its timeline (lineage graph beside the list of checkpoints), the state of the checkpoint picked, or the
 * diff of the two ticked; a download link; and live refresh, which polls for checkpoints stored after the last one
 * shown while an agent is still writing.
 */
import type { CheckpointDetail, CheckpointKind, TimelineEntry } from "../InspectorTypes.js"
import { api, exportUrl } from "./api.js"
import { checkpointPane, diffPane } from "./checkpointPane.js"
import { h, replaceChildren } from "./dom.js"
import { formatBytes, formatClock, formatDuration, formatTime, plural, shortId } from "./format.js"
import { timelineGraph } from "./timelineGraph.js"
import { layoutTimeline } from "./timelineLayout.js"

const POLL_MILLIS = 2000

export interface SessionView {
  readonly element: HTMLElement
  /** Stops live refresh; call before dropping the view. */
  readonly dispose: () => void
}

const errorBox = (error: unknown): HTMLElement =>
  h("p", { class: "error", attrs: { role: "alert" }, text: error instanceof Error ? error.message : String(error) })

/** Opens a session and keeps it current. */
export const sessionView = (kind: CheckpointKind, sessionId: string): SessionView => {
  let entries: Array<TimelineEntry> = []
  let truncated = false
  let active: string | undefined
  // The ticked checkpoints, in the order they were ticked; a third tick drops the first.
  let compared: Array<string> = []
  let fresh = new Set<string>()
  let disposed = false
  let timer: ReturnType<typeof setInterval> | undefined
  let polling = false
  const details = new Map<string, Promise<CheckpointDetail>>()

  const detail = (id: string): Promise<CheckpointDetail> => {
    const known = details.get(id)
    if (known !== undefined) return known
    const loading = api.checkpoint(kind, id)
    loading.catch(() => details.delete(id))
    details.set(id, loading)
    return loading
  }

  const summary = h("div", { class: "session-summary" })
  const timelineBox = h("div", { class: "timeline", attrs: { role: "list", "aria-label": "Timeline" } })
  const pane = h("div", { class: "pane-box" }, h("p", { class: "empty", text: "Pick a checkpoint to see its state." }))
  const liveToggle = h("input", { attrs: { type: "checkbox", id: "live-toggle" } })
  liveToggle.checked = true
  const liveLabel = h(
    "label",
    { class: "live", attrs: { for: "live-toggle", title: "Poll for new checkpoints every 2 s" } },
    liveToggle,
    h("span", { class: "live-dot" }),
    "Live"
  )
  const download = h("a", {
    class: "button",
    text: "Download JSONL",
    attrs: { href: exportUrl(kind, sessionId), download: `${sessionId}.${kind}.jsonl` }
  })
  const element = h(
    "section",
    { class: "session", attrs: { "aria-label": "Session" } },
    h(
      "header",
      { class: "session-header" },
      h(
        "div",
        { class: "session-heading" },
        h("span", { class: "eyebrow", text: kind === "agent" ? "Agent session" : "App session" }),
        h("h1", { class: "session-title mono", text: sessionId })
      ),
      h("div", { class: "session-actions" }, liveLabel, download)
    ),
    summary,
    h("div", { class: "session-body" }, h("div", { class: "timeline-scroll" }, timelineBox), pane)
  )

  const renderSummary = (): void => {
    const first = entries[0]
    const last = entries[entries.length - 1]
    const agents = [...new Set(entries.flatMap((e) => (e.agentId === undefined ? [] : [e.agentId])))]
    const forks = layoutTimeline(entries).nodes.filter((n) => n.isFork).length
    replaceChildren(
      summary,
      h("span", { text: plural(entries.length, "checkpoint") }),
      forks === 0 ? null : h("span", { class: "chip chip-fork", text: plural(forks, "fork") }),
      agents.length === 0 ? null : h("span", { text: plural(agents.length, "agent") }),
      first === undefined || last === undefined ? null : h("span", {
        text: `${formatTime(first.createdAt)} · ${formatDuration(last.createdAt - first.createdAt)}`
      }),
      h("span", { text: formatBytes(entries.reduce((sum, e) => sum + e.stateBytes, 0)) }),
      truncated ? h("span", { class: "chip chip-warn", text: "only the oldest checkpoints are shown" }) : null
    )
  }

  const renderTimeline = (): void => {
    const layout = layoutTimeline(entries)
    const comparedSet = new Set(compared)
    const rows = entries.map((entry, i) => {
      const previous = entries[i - 1]
      const tick = h("input", {
        class: "tl-compare",
        attrs: { type: "checkbox", "aria-label": `Compare ${entry.name}`, title: "Tick two to compare" }
      })
      tick.checked = comparedSet.has(entry.id)
      tick.addEventListener("click", (event) => event.stopPropagation())
      tick.addEventListener("change", () => toggleCompared(entry.id, tick.checked))
      const classes = ["tl-row"]
      if (entry.id === active) classes.push("is-active")
      if (comparedSet.has(entry.id)) classes.push("is-compared")
      if (fresh.has(entry.id)) classes.push("is-new")
      const row = h(
        "div",
        { class: classes.join(" "), attrs: { role: "listitem", "data-id": entry.id, tabindex: "0" } },
        tick,
        h(
          "div",
          { class: "tl-main" },
          h("span", { class: "tl-name", text: entry.name === "" ? "(unnamed)" : entry.name }),
          h(
            "span",
            { class: "tl-meta" },
            h("span", { text: formatClock(entry.createdAt), attrs: { title: formatTime(entry.createdAt) } }),
            previous === undefined ? null : h("span", {
              class: "muted",
              text: `+${formatDuration(Math.max(0, entry.createdAt - previous.createdAt))}`
            }),
            h("span", { text: formatBytes(entry.stateBytes) }),
            entry.agentId === undefined ? null : h("span", { class: "tl-agent", text: entry.agentId })
          )
        ),
        h("span", { class: "tl-id mono", text: shortId(entry.id), attrs: { title: entry.id } })
      )
      row.addEventListener("click", () => void select(entry.id))
      row.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault()
          void select(entry.id)
        }
      })
      return row
    })
    const graph = timelineGraph(layout, { active, compared: comparedSet })
    graph.addEventListener("click", (event) => {
      const id = event.target instanceof Element ? event.target.getAttribute("data-id") : null
      if (id !== null) void select(id)
    })
    replaceChildren(
      timelineBox,
      entries.length === 0 ?
        h("p", { class: "empty", text: "No checkpoints in this session." }) :
        h("div", { class: "tl-grid" }, h("div", { class: "tl-graph-cell" }, graph), h("div", { class: "tl-rows" }, ...rows))
    )
  }

  const showPane = async (content: () => Promise<HTMLElement>): Promise<void> => {
    pane.setAttribute("aria-busy", "true")
    try {
      const built = await content()
      if (!disposed) replaceChildren(pane, built)
    } catch (error) {
      if (!disposed) replaceChildren(pane, errorBox(error))
    } finally {
      pane.removeAttribute("aria-busy")
    }
  }

  const showDiff = (): Promise<void> => {
    const [a, b] = compared
    if (a === undefined || b === undefined) return Promise.resolve()
    // Older first by timeline order, whichever was ticked first.
    const order = (id: string) => entries.findIndex((e) => e.id === id)
    const [older, newer] = order(a) <= order(b) ? [a, b] : [b, a]
    return showPane(async () => {
      const [before, after] = await Promise.all([detail(older), detail(newer)])
      return diffPane(before, after, () => {
        compared = []
        renderTimeline()
        if (active !== undefined) void select(active)
      })
    })
  }

  const toggleCompared = (id: string, on: boolean): void => {
    compared = compared.filter((c) => c !== id)
    if (on) compared = [...compared, id].slice(-2)
    renderTimeline()
    if (compared.length === 2) void showDiff()
  }

  const select = (id: string): Promise<void> => {
    active = id
    renderTimeline()
    return showPane(async () => {
      const checkpoint = await detail(id)
      const parentId = checkpoint.parentId
      const parentShown = parentId !== null && entries.some((e) => e.id === parentId)
      return checkpointPane(checkpoint, {
        onSelect: (next) => void select(next),
        onCompareWithParent: parentShown ?
          () => {
            compared = [parentId, id]
            renderTimeline()
            void showDiff()
          } :
          undefined
      })
    })
  }

  const poll = async (): Promise<void> => {
    const last = entries[entries.length - 1]
    if (polling || disposed || last === undefined) return
    polling = true
    try {
      const update = await api.timeline(kind, sessionId, last.id)
      const known = new Set(entries.map((e) => e.id))
      const added = update.checkpoints.filter((e) => !known.has(e.id))
      if (added.length > 0 && !disposed) {
        entries = [...entries, ...added]
        fresh = new Set(added.map((e) => e.id))
        renderSummary()
        renderTimeline()
      }
      liveLabel.classList.remove("is-failing")
    } catch {
      // A failed poll (server restarting, network blip) is retried on the next tick; the dot says so meanwhile.
      liveLabel.classList.add("is-failing")
    } finally {
      polling = false
    }
  }

  const setLive = (on: boolean): void => {
    if (timer !== undefined) clearInterval(timer)
    timer = on ? setInterval(() => void poll(), POLL_MILLIS) : undefined
    liveLabel.classList.toggle("is-on", on)
  }
  liveToggle.addEventListener("change", () => setLive(liveToggle.checked))

  void (async () => {
    try {
      const timeline = await api.timeline(kind, sessionId)
      if (disposed) return
      entries = [...timeline.checkpoints]
      truncated = timeline.truncated
      renderSummary()
      renderTimeline()
      const latest = entries[entries.length - 1]
      if (latest !== undefined) await select(latest.id)
      setLive(liveToggle.checked)
    } catch (error) {
      replaceChildren(timelineBox, errorBox(error))
    }
  })()

  return {
    element,
    dispose: () => {
      disposed = true
      if (timer !== undefined) clearInterval(timer)
    }
  }
}
