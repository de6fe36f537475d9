/**
 * The configuration objects of Token Ring's drizzle-storage, accepted as they are.
 *
 * @since 0.1.0
 */
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

const connectionUrl = (value: string | Redacted.Redacted<string>): URL | undefined => {
  try {
    return new URL(Redacted.isRedacted(value) ? Redacted.value(value) : value)
  } catch {
    return undefined
  }
}

// The messages below never repeat the value: a connection string usually carries a password.
const ConnectionString = (protocols: ReadonlyArray<string>, example: string) =>
  Schema.Union(Schema.String, Schema.RedactedFromSelf(Schema.String)).pipe(
    Schema.filter((value) => {
      const url = connectionUrl(value)
      if (url === undefined) return `must be a URL such as ${example}`
      return protocols.includes(url.protocol) || `must be a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}`
    }),
    Schema.annotations({ identifier: "ConnectionString" })
  )

/**
 * A PostgreSQL connection string, plain or `Redacted`.
 *
 * @since 0.1.0
 */
export const PostgresConnectionString = ConnectionString(
  ["postgres:", "postgresql:"],
  "postgres://user:password@localhost:5432/database"
)

/**
 * A MySQL/MariaDB connection string, plain or `Redacted`.
 *
 * @since 0.1.0
 */
export const MysqlConnectionString = ConnectionString(
  ["mysql:", "mariadb:"],
  "mysql://user:password@localhost:3306/database"
)

/**
 * A SQLite database file path (`:memory:` for a private in-memory database).
 *
 * @since 0.1.0
 */
export const DatabasePath = Schema.String.pipe(
  Schema.filter((s) => s.length > 0 || "must not be empty"),
  Schema.filter((s) => !s.includes("\u0000") || "must not contain the NUL character"),
  Schema.annotations({ identifier: "DatabasePath" })
)

/**
 * `{ type: "sqlite", databasePath, migrationsFolder? }`. `migrationsFolder` is accepted for compatibility and
 * ignored: the migrations ship inside this package.
 *
 * @since 0.1.0
 */
export const SqliteStorageConfig = Schema.Struct({
  type: Schema.Literal("sqlite"),
  databasePath: DatabasePath,
  migrationsFolder: Schema.optional(Schema.String)
}).annotations({ identifier: "SqliteStorageConfig" })

/**
 * @since 0.1.0
 */
export interface SqliteStorageConfig extends Schema.Schema.Type<typeof SqliteStorageConfig> {}

/**
 * `{ type: "mysql", connectionString }`.
 *
 * @since 0.1.0
 */
export const MysqlStorageConfig = Schema.Struct({
  type: Schema.Literal("mysql"),
  connectionString: MysqlConnectionString
}).annotations({ identifier: "MysqlStorageConfig" })

/**
 * @since 0.1.0
 */
export interface MysqlStorageConfig extends Schema.Schema.Type<typeof MysqlStorageConfig> {}

/**
 * `{ type: "postgres", connectionString }`.
 *
 * @since 0.1.0
 */
export const PostgresStorageConfig = Schema.Struct({
  type: Schema.Literal("postgres"),
  connectionString: PostgresConnectionString
}).annotations({ identifier: "PostgresStorageConfig" })

/**
 * @since 0.1.0
 */
export interface PostgresStorageConfig extends Schema.Schema.Type<typeof PostgresStorageConfig> {}

/**
 * The drizzle-storage config union, discriminated on `type`.
 *
 * @since 0.1.0
 */
export const StorageConfig = Schema.Union(SqliteStorageConfig, MysqlStorageConfig, PostgresStorageConfig).annotations({
  identifier: "StorageConfig"
})

/**
 * @since 0.1.0
 */
export type StorageConfig = typeof StorageConfig.Type
