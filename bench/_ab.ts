import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as Exit from "effect/Exit"
import { CheckpointStorage } from "../src/index.js"
import { cleanupAll, createDatabase, type Db } from "./databases.js"
import { rawSide, storageLayer } from "./subjects.js"
import { checkpoints } from "./workload.js"
const db = (process.argv[2] ?? "pg") as Db
const op = process.argv[3] ?? "store"
const database = await createDatabase(db)
try {
  const scope = Effect.runSync(Scope.make())
  const ctx = await Effect.runPromise(Layer.buildWithScope(storageLayer(db, database.connectionString), scope))
  const storage = Context.get(ctx, CheckpointStorage)
  const raw = await rawSide(database)
  const inputs = checkpoints("1KiB", 64)
  const ids = await Effect.runPromise(Effect.forEach(inputs, (i) => storage.storeAgentCheckpoint(i)))
  const work = { inputs, ids, sessionId: inputs[0]!.sessionId, pageSize: 50 }
  const N = Number(process.argv[4] ?? 1500)
  const effectRun = (n: number) => Effect.runPromise(Effect.gen(function*() {
    const t = performance.now()
    for (let i = 0; i < n; i++) {
      if (op === "store") yield* storage.storeAgentCheckpoint(inputs[i % 64]!)
      else if (op === "retrieve") yield* storage.retrieveAgentCheckpoint(ids[i % 64]!)
      else if (op === "listPage") yield* storage.listAgentCheckpoints({ sessionId: work.sessionId, limit: 50 })
      else yield* storage.retrieveLatestAgentCheckpoint({ sessionId: work.sessionId })
    }
    return (performance.now() - t) * 1000 / n
  }))
  for (let r = 0; r < 4; r++) {
    const rr = await raw.run(op as any, work, 1, 0, N)
    const e = await effectRun(N)
    console.log(`${db} ${op} raw ${(rr.seconds * 1e6 / rr.ops).toFixed(0)} µs  effect ${e.toFixed(0)} µs`)
  }
  await raw.close(); await Effect.runPromise(Scope.close(scope, Exit.void))
} finally { await cleanupAll() }
