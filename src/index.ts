/**
 * effect-checkpoint-storage: agent and app state checkpoints in PostgreSQL, MySQL/MariaDB and SQLite, as an
 * Effect service with typed errors. Importing this module loads no database driver; each layer loads its own
 * when it is built.
 *
 * @since 0.1.0
 */
export * from "./schema/AgentCheckpoint.js"
export * from "./schema/AgentMetrics.js"
export * from "./schema/AppCheckpoint.js"
export * from "./schema/CheckpointFields.js"
export * from "./schema/CheckpointImport.js"
export * from "./schema/CheckpointQuery.js"
export * from "./schema/SessionList.js"
export * from "./schema/StorageConfig.js"

export * from "./services/CheckpointStorage.js"
export * from "./services/CheckpointStorageError.js"
export * from "./services/LangGraphCheckpoints.js"
export * from "./services/PersistenceStorage.js"

export { checkpointMigrations, DEFAULT_MIGRATIONS_TABLE, runCheckpointMigrations } from "./layers/CheckpointMigrations.js"
export { isBun, layerFromConfig } from "./layers/FromConfig.js"
export { layerMysql, type MysqlStorageOptions } from "./layers/Mysql.js"
export { DEFAULT_CONNECT_TIMEOUT, layerPostgres, type PostgresStorageOptions } from "./layers/Postgres.js"
export {
  DEFAULT_OPERATION_TIMEOUT,
  layerSql,
  make as makeSqlCheckpointStorage,
  type SqlCheckpointStorageOptions
} from "./layers/SqlCheckpointStorage.js"
export {
  LANGGRAPH_MIGRATIONS_TABLE,
  langGraphMigrations,
  LangGraphTables,
  runLangGraphMigrations
} from "./layers/LangGraphMigrations.js"
export {
  layerLangGraphSql,
  make as makeSqlLangGraphCheckpoints,
  type SqlLangGraphCheckpointsOptions
} from "./layers/SqlLangGraphCheckpoints.js"
export { PersistenceKeyLimits } from "./layers/PersistenceKeys.js"
export {
  PERSISTENCE_MIGRATIONS_TABLE,
  PERSISTENCE_TABLE,
  persistenceMigrations,
  runPersistenceMigrations
} from "./layers/PersistenceMigrations.js"
export {
  layerBackingSql,
  layerPersistenceSql,
  make as makeSqlPersistenceStorage,
  type SqlPersistenceStorageOptions
} from "./layers/SqlPersistenceStorage.js"
export { layerSqliteBun } from "./layers/SqliteBun.js"
export { layerSqliteNode, type SqliteStorageOptions } from "./layers/SqliteNode.js"
export { DEFAULT_BUSY_TIMEOUT, type SqliteSessionOptions, SqliteSynchronous } from "./layers/SqliteSession.js"
export type { StorageLayerError } from "./internal/clientLayer.js"

export { CheckpointStoragePromise, type CursorPage, type PlainTableStatistics } from "./facade/CheckpointStoragePromise.js"
export { MySQLStorage, PostgresStorage, SQLiteStorage } from "./facade/StorageClasses.js"
export { BunStorage } from "./facade/BunStorage.js"
export { BunStorageConfig, BunStorageRetention } from "./facade/BunStorageConfig.js"
export type { CleanupStats } from "./facade/TokenRingBun.js"
export type {
  AgentCheckpointStorage,
  AppCheckpointStorage,
  CheckpointListOptions,
  MaybePromise,
  PaginatedResult,
  TokenRingService
} from "./facade/TokenRing.js"
