/**
 * What the inspector's browser tests share: the bundle built before they run, Debian's Chromium driven by
 * puppeteer-core, and small readers of the page that need no DOM types (this code runs in Node.js; the expressions
 * run in the page).
 */
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import puppeteer, { type Browser, type Page } from "puppeteer-core"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..", "..")

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"

/** ECS_SKIP_BROWSER=1 skips the browser tests on a machine without Chromium; otherwise a missing one fails them. */
export const skipBrowser = process.env.ECS_SKIP_BROWSER === "1"

/** Builds dist/ui/inspector.{js,css} (idempotent), so that `vitest run` works from a clean clone. */
export const buildInspectorBundle = (): void => {
  execFileSync(process.execPath, [Path.join(root, "scripts", "build-inspector.mjs")], { cwd: root, stdio: "pipe" })
}

export const launchChromium = async (): Promise<Browser> => {
  if (!Fs.existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not at ${CHROMIUM}: install it (apt-get install chromium), set CHROMIUM_PATH, or set ` +
        "ECS_SKIP_BROWSER=1 to skip the browser tests"
    )
  }
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // --no-sandbox: CI and this machine run the tests as root, where Chromium's sandbox refuses to start.
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--font-render-hinting=none"],
    defaultViewport: { width: 1280, height: 800 }
  })
}

/** The result of a JavaScript expression evaluated in the page. */
export const evaluate = (page: Page, expression: string): Promise<unknown> => page.evaluate(expression)

/** The text of the first element matching `selector`, or null. */
export const textOf = async (page: Page, selector: string): Promise<string | null> => {
  const text = await evaluate(page, `document.querySelector(${JSON.stringify(selector)})?.textContent ?? null`)
  return typeof text === "string" ? text : null
}

/** The texts of every element matching `selector`. */
export const textsOf = async (page: Page, selector: string): Promise<Array<string>> => {
  const texts = await evaluate(
    page,
    `Array.from(document.querySelectorAll(${JSON.stringify(selector)}), (e) => e.textContent ?? "")`
  )
  return Array.isArray(texts) ? texts.map(String) : []
}

/** Waits until a page expression is truthy. */
export const waitUntil = async (page: Page, expression: string, timeout = 10_000): Promise<void> => {
  await page.waitForFunction(expression, { timeout })
}

/** Clicks the timeline row of the checkpoint named `name` (its tick box when `tick`). */
export const clickRow = async (page: Page, name: string, tick = false): Promise<void> => {
  const clicked = await evaluate(
    page,
    `(() => {
      const row = Array.from(document.querySelectorAll(".tl-row"))
        .find((r) => r.querySelector(".tl-name")?.textContent === ${JSON.stringify(name)})
      const target = ${tick ? "row?.querySelector('.tl-compare')" : "row"}
      if (!target) return false
      target.click()
      return true
    })()`
  )
  if (clicked !== true) throw new Error(`no timeline row named ${name}`)
}

/** Opens every folded node of the JSON trees on the page, so their text is in the document. */
export const unfoldTrees = async (page: Page): Promise<void> => {
  for (let i = 0; i < 8; i++) {
    const opened = await evaluate(
      page,
      `(() => { const closed = document.querySelectorAll("details.json-node:not([open])");
        closed.forEach((d) => { d.open = true }); return closed.length })()`
    )
    if (opened === 0) return
    // A folded node builds its children on its toggle event, which fires asynchronously.
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export const docsPath = (name: string): string => Path.join(root, "docs", name)
