/**
 * `SQLiteStorage`, `MySQLStorage` and `PostgresStorage`: drop-in replacements for the classes of Token Ring's
 * `@tokenring-ai/drizzle-storage`, constructed with the same config objects.
 *
 * @since 0.1.0
 */
import { maskConnectionString } from "../internal/connectionTarget.js"
import { isBun } from "../layers/FromConfig.js"
import { layerMysql, type MysqlStorageOptions } from "../layers/Mysql.js"
import { layerPostgres, type PostgresStorageOptions } from "../layers/Postgres.js"
import { layerSqliteBun } from "../layers/SqliteBun.js"
import { layerSqliteNode, type SqliteStorageOptions } from "../layers/SqliteNode.js"
import { CheckpointStoragePromise } from "./CheckpointStoragePromise.js"

/**
 * Checkpoints in a SQLite file: bun:sqlite under Bun, better-sqlite3 under Node.js.
 *
 * @example
 * ```ts
 * import { SQLiteStorage } from "effect-checkpoint-storage"
 *
 * const storage = new SQLiteStorage({ type: "sqlite", databasePath: "./agent_state.db" })
 * await storage.start()
 * const id = await storage.storeAgentCheckpoint({
 *   agentId: "agent-123", sessionId: "session-456", agentType: "coder", name: "session-1",
 *   state: { messages: ["Hello"] }, createdAt: Date.now()
 * })
 * await storage.stop()
 * ```
 *
 * @since 0.1.0
 */
export class SQLiteStorage extends CheckpointStoragePromise {
  readonly name = "SQLiteStorage"
  readonly description = "SQLite storage provider"
  readonly displayName: string

  constructor(config: SqliteStorageOptions) {
    super(isBun ? layerSqliteBun(config) : layerSqliteNode(config))
    this.displayName = `SQLite (${config.databasePath})`
  }
}

/**
 * Checkpoints in MySQL or MariaDB.
 *
 * @since 0.1.0
 */
export class MySQLStorage extends CheckpointStoragePromise {
  readonly name = "MySQLStorage"
  readonly description = "MySQL storage provider"
  /** `MySQL (mysql://user:***@host:3306/database)`: the password is masked. */
  readonly displayName: string

  constructor(config: MysqlStorageOptions) {
    super(layerMysql(config))
    this.displayName = `MySQL (${maskConnectionString(config.connectionString)})`
  }
}

/**
 * Checkpoints in PostgreSQL.
 *
 * @since 0.1.0
 */
export class PostgresStorage extends CheckpointStoragePromise {
  readonly name = "PostgresStorage"
  readonly description = "PostgreSQL storage provider"
  /** `Postgres (postgres://user:***@host:5432/database)`: the password is masked. */
  readonly displayName: string

  constructor(config: PostgresStorageOptions) {
    super(layerPostgres(config))
    this.displayName = `Postgres (${maskConnectionString(config.connectionString)})`
  }
}
