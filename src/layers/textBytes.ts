/**
 * The length of a text column in UTF-8 bytes, on every dialect: the size figures (`sizeBytes`, a prune's freed
 * bytes) are bytes of the JSON text, whatever the database counts by default (characters on PostgreSQL and
 * SQLite).
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type * as Statement from "@effect/sql/Statement"

/**
 * @since 0.1.0
 */
export const utf8Bytes = (sql: SqlClient.SqlClient, column: string): Statement.Fragment =>
  sql.onDialectOrElse({
    pg: () => sql`octet_length(${sql(column)})`,
    mysql: () => sql`LENGTH(${sql(column)})`,
    orElse: () => sql`length(CAST(${sql(column)} AS BLOB))`
  })
