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
    ChildProcess.spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, ...env }, timeout: 300_000 })
  ).pipe(
    Effect.tap((result) => {
      if (result.status !== 0) {
        return Effect.dieMessage(`${command} ${args.join(" ")} exited ${result.status}:\n${result.stdout}\n${result.stderr}`)
      }
      return Effect.void
    }),
    Effect.map((result) => result.stdout)
  )

const consumerScript = `
import { CheckpointStorage, layerMysql, layerPostgres, StorageConnectionError } from "effect-checkpoint-storage"
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
console.log(JSON.stringify({ state, mysqlError: { tag: mysql._tag, code: mysql.code, isTyped: mysql instanceof StorageConnectionError } }))
`

layer(postgres.freshDatabase, { timeout: 600_000 })("the npm package", (it) => {
  it.effect("installs from npm pack into a fresh folder and works from a plain .mjs with only the pg driver", () =>
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
      const { version } = JSON.parse(Fs.readFileSync(Path.join(projectRoot, "node_modules/@effect/sql-pg/package.json"), "utf8"))
      yield* run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball, `@effect/sql-pg@${version}`], consumer)
      expect(Fs.existsSync(Path.join(consumer, "node_modules/@effect/sql-mysql2"))).toBe(false)
      expect(Fs.existsSync(Path.join(consumer, "node_modules/@effect/sql-sqlite-node"))).toBe(false)
      const output = yield* run("node", ["main.mjs"], consumer, { DATABASE_URL: String(db.config.connectionString) })
      expect(JSON.parse(output.trim().split("\n").pop()!)).toEqual({
        state: { messages: ["Hello"], count: 1 },
        mysqlError: { tag: "StorageConnectionError", code: "DRIVER_NOT_AVAILABLE", isTyped: true }
      })
    }).pipe(Effect.scoped))
})
