/**
 * The published package, as a user gets it: `npm pack` output installed in a fresh folder next to only the
 * PostgreSQL driver, imported by a plain .mjs file. Importing the root must not load a driver that is not there.
 */
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { postgres } from "./support/targets.js"
import { TestDatabase } from "./support/TestDatabase.js"

const projectRoot = Path.resolve(import.meta.dirname, "..")

const run = (command: string, args: ReadonlyArray<string>, cwd: string, env: Record<string, string> = {}) =>
  Effect.sync(() =>
    // A process that does not end by itself within the timeout (a connection left open) fails the test.
    ChildProcess.spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, ...env }, timeout: 120_000 })
  ).pipe(
    Effect.tap((result) => {
      if (result.status !== 0) {
        return Effect.dieMessage(`${command} ${args.join(" ")} exited ${result.status} ${result.signal ?? ""}:\n${result.stdout}\n${result.stderr}`)
      }
      return Effect.void
    }),
    Effect.map((result) => result.stdout)
  )

// A Token Ring app as a plain .mjs: the Effect API, the Promise facades, and both plugins (with stand-ins for the
// @tokenring-ai/checkpoint and @tokenring-ai/metrics packages, which are not on the npm registry). It never calls process.exit: stop() must
// release everything for the process to end.
const consumerScript = `
import { CheckpointStorage, layerMysql, layerPostgres, PostgresStorage, StorageConnectionError } from "effect-checkpoint-storage"
import plugin from "effect-checkpoint-storage/plugin"
import AgentCheckpointService from "@tokenring-ai/checkpoint/AgentCheckpointService"
import AppCheckpointService from "@tokenring-ai/checkpoint/AppCheckpointService"
import { BunStorage } from "effect-checkpoint-storage/bun-storage"
import bunStoragePlugin from "effect-checkpoint-storage/bun-storage/plugin"
import MetricsService from "@tokenring-ai/metrics/MetricsService"
import { SqlCheckpointSaver } from "effect-checkpoint-storage/langgraph"
import { emptyCheckpoint } from "@langchain/langgraph-checkpoint"
import { Effect, Layer, Option } from "effect"

const program = Effect.gen(function*() {
  const storage = yield* CheckpointStorage
  const id = yield* storage.storeAgentCheckpoint({
    agentId: "agent-123", sessionId: "session-456", agentType: "coder", name: "session-1",
    state: { messages: ["Hello"], count: 1 }, createdAt: Date.now()
  })
  const retrieved = yield* storage.retrieveAgentCheckpoint(id)
  return Option.getOrThrow(retrieved).state
})
const state = await Effect.runPromise(program.pipe(Effect.provide(layerPostgres({ connectionString: process.env.DATABASE_URL }))))
const mysql = await Effect.runPromise(Effect.flip(Effect.scoped(Layer.build(layerMysql({ connectionString: "mysql://root@127.0.0.1:3306/test" })))))

const facade = new PostgresStorage({ type: "postgres", connectionString: process.env.DATABASE_URL })
await facade.start()
const appId = await facade.storeAppCheckpoint({ sessionId: "s", hostname: "h", projectDirectory: "/p", state: { a: 1 }, createdAt: 5 })
const latest = await facade.retrieveLatestAppCheckpoint()
await facade.stop()

const services = []
const app = { services: {
  register: (service) => services.push(service),
  waitForItemByType: (type, callback) => { for (const service of [new AgentCheckpointService(), new AppCheckpointService()]) if (service instanceof type) callback(service) }
} }
const config = plugin.config.parse({ drizzleStorage: { type: "postgres", connectionString: process.env.DATABASE_URL } })
await plugin.install(app, config)
const fromPlugin = services[0]
await fromPlugin.start()
const pluginList = await fromPlugin.listAppCheckpoints()
await fromPlugin.stop()
const drizzleProviders = AgentCheckpointService.received + AppCheckpointService.received

const added = []
const bunApp = {
  getWorkspaceResolvedPath: (path) => path,
  serviceOutput() {},
  serviceError() {},
  addService: (service) => added.push(service),
  waitForService: (type, callback) => {
    for (const service of [new AgentCheckpointService(), new AppCheckpointService(), new MetricsService()]) if (service instanceof type) callback(service)
  }
}
await bunStoragePlugin.earlyInstall(bunApp, bunStoragePlugin.immutableConfigSchema.parse({ bunStorage: { connectionString: process.env.DATABASE_URL } }))
const bun = added[0]
await bun.start()
const bunId = await bun.storeAgentCheckpoint({ agentId: "a", sessionId: "s", agentType: "t", name: "n", state: { b: 2 }, createdAt: 7 })
const bunRead = await bun.retrieveAgentCheckpoint(bunId)
await bun.stop()

const saver = SqlCheckpointSaver.fromConnString(process.env.DATABASE_URL)
const checkpoint = { ...emptyCheckpoint(), channel_values: { messages: ["hi"] }, channel_versions: { messages: 1 } }
const saved = await saver.put({ configurable: { thread_id: "thread-1" } }, checkpoint, { source: "input", step: -1, parents: {} }, { messages: 1 })
const graphState = (await saver.getTuple(saved))?.checkpoint.channel_values
await saver.end()

console.log(JSON.stringify({
  state,
  mysqlError: { tag: mysql._tag, code: mysql.code, isTyped: mysql instanceof StorageConnectionError },
  facade: { name: facade.name, latestId: latest?.id === appId },
  plugin: { name: plugin.name, registered: fromPlugin?.name, providers: drizzleProviders, listed: pluginList.length },
  bunStorage: { isClass: bun instanceof BunStorage, idType: typeof bunId, state: bunRead?.state, providers: AgentCheckpointService.received + AppCheckpointService.received - drizzleProviders, metricsProviders: MetricsService.received },
  langgraph: { isSaver: typeof saver.getTuple === "function", graphState }
}))
`

const fakeCheckpointService = (name: string) => `export default class ${name} {
  static received = 0
  setCheckpointProvider(provider) { ${name}.received += provider && typeof provider.storeAgentCheckpoint === "function" ? 1 : 0 }
}
`

const fakeMetricsService = `export default class MetricsService {
  static received = 0
  setMetricsProvider(provider) { MetricsService.received += provider && typeof provider.storeAgentMetrics === "function" ? 1 : 0 }
}
`

layer(postgres.freshDatabase, { timeout: 600_000 })("the npm package", (it) => {
  it.effect("installs from npm pack into a fresh folder; a plain .mjs with only the pg driver uses the API, the facade and the plugin, and exits by itself", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      if (db.config.type !== "postgres") return yield* Effect.dieMessage("expected a PostgreSQL test database")
      const directory = yield* Effect.acquireRelease(
        Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "ecs-pack-"))),
        (directory) => Effect.sync(() => Fs.rmSync(directory, { recursive: true, force: true }))
      )
      const packed = yield* run("npm", ["pack", "--silent", "--pack-destination", directory], projectRoot)
      const tarball = Path.join(directory, packed.trim().split("\n").pop()!)
      const consumer = Path.join(directory, "consumer")
      Fs.mkdirSync(consumer)
      Fs.writeFileSync(Path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }))
      Fs.writeFileSync(Path.join(consumer, "main.mjs"), consumerScript)
      const fakeCheckpoint = Path.join(directory, "tokenring-checkpoint")
      Fs.mkdirSync(fakeCheckpoint)
      Fs.writeFileSync(
        Path.join(fakeCheckpoint, "package.json"),
        JSON.stringify({
          name: "@tokenring-ai/checkpoint",
          version: "0.0.0-stand-in",
          type: "module",
          exports: {
            "./AgentCheckpointService": "./AgentCheckpointService.js",
            "./AppCheckpointService": "./AppCheckpointService.js"
          }
        })
      )
      for (const service of ["AgentCheckpointService", "AppCheckpointService"]) {
        Fs.writeFileSync(Path.join(fakeCheckpoint, `${service}.js`), fakeCheckpointService(service))
      }
      const fakeMetrics = Path.join(directory, "tokenring-metrics")
      Fs.mkdirSync(fakeMetrics)
      Fs.writeFileSync(
        Path.join(fakeMetrics, "package.json"),
        JSON.stringify({
          name: "@tokenring-ai/metrics",
          version: "0.0.0-stand-in",
          type: "module",
          exports: { "./MetricsService": "./MetricsService.js" }
        })
      )
      Fs.writeFileSync(Path.join(fakeMetrics, "MetricsService.js"), fakeMetricsService)
      const { version } = JSON.parse(Fs.readFileSync(Path.join(projectRoot, "node_modules/@effect/sql-pg/package.json"), "utf8"))
      const versionOf = (name: string): string =>
        JSON.parse(Fs.readFileSync(Path.join(projectRoot, "node_modules", name, "package.json"), "utf8")).version
      const zodVersion = versionOf("zod")
      yield* run("npm", [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        tarball,
        `@effect/sql-pg@${version}`,
        `zod@${zodVersion}`,
        `@langchain/langgraph-checkpoint@${versionOf("@langchain/langgraph-checkpoint")}`,
        `@langchain/core@${versionOf("@langchain/core")}`,
        fakeCheckpoint,
        fakeMetrics
      ], consumer)
      expect(Fs.existsSync(Path.join(consumer, "node_modules/@effect/sql-mysql2"))).toBe(false)
      expect(Fs.existsSync(Path.join(consumer, "node_modules/@effect/sql-sqlite-node"))).toBe(false)
      expect(Fs.existsSync(Path.join(consumer, "node_modules/better-sqlite3"))).toBe(false)
      const output = yield* run("node", ["main.mjs"], consumer, { DATABASE_URL: String(db.config.connectionString) })
      expect(JSON.parse(output.trim().split("\n").pop()!)).toEqual({
        state: { messages: ["Hello"], count: 1 },
        mysqlError: { tag: "StorageConnectionError", code: "DRIVER_NOT_AVAILABLE", isTyped: true },
        facade: { name: "PostgresStorage", latestId: true },
        plugin: { name: "effect-checkpoint-storage", registered: "PostgresStorage", providers: 2, listed: 1 },
        bunStorage: { isClass: true, idType: "number", state: { b: 2 }, providers: 2, metricsProviders: 1 },
        langgraph: { isSaver: true, graphState: { messages: ["hi"] } }
      })
    }).pipe(Effect.scoped), 300_000) // npm pack, a build and an install: 25 s alone, over 60 s beside the whole suite
})
