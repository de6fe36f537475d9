/**
 * The inspector's server (`ecs ui`) on real databases: started as a library function on a free port, then asked as
 * its page asks, with and without its token. Also the command itself, in a child process.
 */
import { Context, Effect, Exit, Layer, Schema, Scope } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { layerInspected, secretsOf } from "../../src/cli/UiCommand.js"
import { parseDatabaseUrl } from "../../src/cli/DatabaseUrl.js"
import { ExportHeader, ExportLine } from "../../src/cli/ExportFormat.js"
import { CheckpointStorage, LangGraphCheckpoints } from "../../src/index.js"
import { inspectorAssetPath } from "../../src/ui/InspectorAssets.js"
import { startInspector } from "../../src/ui/InspectorServer.js"
import type { AgentPage, CheckpointDetail, Overview, SessionPage, ThreadHistory, ThreadPage, Timeline } from "../../src/ui/InspectorTypes.js"
import { buildCli, type CliBuild, startCli, temporaryDirectory } from "../cli/support/cli.js"
import { provision } from "../support/provision.js"
import { postgres } from "../support/targets.js"

const PASSWORD = "s3cret-pw"

interface Served {
  readonly base: string
  readonly token: string
  readonly url: string
  /** Every response body and header read so far, to look for the password in. */
  readonly seen: Array<string>
  readonly get: (path: string, init?: { readonly token?: string | null; readonly bearer?: string }) => Promise<Response>
  readonly json: <A>(path: string) => Promise<{ readonly status: number; readonly body: A }>
  readonly close: () => Promise<void>
}

/** Seeds the database of `urlText` through the storage, then starts the inspector on it with the CLI's layers. */
const serve = async (urlText: string, seedLangGraph: boolean): Promise<Served & { readonly ids: Seeded }> => {
  const url = Effect.runSync(parseDatabaseUrl(urlText))
  const scope = Effect.runSync(Scope.make())
  const services = layerInspected(url)
  const context = await Effect.runPromise(Layer.buildWithScope(services, scope))
  const ids = await Effect.runPromise(seed(seedLangGraph).pipe(Effect.provide(context)))
  const running = await Effect.runPromise(
    startInspector(Layer.succeedContext(context), { database: url.display, secrets: secretsOf(url) }).pipe(
      Scope.extend(scope)
    )
  )
  const seen: Array<string> = []
  const base = `http://127.0.0.1:${running.port}`
  const get: Served["get"] = async (path, init = {}) => {
    const token = init.token === undefined ? running.token : init.token
    const target = token === null ? `${base}${path}` : `${base}${path}${path.includes("?") ? "&" : "?"}token=${token}`
    const response = await fetch(init.bearer === undefined ? target : `${base}${path}`, {
      headers: init.bearer === undefined ? {} : { authorization: `Bearer ${init.bearer}` }
    })
    const text = await response.clone().text()
    seen.push(text, JSON.stringify([...response.headers]))
    return response
  }
  const json = async <A>(path: string): Promise<{ readonly status: number; readonly body: A }> => {
    const response = await get(path)
    // The server's answer, typed as the contract says: the assertions check it.
    return { status: response.status, body: (await response.json()) as A }
  }
  return {
    base,
    token: running.token,
    url: running.url,
    seen,
    get,
    json,
    ids,
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

interface Seeded {
  readonly main: ReadonlyArray<string>
  readonly fork: string
  readonly app: ReadonlyArray<string>
}

// Session "main": 5 agent checkpoints of two agents, and a fork of its second. Session "other/é": 2. App "app-1": 2.
const seed = (langGraph: boolean) =>
  Effect.gen(function*() {
    const storage = yield* CheckpointStorage
    const main: Array<string> = []
    for (let i = 0; i < 5; i++) {
      main.push(yield* storage.storeAgentCheckpoint({
        agentId: i < 3 ? "agent-a" : "agent-b",
        sessionId: "main",
        agentType: i < 3 ? "coder" : "writer",
        name: `step-${i}`,
        state: { i, note: "é🦊" },
        createdAt: 10_000 + i * 100
      }))
    }
    const fork = yield* storage.forkAgentCheckpoint(main[1]!, { createdAt: 10_450, name: "fork" })
    for (let i = 0; i < 2; i++) {
      yield* storage.storeAgentCheckpoint({
        agentId: "agent-c",
        sessionId: "other/é",
        agentType: "coder",
        name: `o-${i}`,
        state: { i },
        createdAt: 20_000 + i
      })
    }
    const app: Array<string> = []
    for (let i = 0; i < 2; i++) {
      app.push(yield* storage.storeAppCheckpoint({
        sessionId: "app-1",
        hostname: "host",
        workspaceDirectory: "/w",
        state: { i },
        createdAt: 30_000 + i
      }))
    }
    if (langGraph) {
      const graph = yield* LangGraphCheckpoints
      yield* graph.put({
        threadId: "thread-1",
        checkpointNs: "",
        checkpointId: "cp-1",
        checkpoint: JSON.stringify({ v: 1, id: "cp-1", ts: "", channel_values: {}, channel_versions: { messages: "1", blob: "1" } }),
        metadata: JSON.stringify({ step: 1 }),
        channelValues: [
          { channel: "messages", version: "1", value: { type: "json", value: new TextEncoder().encode("[\"hi\"]") } },
          { channel: "blob", version: "1", value: { type: "bytes", value: new Uint8Array([1, 2, 3]) } }
        ],
        createdAt: 40_000
      })
    }
    return { main, fork, app }
  })

const SECURITY = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store"
}

const expectSecurityHeaders = (response: Response) => {
  for (const [name, value] of Object.entries(SECURITY)) expect(response.headers.get(name)).toBe(value)
}

/** The checks every database answers alike. */
const behavesAsInspector = (server: () => Served & { readonly ids: Seeded }) => {
  it("refuses every route without the token, or with a wrong one: 401 JSON with the security headers", async () => {
    const s = server()
    for (const path of ["/", "/inspector.js", "/inspector.css", "/api/overview", "/api/sessions", "/no-such-route"]) {
      for (const init of [{ token: null }, { token: "wrong" }, { token: null, bearer: "wrong" }] as const) {
        const response = await s.get(path, init)
        expect(response.status).toBe(401)
        expectSecurityHeaders(response)
        expect(await response.json()).toMatchObject({ error: { tag: "Unauthorized" } })
      }
    }
    const bearer = await s.get("/api/overview", { token: null, bearer: s.token })
    expect(bearer.status).toBe(200)
    expectSecurityHeaders(bearer)
  })

  it("serves the page shell and its assets (or says to build them)", async () => {
    const s = server()
    expect(s.url).toBe(`http://127.0.0.1:${new URL(s.url).port}/?token=${s.token}`)
    expect(s.token).toMatch(/^[A-Za-z0-9_-]{32}$/)
    const page = await s.get("/")
    expect(page.status).toBe(200)
    expectSecurityHeaders(page)
    const html = await page.text()
    expect(html.startsWith("<!doctype html>")).toBe(true)
    expect(html).toContain(`<link rel="stylesheet" href="/inspector.css?token=${s.token}">`)
    expect(html).toContain(`<script type="module" src="/inspector.js?token=${s.token}"></script>`)
    expect(html).toContain(`<div id="app"></div>`)
    for (const name of ["inspector.js", "inspector.css"] as const) {
      const response = await s.get(`/${name}`)
      expectSecurityHeaders(response)
      if (inspectorAssetPath(name) === undefined) {
        expect(response.status).toBe(500)
        expect(await response.text()).toContain("npm run build")
      } else {
        expect(response.status).toBe(200)
        expect(response.headers.get("content-type")).toContain(name.endsWith(".js") ? "javascript" : "css")
      }
    }
  })

  it("lists sessions and agents with filters, a page at a time", async () => {
    const s = server()
    const all = await s.json<SessionPage>("/api/sessions?kind=agent")
    expect(all.body.sessions.map((session) => session.sessionId)).toEqual(["other/é", "main"])
    const main = all.body.sessions[1]!
    expect(main).toMatchObject({ checkpoints: 6, agentIds: ["agent-a", "agent-b"], agentTypes: ["coder", "writer"] })
    expect(main).toMatchObject({ firstCreatedAt: 10_000, lastCreatedAt: 10_450 })
    const first = await s.json<SessionPage>("/api/sessions?kind=agent&limit=1")
    expect(first.body.sessions.map((session) => session.sessionId)).toEqual(["other/é"])
    const second = await s.json<SessionPage>(`/api/sessions?kind=agent&limit=1&cursor=${first.body.nextCursor}`)
    expect(second.body.sessions.map((session) => session.sessionId)).toEqual(["main"])
    expect(second.body.nextCursor).toBeUndefined()
    const filtered = await s.json<SessionPage>("/api/sessions?kind=agent&agentId=agent-b&from=10000&to=10300")
    expect(filtered.body.sessions).toEqual([
      expect.objectContaining({ sessionId: "main", checkpoints: 1, agentIds: ["agent-b"], lastCreatedAt: 10_300 })
    ])
    const apps = await s.json<SessionPage>("/api/sessions?kind=app")
    expect(apps.body.sessions).toEqual([expect.objectContaining({ sessionId: "app-1", checkpoints: 2, agentIds: [] })])
    const agents = await s.json<AgentPage>("/api/agents?agentType=coder")
    expect(agents.body.agents.map((agent) => agent.agentId)).toEqual(["agent-c", "agent-a"])
    expect(agents.body.agents[1]).toEqual({ agentId: "agent-a", agentType: "coder", checkpoints: 4, sessions: 1, lastCreatedAt: 10_450 })
  })

  it("shows a timeline oldest first, then only what was stored after a checkpoint, and a checkpoint's detail", async () => {
    const s = server()
    const { fork, main } = s.ids
    const timeline = await s.json<Timeline>("/api/sessions/main/checkpoints?kind=agent")
    expect(timeline.body).toMatchObject({ sessionId: "main", kind: "agent", truncated: false })
    expect(timeline.body.checkpoints.map((entry) => entry.id)).toEqual([main[0], main[1], main[2], main[3], main[4], fork])
    const forked = timeline.body.checkpoints[5]!
    expect(forked).toMatchObject({ name: "fork", parentId: main[1], agentId: "agent-a", agentType: "coder" })
    expect(forked.stateBytes).toBe(Buffer.byteLength(JSON.stringify({ i: 1, note: "é🦊" }), "utf8"))
    const after = await s.json<Timeline>(`/api/sessions/main/checkpoints?kind=agent&after=${main[3]}`)
    expect(after.body.checkpoints.map((entry) => entry.id)).toEqual([main[4], fork])
    const none = await s.json<Timeline>(`/api/sessions/main/checkpoints?kind=agent&after=${fork}`)
    expect(none.body.checkpoints).toEqual([])
    const odd = await s.json<Timeline>(`/api/sessions/${encodeURIComponent("other/é")}/checkpoints`)
    expect(odd.body.checkpoints).toHaveLength(2)
    const detail = await s.json<CheckpointDetail>(`/api/checkpoints/${fork}?kind=agent`)
    expect(detail.body).toMatchObject({ id: fork, kind: "agent", sessionId: "main", state: { i: 1, note: "é🦊" } })
    const app = await s.json<CheckpointDetail>(`/api/checkpoints/${s.ids.app[0]}?kind=app`)
    expect(app.body).toMatchObject({ kind: "app", sessionId: "app-1", state: { i: 0 }, parentId: null })
  })

  it("exports a session as the JSON Lines of `ecs export`, as a download", async () => {
    const s = server()
    const response = await s.get(`/api/sessions/${encodeURIComponent("other/é")}/export?kind=agent`)
    expect(response.status).toBe(200)
    expectSecurityHeaders(response)
    expect(response.headers.get("content-disposition")).toBe(`attachment; filename="session-other__.jsonl"`)
    const lines = (await response.text()).trim().split("\n").map((line) => JSON.parse(line) as unknown)
    expect(Schema.decodeUnknownSync(ExportHeader)(lines[0])).toMatchObject({ format: "effect-checkpoint-storage/jsonl" })
    const checkpoints = lines.slice(1).map((line) => Schema.decodeUnknownSync(ExportLine)(line))
    expect(checkpoints.map((line) => line.sessionId)).toEqual(["other/é", "other/é"])
  })

  it("answers a missing thing with 404 and a bad query with 400, as JSON", async () => {
    const s = server()
    const cases: ReadonlyArray<readonly [string, number, string]> = [
      ["/api/checkpoints/999999?kind=agent", 404, "NotFound"],
      ["/api/checkpoints/abc", 404, "NotFound"],
      ["/api/sessions/nobody/export", 404, "NotFound"],
      ["/api/langgraph/threads/nobody", 404, "NotFound"],
      ["/api/nothing", 404, "NotFound"],
      ["/api/sessions?limit=abc", 400, "BadRequest"],
      ["/api/sessions?kind=zzz", 400, "BadRequest"],
      ["/api/sessions?limit=0", 400, "CheckpointValidationError"],
      ["/api/sessions?from=20&to=10", 400, "CheckpointValidationError"],
      ["/api/sessions?cursor=nope", 400, "CheckpointValidationError"],
      ["/api/agents?limit=501", 400, "CheckpointValidationError"],
      ["/api/sessions/main/checkpoints?after=abc", 400, "BadRequest"]
    ]
    for (const [path, status, tag] of cases) {
      const response = await s.get(path)
      expect({ path, status: response.status }).toEqual({ path, status })
      expectSecurityHeaders(response)
      expect(await response.json()).toMatchObject({ error: { tag } })
    }
  })
}

describe("the inspector on a SQLite file", { timeout: 60_000 }, () => {
  const tmp = temporaryDirectory()
  const file = Path.join(tmp.path, "inspected.db")
  let served: Served & { readonly ids: Seeded }
  beforeAll(async () => {
    served = await serve(`sqlite:${file}`, false)
  })
  afterAll(async () => {
    await served?.close()
    tmp.remove()
  })
  behavesAsInspector(() => served)

  it("reports no LangGraph threads, and does not create the LangGraph tables to say so", async () => {
    const overview = await served.json<Overview>("/api/overview")
    expect(overview.body).toEqual({ database: file, agentCheckpoints: 8, appCheckpoints: 2, langGraphThreads: null })
    expect((await served.json<ThreadPage>("/api/langgraph/threads")).body).toEqual({ threads: [] })
    const Database = (await import("better-sqlite3")).default
    const database = new Database(file, { readonly: true })
    try {
      const tables = database.prepare("SELECT name FROM sqlite_master WHERE name LIKE '%langgraph%'").all()
      expect(tables).toEqual([])
    } finally {
      database.close()
    }
  })

  it("listens on 127.0.0.1 only", async () => {
    const port = new URL(served.url).port
    const others = Object.values(Os.networkInterfaces()).flat().filter((address) =>
      address !== undefined && !address.internal && address.family === "IPv4"
    )
    for (const address of others) {
      await expect(fetch(`http://${address!.address}:${port}/?token=${served.token}`)).rejects.toThrow()
    }
    await expect(fetch(`http://[::1]:${port}/?token=${served.token}`)).rejects.toThrow()
  })
})

describe("the inspector on PostgreSQL, with a password in the URL", { timeout: 60_000 }, () => {
  let served: Served & { readonly ids: Seeded }
  let release: () => Promise<void>
  beforeAll(async () => {
    const provisioned = await provision(postgres)
    release = provisioned.release
    const config = provisioned.db.config
    if (config.type !== "postgres" || config.connectionString === undefined) throw new Error("expected PostgreSQL")
    // Trust authentication ignores the password: the URL carries one that must never be sent.
    const url = new URL(config.connectionString)
    url.password = PASSWORD
    served = await serve(url.toString(), true)
  }, 60_000)
  afterAll(async () => {
    await served?.close()
    await release?.()
  })
  behavesAsInspector(() => served)

  it("shows the database with its password masked, and the LangGraph threads", async () => {
    const overview = await served.json<Overview>("/api/overview")
    expect(overview.body).toMatchObject({ agentCheckpoints: 8, appCheckpoints: 2, langGraphThreads: 1 })
    expect(overview.body.database).toContain("***")
    const threads = await served.json<ThreadPage>("/api/langgraph/threads?limit=10")
    expect(threads.body.threads).toEqual([expect.objectContaining({ threadId: "thread-1", checkpoints: 1 })])
    const history = await served.json<ThreadHistory>("/api/langgraph/threads/thread-1?limit=5")
    expect(history.body.checkpoints).toEqual([
      expect.objectContaining({
        checkpointId: "cp-1",
        metadata: { step: 1 },
        channelValues: { messages: ["hi"], blob: { type: "bytes", bytes: 3 } },
        pendingWrites: 0
      })
    ])
  })

  it("never sends the password: in no body and no header of any route so far", () => {
    expect(served.seen.length).toBeGreaterThan(50)
    for (const text of served.seen) expect(text).not.toContain(PASSWORD)
  })
})

describe("ecs ui, the command", { timeout: 120_000 }, () => {
  let cli: CliBuild
  const tmp = temporaryDirectory()
  beforeAll(async () => {
    cli = await buildCli()
  }, 120_000)
  afterAll(() => {
    cli?.remove()
    tmp.remove()
  })

  it("prints its address, answers the API with the token, and stops on Ctrl-C", async () => {
    const file = Path.join(tmp.path, "cli.db")
    const url = Effect.runSync(parseDatabaseUrl(`sqlite:${file}`))
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const context = yield* Layer.build(layerInspected(url))
      yield* Context.get(context, CheckpointStorage).storeAgentCheckpoint({
        agentId: "a",
        sessionId: "s",
        agentType: "t",
        name: "n",
        state: {},
        createdAt: 1
      })
    })))
    const run = startCli(cli.main, ["ui", "--db", `sqlite:${file}`])
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const found = /http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+/.exec(run.output().stdout)
        if (found !== null) {
          clearInterval(timer)
          resolve(found[0])
        }
      }, 50)
      void run.done.then((result) => {
        clearInterval(timer)
        reject(new Error(`ecs ui exited: ${result.stderr}`))
      })
    })
    expect(run.output().stdout).toContain("Ctrl-C")
    const token = new URL(address).searchParams.get("token")!
    const response = await fetch(new URL(`/api/overview?token=${token}`, address))
    expect(await response.json()).toMatchObject({ database: file, agentCheckpoints: 1, appCheckpoints: 0 })
    expect((await fetch(new URL("/api/overview", address))).status).toBe(401)
    run.child.kill("SIGINT")
    const result = await run.done
    expect(result.code).toBe(130)
    expect(result.stderr).toContain("ecs: the inspector stopped")
    expect(result.stderr).not.toContain("rolled back")
  })

  it("refuses a SQLite file that does not exist rather than create it", async () => {
    const missing = Path.join(tmp.path, "missing.db")
    const result = await startCli(cli.main, ["ui", "--db", `sqlite:${missing}`]).done
    expect(result.code).toBe(1)
    expect(result.stderr).toContain("There is no SQLite database")
    expect(Fs.existsSync(missing)).toBe(false)
  })
})
