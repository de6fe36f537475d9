/**
 * Reads a driver's error the way each driver reports it, by code (never by message text), and decides whether it
 * means "the database cannot be used right now" (a connection failure) or "this statement failed".
 *
 * Sources: PostgreSQL SQLSTATE classes (https://www.postgresql.org/docs/current/errcodes-appendix.html), MySQL and
 * MariaDB client/server error numbers, SQLite result codes (https://sqlite.org/rescode.html), and Node.js system
 * error codes (ECONNREFUSED, …) that every network driver passes through.
 */
import type { Dialect } from "../services/CheckpointStorageError.js"

/** @internal */
export interface DriverFailure {
  readonly code: string | undefined
  readonly isConnectionFailure: boolean
}

const field = (cause: unknown, name: string): unknown =>
  typeof cause === "object" && cause !== null ? (cause as Record<string, unknown>)[name] : undefined

const stringField = (cause: unknown, name: string): string | undefined => {
  const value = field(cause, name)
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined
}

// ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE, ENOTFOUND, EAI_AGAIN, EHOSTUNREACH, …
const isNodeSystemCode = (code: string): boolean => /^E[A-Z_]+$/.test(code) && !code.startsWith("ER_")

const SQLSTATE = /^[0-9A-Z]{5}$/

const isPostgresConnectionState = (state: string): boolean =>
  state.startsWith("08") || // connection exception
  state.startsWith("28") || // invalid authorization specification (bad user or password)
  state === "3D000" || // the database does not exist
  state === "53300" || // too many connections
  state === "57P01" || // admin shutdown
  state === "57P02" || // crash shutdown
  state === "57P03" // cannot connect now (starting up / shutting down)

// MySQL / MariaDB error numbers that mean the session is unusable or was never established.
const MYSQL_CONNECTION_ERRNOS = new Set([
  1040, // too many connections
  1042, // cannot get host name
  1043, // bad handshake
  1044, // access denied to database
  1045, // access denied (bad user or password)
  1049, // unknown database
  1053, // server shutdown in progress
  1077, // normal shutdown
  1078, // got signal, aborting
  1079, // shutdown complete
  1129, // host blocked
  1130, // host not allowed
  1152, // aborted connection
  1153, // packet bigger than max_allowed_packet: the server closes the connection
  1158, // network read error
  1159, // network read timeout
  1160, // network write error
  1161, // network write timeout
  1927, // connection was killed (MariaDB)
  2002, // cannot connect through socket
  2003, // cannot connect to server
  2006, // server has gone away
  2013, // lost connection during query
  4031 // disconnected by the server because of inactivity
])

const SQLITE_CONNECTION_CODES = ["SQLITE_CANTOPEN", "SQLITE_NOTADB", "SQLITE_IOERR", "SQLITE_PERM", "SQLITE_AUTH"]

const classifyPostgres = (cause: unknown): DriverFailure => {
  const code = stringField(cause, "code")
  if (code !== undefined && SQLSTATE.test(code)) {
    return { code, isConnectionFailure: isPostgresConnectionState(code) }
  }
  // node-postgres reports a lost or timed-out connection as a plain Error without a SQLSTATE
  // ("Connection terminated unexpectedly", "timeout exceeded when trying to connect"), or with a Node system code.
  return { code, isConnectionFailure: true }
}

const classifyMysql = (cause: unknown): DriverFailure => {
  const code = stringField(cause, "code")
  const errno = field(cause, "errno")
  const isConnectionFailure = field(cause, "fatal") === true ||
    (typeof errno === "number" && MYSQL_CONNECTION_ERRNOS.has(errno)) ||
    (code !== undefined && (isNodeSystemCode(code) || code.startsWith("PROTOCOL_") || code === "POOL_CLOSED")) ||
    (code === undefined && errno === undefined)
  return { code, isConnectionFailure }
}

const classifySqlite = (cause: unknown): DriverFailure => {
  const code = stringField(cause, "code")
  const isConnectionFailure = code !== undefined && SQLITE_CONNECTION_CODES.some((prefix) => code.startsWith(prefix))
  return { code, isConnectionFailure }
}

/**
 * Classifies the `cause` of an `SqlError` raised by the given dialect's driver.
 *
 * @internal
 */
export const classifyDriverError = (dialect: Dialect, cause: unknown): DriverFailure => {
  switch (dialect) {
    case "pg":
      return classifyPostgres(cause)
    case "mysql":
      return classifyMysql(cause)
    case "sqlite":
      return classifySqlite(cause)
  }
}
