/**
 * A profiling harness: one operation in a loop on one side of the benchmark, for `node --cpu-prof`.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof node_modules/vite-node/vite-node.mjs bench/profile.ts -- \
 *     <db> <op> <size> [n] [callers] [side]
 *
 * db: pg, mysql, sqlite; op: store, retrieve, latest, listPage, deepPage, listAll; size: 1KiB, 64KiB, 1MiB;
 * side: effect (default), bare (the bare SqlClient of the same layer running the storage's statements: the floor of
 * @effect/sql and the driver), promise (the facade) or raw (the driver). The side runs exactly as in the benchmark
 * (bench/subjects.ts): `callers` loops, no fiber per call. Profile two sides one after the other and compare the
 * self time outside @effect/sql and the driver.
 */
import { cleanupAll, createDatabase, type Db } from "./databases.js"
import { bareSide, effectSide, type OpName, promiseFacadeSide, rawSide, type Side, type Workload } from "./subjects.js"
import { checkpoints, type SizeName } from "./workload.js"

const [db = "sqlite", op = "store", size = "1KiB", count = "20000", callers = "1", sideName = "effect"] = process.argv
  .slice(2)
  .filter((arg) => arg !== "--")
const database = await createDatabase(db as Db)
try {
  // The storage first: building it creates the tables.
  const storage = await effectSide(database)
  const side: Side = sideName === "effect"
    ? storage
    : sideName === "bare"
    ? await bareSide(database)
    : sideName === "promise"
    ? await promiseFacadeSide(database)
    : await rawSide(database)
  const inputs = checkpoints(size as SizeName, 64)
  const work: Workload = { inputs, ids: [], sessionId: inputs[0]!.sessionId, pageSize: 50, before: Date.now() }
  // Rows to read: stored by the side itself.
  await side.run("store", work, 1, 0, 64)
  const reads: Workload = { ...work, ids: side.storedIds.slice() }
  const n = Number(count)
  const { ops, seconds } = await side.run(op as OpName, op === "store" ? work : reads, Number(callers), 0, n)
  console.log(
    `${db} ${sideName} ${op} ${size} ×${callers}: ${(ops / seconds).toFixed(0)} ops/s, ${(1e6 * seconds / ops).toFixed(1)} µs/op`
  )
  await side.close()
  if (side !== storage) await storage.close()
} finally {
  await cleanupAll()
}
