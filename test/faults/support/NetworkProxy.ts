/**
 * A TCP proxy on 127.0.0.1 between a client and a real database server, which a test drives into network faults:
 * cut every connection, stall them, refuse new ones, then heal.
 */
import { Effect } from "effect"
import * as Net from "node:net"

export type ProxyMode = "forwarding" | "stalled" | "refusing"

export interface NetworkProxy {
  /** The port the client connects to (random, on 127.0.0.1). */
  readonly port: number
  readonly mode: () => ProxyMode
  /** Connections accepted so far. */
  readonly accepted: () => number
  /** Destroys both ends of every open connection (the client sees its connections drop). Keeps accepting. */
  readonly cut: () => void
  /**
   * From now on nothing passes either way, on open connections and on new ones (which are accepted): a silent
   * network, or a server that stopped answering. The bytes are dropped, and a connection stalled once stays silent
   * for good, even after `heal`: the client has to notice and drop it by itself.
   */
  readonly stall: () => void
  /** Cuts every open connection and stops listening: a new connection is refused (ECONNREFUSED). */
  readonly refuse: () => Promise<void>
  /** New connections are forwarded again (listening again on the same port if it was refusing). */
  readonly heal: () => Promise<void>
  readonly close: () => Promise<void>
}

interface Link {
  readonly client: Net.Socket
  readonly server: Net.Socket
  stalled: boolean
}

const listen = (server: Net.Server, port: number): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject)
      const address = server.address()
      resolve(typeof address === "object" && address !== null ? address.port : port)
    })
  })

const stopListening = (server: Net.Server): Promise<void> =>
  new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()))

/** Starts a proxy to `target` (a port on 127.0.0.1). */
export const startProxy = async (targetPort: number): Promise<NetworkProxy> => {
  const links = new Set<Link>()
  let mode: ProxyMode = "forwarding"
  let accepted = 0

  const server = Net.createServer((client) => {
    accepted++
    const upstream = Net.connect(targetPort, "127.0.0.1")
    const link: Link = { client, server: upstream, stalled: mode === "stalled" }
    links.add(link)
    const close = () => {
      links.delete(link)
      client.destroy()
      upstream.destroy()
    }
    // Errors (ECONNRESET, EPIPE) end the link; they are the point of the exercise, not failures of the proxy.
    client.on("error", close)
    upstream.on("error", close)
    client.on("close", close)
    upstream.on("close", close)
    client.on("data", (chunk) => {
      if (!link.stalled) upstream.write(chunk)
    })
    upstream.on("data", (chunk) => {
      if (!link.stalled) client.write(chunk)
    })
  })
  const port = await listen(server, 0)

  const cutAll = () => {
    for (const link of [...links]) {
      links.delete(link)
      link.client.destroy()
      link.server.destroy()
    }
  }

  return {
    port,
    mode: () => mode,
    accepted: () => accepted,
    cut: cutAll,
    stall: () => {
      mode = "stalled"
      for (const link of links) link.stalled = true
    },
    refuse: async () => {
      mode = "refusing"
      await Promise.all([stopListening(server), Promise.resolve(cutAll())])
    },
    heal: async () => {
      if (mode === "refusing") await listen(server, port)
      mode = "forwarding"
    },
    close: async () => {
      cutAll()
      await stopListening(server)
    }
  }
}

/** The proxy for the scope: closed (every connection cut) when the scope closes, even on failure. */
export const scopedProxy = (targetPort: number) =>
  Effect.acquireRelease(Effect.promise(() => startProxy(targetPort)), (proxy) => Effect.promise(() => proxy.close()))
