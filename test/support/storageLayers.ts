/**
 * A storage on a target's test database, for the conformance suites: as the layer of a group, or built within a test.
 */
import { Context, Effect, Layer } from "effect"
import { CheckpointStorage, type SqlCheckpointStorageOptions } from "../../src/index.js"
import { TestDatabase, type TestTarget } from "./TestDatabase.js"

/** A fresh database of the target with a storage on it (both in context). */
export const withStorage = (target: TestTarget, options?: SqlCheckpointStorageOptions) =>
  Layer.provideMerge(Layer.unwrapEffect(Effect.map(TestDatabase, (db) => db.storage(options))), target.freshDatabase)

/** Builds a new storage on the group's database for the rest of the scope. */
export const buildStorage = (options?: SqlCheckpointStorageOptions) =>
  Effect.gen(function*() {
    const db = yield* TestDatabase
    return Context.get(yield* Layer.build(db.storage(options)), CheckpointStorage)
  })

/** The number of rows in a table, read behind the storage's back. */
export const countRows = (table: string) =>
  Effect.flatMap(TestDatabase, (db) =>
    db.withSql((sql) =>
      Effect.map(sql<{ readonly n: number | string }>`SELECT COUNT(*) AS n FROM ${sql(table)}`, (rows) => Number(rows[0]!.n))
    ))
