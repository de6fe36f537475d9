import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import Database from "better-sqlite3"
import { CheckpointStorage } from "../src/index.js"
import { cleanupAll, createDatabase } from "./databases.js"
import { storageLayer } from "./subjects.js"
import { checkpoints } from "./workload.js"
const database = await createDatabase("sqlite")
try {
  const scope = Effect.runSync(Scope.make())
  const ctx = await Effect.runPromise(Layer.buildWithScope(storageLayer("sqlite", database.connectionString), scope))
  const storage = Context.get(ctx, CheckpointStorage)
  const db = new Database(database.connectionString); db.pragma("journal_mode = WAL")
  const inputs = checkpoints("1KiB", 64)
  const cols = ["state","sizeBytes","sessionId","agentId","name","agentType","createdAt"]
  const vals = (c: any) => { const s = JSON.stringify(c.state); return [s, Buffer.byteLength(s), c.sessionId, c.agentId, c.name, c.agentType, c.createdAt] }
  const text = (ret: boolean) => `INSERT INTO "AgentCheckpoints" (${cols.map(c=>`"${c}"`).join(",")}) VALUES (${cols.map(()=>"?").join(",")})${ret ? ` RETURNING "id"` : ""}`
  const run = db.prepare(text(false)), ret = db.prepare(text(true))
  const N = 3000
  for (let r = 0; r < 3; r++) {
    let t = performance.now(); for (let i = 0; i < N; i++) run.run(...vals(inputs[i % 64])); const a = (performance.now() - t) * 1000 / N
    t = performance.now(); for (let i = 0; i < N; i++) ret.all(...vals(inputs[i % 64])); const b = (performance.now() - t) * 1000 / N
    t = performance.now(); await Effect.runPromise(Effect.gen(function*() { for (let i = 0; i < N; i++) yield* storage.storeAgentCheckpoint(inputs[i % 64]!) })); const c = (performance.now() - t) * 1000 / N
    t = performance.now(); for (let i = 0; i < N; i++) vals(inputs[i % 64]); const d = (performance.now() - t) * 1000 / N
    console.log(`run ${a.toFixed(0)}  returning ${b.toFixed(0)}  storage ${c.toFixed(0)}  encode ${d.toFixed(1)} µs`)
  }
  db.close()
  await Effect.runPromise(Scope.close(scope, (await import("effect/Exit")).void))
} finally { await cleanupAll() }
