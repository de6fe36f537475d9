/**
 * Configs are validated before anything connects: a bad one is a CheckpointValidationError naming the field, and
 * never repeats the connection string (it may hold a password).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import {
  type CheckpointStorage,
  CheckpointValidationError,
  layerFromConfig,
  layerMysql,
  layerPostgres,
  layerSqliteNode,
  type StorageConfig,
  type StorageLayerError
} from "../src/index.js"

const buildError = (layer: Layer.Layer<CheckpointStorage, StorageLayerError>) =>
  Effect.scoped(Effect.flip(Layer.build(layer)))

describe("storage configs", () => {
  it.effect("refuses an unknown database type, naming the type field", () =>
    Effect.gen(function*() {
      const error = yield* buildError(layerFromConfig({ type: "redis", url: "redis://x" } as unknown as StorageConfig))
      expect(error).toBeInstanceOf(CheckpointValidationError)
      expect(error).toMatchObject({ subject: "StorageConfig" })
      expect((error as CheckpointValidationError).issues.map((issue) => issue.path)).toContain("type")
    }))

  it.effect("refuses a connection string that is not a URL, without repeating it", () =>
    Effect.gen(function*() {
      const secret = "hunter2secret at db.internal, database agents"
      const error = yield* buildError(layerPostgres({ connectionString: secret }))
      expect(error).toBeInstanceOf(CheckpointValidationError)
      expect((error as CheckpointValidationError).issues).toEqual([
        { path: "connectionString", message: "must be a URL such as postgres://user:password@localhost:5432/database" }
      ])
      expect(error.message).not.toContain("hunter2secret")
      expect(JSON.stringify(error)).not.toContain("hunter2secret")
    }))

  it.effect("refuses a connection string for another database, without repeating it", () =>
    Effect.gen(function*() {
      const error = yield* buildError(layerMysql({ connectionString: "postgres://u:hunter2secret@localhost/db" }))
      expect(error.message).toBe("Invalid MysqlStorageConfig: connectionString: must be a URL starting with mysql:// or mariadb://")
      expect(JSON.stringify(error)).not.toContain("hunter2secret")
    }))

  it.effect("refuses a Redacted connection string that is not a URL, without revealing it", () =>
    Effect.gen(function*() {
      const error = yield* buildError(
        layerFromConfig({ type: "postgres", connectionString: Redacted.make("hunter2secret") })
      )
      expect(error).toBeInstanceOf(CheckpointValidationError)
      expect(error.message).toContain("connectionString: must be a URL")
      expect(error.message).not.toContain("hunter2secret")
    }))

  it.effect("refuses an empty SQLite path and a type that does not match the layer", () =>
    Effect.gen(function*() {
      const empty = yield* buildError(layerSqliteNode({ databasePath: "" }))
      expect((empty as CheckpointValidationError).issues).toEqual([{ path: "databasePath", message: "must not be empty" }])
      const mismatched = yield* buildError(
        layerSqliteNode({ type: "postgres", databasePath: "x.db" } as unknown as Parameters<typeof layerSqliteNode>[0])
      )
      expect((mismatched as CheckpointValidationError).issues.map((issue) => issue.path)).toEqual(["type"])
    }))
})
