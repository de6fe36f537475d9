/**
 * The inspector page in a real browser (Debian's Chromium, headless, through puppeteer-core), against the real server
 * on seeded databases: what a person debugging an agent sees and clicks. Also writes the README's screenshots
 * (docs/inspector-timeline.png, docs/inspector-diff.png).
 */
import { Effect, Exit, Layer, Redacted, Scope } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import type { Browser, Page } from "puppeteer-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { layerLangGraph, layerStorage } from "../../src/cli/CliDatabase.js"
import { type DatabaseUrl, parseDatabaseUrl } from "../../src/cli/DatabaseUrl.js"
import { type RunningInspector, startInspector } from "../../src/ui/InspectorServer.js"
import { provision } from "../support/provision.js"
import { postgres } from "../support/targets.js"
import {
  buildInspectorBundle,
  clickRow,
  docsPath,
  evaluate,
  launchChromium,
  skipBrowser,
  textOf,
  textsOf,
  unfoldTrees,
  waitUntil
} from "./browserHarness.js"
import { HOSTILE, type SeededIds, seedInspectorData, seedLangGraphThread } from "./inspectorSeed.js"

/** Starts the inspector as `ecs ui --db <text>` does, for the returned scope's life. */
const serve = async (text: string): Promise<{ readonly running: RunningInspector; readonly close: () => Promise<void> }> => {
  const url: DatabaseUrl = await Effect.runPromise(parseDatabaseUrl(text))
  const password = url.dialect === "sqlite" ? "" : decodeURIComponent(new URL(Redacted.value(url.connectionString)).password)
  const scope = Effect.runSync(Scope.make())
  const running = await Effect.runPromise(
    Scope.extend(
      startInspector(Layer.merge(layerStorage(url), layerLangGraph(url)), {
        database: url.display,
        secrets: password === "" ? [] : [password]
      }),
      scope
    )
  )
  return { running, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

const sessionIds = (page: Page) => evaluate(page, `Array.from(document.querySelectorAll(".item[data-session]"), (e) => e.dataset.session)`)

const THREADS_STATUS = "[aria-label=Threads] ~ .list-status"
/** The LangGraph tab has answered: its list, or that there is none. */
const THREADS_LISTED = `(document.querySelector(${JSON.stringify(THREADS_STATUS)})?.textContent ?? "") !== ""`

/** Opens the page and a session of the agent tab. */
const openSession = async (page: Page, running: RunningInspector, sessionId: string): Promise<void> => {
  await page.goto(running.url)
  await page.waitForSelector(`.item[data-session="${sessionId}"]`)
  await page.click(`.item[data-session="${sessionId}"]`)
  await page.waitForSelector(".tl-row")
  await page.waitForSelector(".checkpoint-pane .json-tree")
}

describe.skipIf(skipBrowser)("the inspector in Chromium (SQLite)", () => {
  let browser: Browser
  let directory: string
  let seeded: SeededIds & { readonly dispose: () => Promise<void> }
  let server: Awaited<ReturnType<typeof serve>>
  let threadId: string
  const dialogs: Array<string> = []

  beforeAll(async () => {
    buildInspectorBundle()
    browser = await launchChromium()
    directory = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ecs-inspector-"))
    const url = await Effect.runPromise(parseDatabaseUrl(`sqlite:${Path.join(directory, "agents.db")}`))
    seeded = await seedInspectorData(layerStorage(url))
    threadId = await seedLangGraphThread(`sqlite:${Path.join(directory, "agents.db")}`)
    server = await serve(`sqlite:${Path.join(directory, "agents.db")}`)
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await seeded?.dispose()
    if (directory !== undefined) Fs.rmSync(directory, { recursive: true, force: true })
  })

  const newPage = async (): Promise<Page> => {
    const page = await browser.newPage()
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message())
      void dialog.dismiss()
    })
    return page
  }

  it("lists the sessions newest first, and filters them by agent type", async () => {
    const page = await newPage()
    await page.goto(server.running.url)
    await page.waitForSelector(".item[data-session]")
    expect(await sessionIds(page)).toEqual([seeded.tripSession, seeded.hostileSession, seeded.coderSession])
    expect(await textOf(page, ".database")).toContain("agents.db")

    await page.type("input[name=agentType]", "coder")
    await page.keyboard.press("Enter")
    await waitUntil(page, `document.querySelectorAll(".item[data-session]").length === 2`)
    expect(await sessionIds(page)).toEqual([seeded.hostileSession, seeded.coderSession])

    // A time range: only the trip has checkpoints in the last half hour (the others are an hour old).
    await page.click(".filters button[type=button]")
    await waitUntil(page, `document.querySelectorAll(".item[data-session]").length === 3`)
    await evaluate(
      page,
      `(() => { const d = new Date(Date.now() - 30 * 60_000); const p = (n) => String(n).padStart(2, "0");
        document.querySelector("input[name=from]").value =
          d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + "T" + p(d.getHours()) + ":" + p(d.getMinutes()) })()`
    )
    await page.click(".filters button[type=submit]")
    await waitUntil(page, `document.querySelectorAll(".item[data-session]").length === 1`)
    expect(await sessionIds(page)).toEqual([seeded.tripSession])
    await page.click(".filters button[type=button]")
    await page.type("input[name=agentType]", "coder")
    await page.keyboard.press("Enter")
    await waitUntil(page, `document.querySelectorAll(".item[data-session]").length === 2`)

    // The agents list of the same filter, with its counts.
    await page.click(".segment[data-mode=agents]")
    await page.waitForSelector(".item[data-agent]")
    const agents = await textsOf(page, ".item[data-agent]")
    expect(agents.some((text) => text.includes("coder-1") && text.includes("3 checkpoints"))).toBe(true)
    await page.close()
  })

  it("draws a session's timeline with its fork, and a checkpoint's state as a tree", async () => {
    const page = await newPage()
    await openSession(page, server.running, seeded.tripSession)
    expect(await textsOf(page, ".tl-name")).toEqual([
      "user-message",
      "plan",
      "tool:search_flights",
      "tool-result:flights",
      "tool:search_hotels",
      "tool-result:hotels",
      "draft-itinerary",
      "retry:search_hotels",
      "tool-result:hotels (retry)"
    ])
    // A node per checkpoint, an edge per parent, the fork point marked, the branch in a second column.
    expect(await evaluate(page, `document.querySelectorAll("circle.tl-node").length`)).toBe(9)
    expect(await evaluate(page, `document.querySelectorAll("path.tl-edge").length`)).toBe(8)
    expect(await evaluate(page, `document.querySelector("circle.tl-node.is-fork")?.dataset.id`)).toBe(
      seeded.trip["tool-result:flights"]
    )
    expect(await evaluate(page, `new Set(Array.from(document.querySelectorAll("circle.tl-node"), (c) => c.getAttribute("cx"))).size`))
      .toBe(2)
    expect(await textOf(page, ".session-summary")).toContain("1 fork")

    await clickRow(page, "tool-result:hotels")
    await waitUntil(page, `document.querySelector(".checkpoint-pane .pane-title")?.textContent === "tool-result:hotels"`)
    expect(await textOf(page, `.checkpoint-pane [data-path="$.budget.spent"]`)).toContain("824")
    await page.screenshot({ path: docsPath("inspector-timeline.png") })
    await page.close()
  })

  it("shows the paths two checkpoints differ at, each marked by its kind", async () => {
    const page = await newPage()
    await openSession(page, server.running, seeded.tripSession)
    await clickRow(page, "tool-result:hotels", true)
    await clickRow(page, "tool-result:hotels (retry)", true)
    await page.waitForSelector(".diff-pane .diff-row")
    expect(await textOf(page, `.diff-row.diff-changed[data-path="$.budget.spent"]`)).toContain("680")
    expect(await textOf(page, `.diff-row.diff-changed[data-path="$.toolCalls[1].args.maxPrice"]`)).toMatch(/150[\s\S]*90/)
    expect(await textOf(page, `.diff-row.diff-removed[data-path="$.toolCalls[1].result[1]"]`)).toContain("Baixa Loft")
    expect(await textOf(page, ".diff-sides")).toMatch(/tool-result:hotels[\s\S]*tool-result:hotels \(retry\)/)
    await page.screenshot({ path: docsPath("inspector-diff.png") })
    await page.close()
  })

  it("shows hostile text as text and runs none of it", async () => {
    const page = await newPage()
    await openSession(page, server.running, seeded.hostileSession)
    await unfoldTrees(page)
    await clickRow(page, HOSTILE.script, true)
    await clickRow(page, HOSTILE.image, true)
    await page.waitForSelector(".diff-row")
    await clickRow(page, HOSTILE.image)
    await page.waitForSelector(".checkpoint-pane .json-tree")
    await unfoldTrees(page)
    const text = await evaluate(page, "document.body.textContent")
    expect(text).toContain("<script>window.__xss = 1; alert(1)</script>")
    expect(text).toContain(HOSTILE.image)
    expect(text).toContain("\"quotes\" 'single'")
    expect(text).toContain(HOSTILE.emoji)
    expect(await textsOf(page, ".tl-name")).toContain(HOSTILE.script)
    // Nothing ran, and nothing was parsed into elements: the page's own script is the only one, and no image.
    expect(await evaluate(page, "window.__xss")).toBeUndefined()
    expect(await evaluate(page, `document.querySelectorAll("script").length`)).toBe(1)
    expect(await evaluate(page, `document.querySelectorAll("img").length`)).toBe(0)
    expect(dialogs).toEqual([])
    await page.close()
  })

  it("refuses a request without the token", async () => {
    const origin = new URL(server.running.url).origin
    for (const path of ["/", "/api/overview", "/inspector.js", `/api/sessions/${seeded.tripSession}/export?kind=agent`]) {
      expect((await fetch(`${origin}${path}`)).status).toBe(401)
    }
    expect((await fetch(`${origin}/api/overview?token=wrong`)).status).toBe(401)
    expect((await fetch(`${origin}/api/overview`, { headers: { Authorization: `Bearer ${server.running.token}` } })).status)
      .toBe(200)
  })

  it("offers the session as JSON Lines to download", async () => {
    const page = await newPage()
    await openSession(page, server.running, seeded.tripSession)
    const href = await evaluate(page, `document.querySelector("a[download]").href`)
    expect(String(href)).toContain(`/api/sessions/${seeded.tripSession}/export?kind=agent&token=`)
    const body = await (await fetch(String(href))).text()
    const lines = body.trim().split("\n").map((line) => JSON.parse(line) as unknown)
    expect(lines.length).toBeGreaterThanOrEqual(9)
    expect(body).toContain("tool-result:hotels (retry)")
    await page.close()
  })

  it("shows a checkpoint stored while the session is open (live refresh)", async () => {
    const page = await newPage()
    await openSession(page, server.running, seeded.tripSession)
    const before = (await textsOf(page, ".tl-name")).length
    const id = await seeded.storeLater("late:summary")
    await waitUntil(page, `Array.from(document.querySelectorAll(".tl-name")).some((e) => e.textContent === "late:summary")`, 8_000)
    expect((await textsOf(page, ".tl-name")).length).toBe(before + 1)
    expect(await evaluate(page, `document.querySelector(".tl-row.is-new")?.dataset.id`)).toBe(id)
    await page.close()
  })

  it("switches to app checkpoints and to LangGraph threads", async () => {
    const page = await newPage()
    await page.goto(server.running.url)
    await page.waitForSelector(".tab[data-tab=app]")
    await page.click(".tab[data-tab=app]")
    await page.waitForSelector(`.item[data-session="${seeded.appSession}"]`)
    await page.click(`.item[data-session="${seeded.appSession}"]`)
    await page.waitForSelector(".checkpoint-pane .json-tree")
    expect(await textOf(page, ".checkpoint-pane .json-tree")).toContain("src/agent.ts")
    await page.click(".tab[data-tab=langgraph]")
    await page.waitForSelector(`.item[data-thread="${threadId}"]`)
    await page.click(`.item[data-thread="${threadId}"]`)
    await page.waitForSelector(".lg-checkpoint")
    // Newest first: the last step's tool message (hostile text, shown as text) is in the first card.
    expect(await evaluate(page, `document.querySelectorAll(".lg-checkpoint").length`)).toBe(3)
    await unfoldTrees(page)
    expect(await textOf(page, ".lg-checkpoint")).toContain(HOSTILE.script)
    expect(await textOf(page, ".lg-checkpoint")).toContain("loop")
    expect(await evaluate(page, "window.__xss")).toBeUndefined()
    await page.close()
  })
})

describe.skipIf(skipBrowser)("the inspector in Chromium (PostgreSQL, a password in the URL)", () => {
  const PASSWORD = "s3cret-pw"
  let browser: Browser
  let database: Awaited<ReturnType<typeof provision>>
  let seeded: SeededIds & { readonly dispose: () => Promise<void> }
  let server: Awaited<ReturnType<typeof serve>>

  beforeAll(async () => {
    buildInspectorBundle()
    browser = await launchChromium()
    database = await provision(postgres)
    seeded = await seedInspectorData(database.db.storage())
    if (database.db.config.type !== "postgres") throw new Error("expected a PostgreSQL database")
    const connectionString = database.db.config.connectionString
    const url = new URL(typeof connectionString === "string" ? connectionString : Redacted.value(connectionString))
    // The server trusts local connections, so the password is ignored there, but it is in the URL the inspector has.
    url.password = PASSWORD
    server = await serve(url.toString())
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await seeded?.dispose()
    await database?.release()
  })

  it("never sends the password: not in the page, its text, or any response", async () => {
    const page = await browser.newPage()
    const bodies: Array<Promise<string>> = []
    page.on("response", (response) => {
      bodies.push(response.text().catch(() => ""))
    })
    await openSession(page, server.running, seeded.tripSession)
    await clickRow(page, "plan", true)
    await clickRow(page, "draft-itinerary", true)
    await page.waitForSelector(".diff-row")
    await page.click(".tab[data-tab=langgraph]")
    await waitUntil(page, THREADS_LISTED)
    expect(await textOf(page, THREADS_STATUS)).toMatch(/^(No LangGraph tables\.|No threads\.|\d+ threads?)$/)
    expect(await textOf(page, ".database")).toMatch(/^postgres(ql)?:\/\/postgres(:\*+)?@127\.0\.0\.1/)
    const html = await page.content()
    const texts = await Promise.all(bodies)
    expect(texts.length).toBeGreaterThan(5)
    for (const text of [html, String(await evaluate(page, "document.body.innerText")), ...texts]) {
      expect(text).not.toContain(PASSWORD)
    }
    const origin = new URL(server.running.url).origin
    const exported = await (await fetch(`${origin}/api/sessions/${seeded.tripSession}/export?kind=agent&token=${server.running.token}`))
      .text()
    expect(exported).not.toContain(PASSWORD)
    // Failures too: a missing checkpoint, a bad parameter, a wrong token.
    for (const path of [
      `/api/checkpoints/999999?kind=agent&token=${server.running.token}`,
      `/api/sessions?kind=agent&limit=nope&token=${server.running.token}`,
      `/api/overview?token=wrong`
    ]) {
      const response = await fetch(`${origin}${path}`)
      expect(response.status).toBeGreaterThanOrEqual(400)
      expect(await response.text()).not.toContain(PASSWORD)
    }
    await page.close()
  })
})
