/**
 * Closes the connections whose peer stopped answering, so that a pool drops them instead of handing them to the
 * next caller.
 *
 * Why at the socket: when an operation times out, neither client closes the connection it was using.
 * @effect/sql-pg interrupts a query by sending `pg_cancel_backend` over another connection (which a stalled network
 * does not carry either) and then releases the connection to the pool as healthy; @effect/sql-mysql2 leaves the
 * query queued on its connection. A connection whose peer went silent would then hold every later statement sent
 * to it, and neither pool can be told to discard it. Both drivers take a socket factory (pg's `stream`, mysql2's
 * `stream`), so the sockets are ours to watch: one that carried nothing either way for the operation timeout is
 * destroyed, the driver fails whatever was queued on it with a connection error, and the pool removes it.
 *
 * @internal
 */
import * as Net from "node:net"
import type { Duplex } from "node:stream"

/**
 * The sockets of one storage's pool.
 *
 * @internal
 */
export interface ConnectionWatchdog {
  /** Watches a socket made for the driver (anything but a `net.Socket` is returned as it is). */
  readonly watch: <S extends Duplex>(socket: S) => S
  /**
   * From now on, destroys a socket that carried nothing either way for `millis` (0: never). Called once the
   * migrations are applied: a migration may rightly run longer than any one operation. An idle pooled connection is
   * closed too, and the pool opens a new one when it needs it.
   */
  readonly arm: (millis: number) => void
}

/**
 * The error a stalled socket is destroyed with: `ETIMEDOUT`, as Node.js names a connection that timed out, so that
 * both drivers report it as a lost connection.
 *
 * @internal
 */
export class ConnectionStalledError extends Error {
  readonly code = "ETIMEDOUT"
  constructor(readonly millis: number) {
    super(`the connection carried nothing for ${millis} ms (operationTimeout); closed`)
    this.name = "ConnectionStalledError"
  }
}

/**
 * @internal
 */
export const makeConnectionWatchdog = (): ConnectionWatchdog => {
  const sockets = new Set<Net.Socket>()
  let idleMillis = 0
  return {
    watch: (socket) => {
      if (!(socket instanceof Net.Socket)) return socket
      sockets.add(socket)
      socket.once("close", () => sockets.delete(socket))
      socket.on("timeout", () => socket.destroy(new ConnectionStalledError(idleMillis)))
      if (idleMillis > 0) socket.setTimeout(idleMillis)
      return socket
    },
    arm: (millis) => {
      // Node.js cannot time a socket out after more than 2^31-1 ms (it would fire after 1 ms instead): none then.
      idleMillis = Number.isFinite(millis) && millis > 0 && millis <= 2_147_483_647 ? Math.max(1, Math.round(millis)) : 0
      for (const socket of sockets) socket.setTimeout(idleMillis)
    }
  }
}
