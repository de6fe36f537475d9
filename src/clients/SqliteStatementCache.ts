/**
 * The prepared statements of one SQLite connection, by SQL text: a statement is prepared once and run many times
 * (clients/SqliteClient.ts).
 *
 * A plain `Map` kept in least-recently-used order, looked up synchronously, where @effect/sql-sqlite-node keeps an
 * Effect `Cache` (a fiber-safe lookup, several microseconds per statement, a sizeable part of a 15 µs read by id).
 * The connection runs one statement at a time on the calling fiber, so nothing else can look up meanwhile.
 *
 * @internal
 */

/**
 * How many statements are kept, and for how long one may go unused.
 *
 * @internal
 */
export interface StatementCacheOptions<S> {
  /** At most this many statements; the least recently used one leaves first. Below 1, nothing is kept. */
  readonly capacity: number
  /** A statement unused for this long leaves the cache the next time a new statement is prepared. */
  readonly timeToLiveMillis: number
  readonly prepare: (sql: string) => S
}

interface Entry<S> {
  readonly statement: S
  lastUsed: number
}

/**
 * The statement of a SQL text, prepared now or earlier. `prepare` may throw (a syntax error): nothing is cached then.
 *
 * @internal
 */
export const makeStatementCache = <S>(options: StatementCacheOptions<S>): (sql: string) => S => {
  const { capacity, prepare, timeToLiveMillis } = options
  if (!(capacity >= 1)) return prepare
  // A Map iterates in insertion order: re-inserting an entry on every use keeps the least recently used first.
  const entries = new Map<string, Entry<S>>()
  const evictStale = (now: number) => {
    for (const [sql, entry] of entries) {
      if (entries.size <= capacity && now - entry.lastUsed <= timeToLiveMillis) return
      entries.delete(sql)
    }
  }
  // The statement used last: the same one again (a loop of retrieves, of stores) skips moving it to the end.
  let lastSql: string | undefined
  let lastEntry: Entry<S> | undefined
  return (sql) => {
    const now = Date.now()
    if (sql === lastSql) {
      lastEntry!.lastUsed = now
      return lastEntry!.statement
    }
    const known = entries.get(sql)
    if (known !== undefined) {
      lastSql = sql
      lastEntry = known
      known.lastUsed = now
      entries.delete(sql)
      entries.set(sql, known)
      return known.statement
    }
    const statement = prepare(sql)
    const entry = { statement, lastUsed: now }
    entries.set(sql, entry)
    evictStale(now)
    lastSql = sql
    lastEntry = entry
    return statement
  }
}
