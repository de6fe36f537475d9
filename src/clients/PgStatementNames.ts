/**
 * A node-postgres `Client` class that names the statements it sends with parameters, so that each connection of the
 * pool prepares a statement text once and afterwards only binds and executes it.
 *
 * Why: @effect/sql-pg sends every statement unnamed, so PostgreSQL parses and plans it again on every call, about
 * 40–80 µs of a 180 µs round trip on this machine (bench/profile.ts, named against unnamed statements). Naming is
 * done where node-postgres itself offers it: a pool takes the `Client` class it opens connections with (pg-pool's
 * `Client` option), and a query config may carry a `name`. Every statement still goes through @effect/sql-pg's
 * client (its spans, transactions, cancellation and errors); only what node-postgres sends on the wire changes.
 *
 * What is not named, so that nothing else changes: a statement without parameters (node-postgres sends those with the
 * simple protocol, which also runs several statements in one text: the migrations), a cursor or any other submittable
 * (`executeStream`), a query that already has a name.
 *
 * A named statement lives in its server connection until the connection closes. A connection pooler that moves
 * statements between server connections (PgBouncer in transaction mode before 1.21) does not keep it there.
 *
 * @internal
 */
import type * as Pg from "pg"

/**
 * How many statement texts one pool names at most. Each named statement holds memory in every server connection that
 * ran it; the storage's texts are few (a multi-row INSERT per batch size, a query per filter shape), so a text past
 * the limit (some caller's own ad hoc SQL) is sent unnamed, as before.
 *
 * @internal
 */
export const MAX_NAMED_STATEMENTS = 256

/** A query config of node-postgres (lib/query.js), as far as it matters here. */
interface QueryConfig {
  readonly text?: unknown
  readonly values?: unknown
  readonly name?: unknown
  /** Present on a submittable (a cursor), which node-postgres runs itself. */
  readonly submit?: unknown
}

const hasParameters = (values: unknown): boolean => Array.isArray(values) && values.length > 0

/**
 * The arguments of a `query` call with the statement's name added, when it has parameters and a name is left. The
 * two forms @effect/sql-pg 0.53 uses: `query(text, values, callback)` (`execute`, `executeRaw`,
 * `executeUnprepared`) and `query({ text, values, rowMode }, callback)` (`executeValues`).
 */
const withStatementName = (
  args: ReadonlyArray<unknown>,
  nameOf: (text: string) => string | undefined
): ReadonlyArray<unknown> => {
  const [config, second, ...rest] = args
  if (typeof config === "string") {
    const name = hasParameters(second) ? nameOf(config) : undefined
    return name === undefined ? args : [{ name, text: config, values: second }, ...rest]
  }
  if (typeof config !== "object" || config === null || (second !== undefined && typeof second !== "function")) {
    return args
  }
  const query = config as QueryConfig
  if (typeof query.text !== "string" || query.name !== undefined || query.submit !== undefined) return args
  const name = hasParameters(query.values) ? nameOf(query.text) : undefined
  return name === undefined ? args : [{ ...query, name }, ...args.slice(1)]
}

/**
 * `Client` with every statement that has parameters named after its text (for the pool's lifetime: node-postgres
 * refuses a name given to another text on the same connection).
 *
 * @internal
 */
export const namingStatements = (Client: typeof Pg.Client, limit: number = MAX_NAMED_STATEMENTS): typeof Pg.Client => {
  const names = new Map<string, string>()
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text)
    if (name === undefined && names.size < limit) {
      name = `effect_checkpoint_storage_${names.size + 1}`
      names.set(text, name)
    }
    return name
  }
  // node-postgres' `query` has a dozen overloads: every call is passed on as it came, with a name added.
  const query = Client.prototype.query as (this: Pg.Client, ...args: ReadonlyArray<unknown>) => unknown
  class NamingStatementsClient extends Client {}
  Object.defineProperty(NamingStatementsClient.prototype, "query", {
    value: function(this: Pg.Client, ...args: ReadonlyArray<unknown>) {
      return query.call(this, ...withStatementName(args, nameOf))
    },
    writable: true,
    configurable: true
  })
  return NamingStatementsClient
}
