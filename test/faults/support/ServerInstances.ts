/**
 * Private PostgreSQL and MariaDB servers for one test: a data directory in a temp dir, a free port on 127.0.0.1,
 * started, stopped, restarted and killed (-9) by the test, and removed afterwards even when the test fails.
 */
import { Effect } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"

export interface PrivateServer {
  readonly name: string
  readonly dialect: "pg" | "mysql"
  readonly port: number
  readonly connectionString: string
  /** Starts the server; resolves once it accepts queries. */
  readonly start: () => Promise<void>
  /** A clean shutdown (PostgreSQL: fast shutdown; MariaDB: SIGTERM); resolves once every process is gone. */
  readonly stop: () => Promise<void>
  /** `kill -9` of every process of the server; resolves once they are gone. */
  readonly crash: () => Promise<void>
  /** Kills what still runs and deletes the data directory. */
  readonly remove: () => Promise<void>
}

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const execFile = (command: string, args: ReadonlyArray<string>, timeoutMillis = 60_000): Promise<string> =>
  new Promise((resolve, reject) =>
    ChildProcess.execFile(command, [...args], { timeout: timeoutMillis }, (error, stdout, stderr) =>
      error ? reject(new Error(`${command} ${args.join(" ")} failed: ${error.message}\n${stderr}`)) : resolve(stdout)
    )
  )

const succeeds = (command: string, args: ReadonlyArray<string>): Promise<boolean> =>
  new Promise((resolve) => ChildProcess.execFile(command, [...args], { timeout: 5_000 }, (error) => resolve(!error)))

// A process is gone once it no longer exists or is a zombie (an orphan that nobody reaps in a container).
const isGone = (pid: number): boolean => {
  try {
    const stat = Fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")
  } catch {
    return true
  }
}

const waitUntil = async (what: string, condition: () => boolean | Promise<boolean>, timeoutMillis: number) => {
  const deadline = Date.now() + timeoutMillis
  while (Date.now() < deadline) {
    if (await condition()) return
    await sleep(50)
  }
  throw new Error(`timed out after ${timeoutMillis} ms waiting for ${what}`)
}

const kill = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(pid, signal)
  } catch {
    // already gone
  }
}

const childPids = (pid: number): Array<number> => {
  try {
    return ChildProcess.execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" })
      .split("\n").map((line) => Number(line.trim())).filter((n) => n > 0)
  } catch {
    return []
  }
}

// Servers still running when the test process exits are killed (they are ours, by pid).
const running = new Set<() => Array<number>>()
process.once("exit", () => {
  for (const pids of running) for (const pid of pids()) kill(pid, "SIGKILL")
})

const temporaryDirectory = (prefix: string) => Fs.mkdtempSync(Path.join(Os.tmpdir(), prefix))

/** A private PostgreSQL server, run as the postgres user from a data directory it owns. */
export const makePostgresServer = async (): Promise<PrivateServer> => {
  const version = Fs.readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a))[0]
  if (version === undefined) throw new Error("no PostgreSQL under /usr/lib/postgresql")
  const bin = (name: string) => `/usr/lib/postgresql/${version}/bin/${name}`
  const directory = temporaryDirectory("ecs-pg-")
  const data = Path.join(directory, "data")
  const uid = Number((await execFile("id", ["-u", "postgres"])).trim())
  const gid = Number((await execFile("id", ["-g", "postgres"])).trim())
  Fs.chownSync(directory, uid, gid)
  await execFile("runuser", ["-u", "postgres", "--", bin("initdb"), "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
    "--locale=C", "--no-sync", "--no-instructions"])
  const port = await freePort()
  const log = Path.join(directory, "server.log")
  let launcher: ChildProcess.ChildProcess | undefined
  let pids: Array<number> = []

  const postmasterPid = (): number | undefined => {
    try {
      const pid = Number(Fs.readFileSync(Path.join(data, "postmaster.pid"), "utf8").split("\n")[0])
      return pid > 0 && !isGone(pid) ? pid : undefined
    } catch {
      return undefined
    }
  }
  const processes = (): Array<number> => {
    const postmaster = postmasterPid()
    return postmaster === undefined ? [] : [postmaster, ...childPids(postmaster)]
  }
  const entry = () => [...pids, ...processes()]
  running.add(entry)

  const waitForExit = async () => {
    await waitUntil("PostgreSQL to exit", () => pids.every(isGone) && processes().length === 0, 30_000)
    if (launcher !== undefined && launcher.exitCode === null && launcher.signalCode === null) {
      const exiting = launcher
      await waitUntil("runuser to exit", () => exiting.exitCode !== null || exiting.signalCode !== null, 10_000)
    }
  }

  return {
    name: "PostgreSQL",
    dialect: "pg",
    port,
    connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: async () => {
      const out = Fs.openSync(log, "a")
      launcher = ChildProcess.spawn("runuser", ["-u", "postgres", "--", bin("postgres"), "-D", data, "-p", String(port),
        "-k", directory, "-c", "listen_addresses=127.0.0.1", "-c", "shared_buffers=16MB", "-c", "max_connections=40"], {
        stdio: ["ignore", out, out]
      })
      Fs.closeSync(out)
      await waitUntil(
        "PostgreSQL to accept connections",
        () => succeeds(bin("pg_isready"), ["-q", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres"]),
        60_000
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${Fs.readFileSync(log, "utf8").slice(-2000)}`)
      })
      pids = processes()
    },
    stop: async () => {
      const postmaster = postmasterPid()
      if (postmaster !== undefined) kill(postmaster, "SIGINT") // fast shutdown: roll back, close sessions, checkpoint
      await waitForExit()
    },
    crash: async () => {
      // The postmaster and every backend at once, as a power cut or the OOM killer would leave them.
      pids = processes()
      for (const pid of pids) kill(pid, "SIGKILL")
      await waitForExit()
    },
    remove: async () => {
      for (const pid of entry()) kill(pid, "SIGKILL")
      await waitForExit().catch(() => undefined)
      running.delete(entry)
      Fs.rmSync(directory, { recursive: true, force: true })
    }
  }
}

/** A private MariaDB server (mariadbd run as root, which it allows with --user=root). */
export const makeMariadbServer = async (): Promise<PrivateServer> => {
  const directory = temporaryDirectory("ecs-mariadb-")
  const data = Path.join(directory, "data")
  await execFile("/usr/bin/mariadb-install-db", ["--no-defaults", `--datadir=${data}`, "--user=root",
    "--auth-root-authentication-method=normal", "--skip-test-db"])
  const port = await freePort()
  const log = Path.join(directory, "error.log")
  let server: ChildProcess.ChildProcess | undefined
  const exited = () => server === undefined || server.exitCode !== null || server.signalCode !== null
  const entry = () => (server?.pid === undefined || exited() ? [] : [server.pid])
  running.add(entry)
  const waitForExit = () => waitUntil("MariaDB to exit", exited, 60_000)

  return {
    name: "MariaDB",
    dialect: "mysql",
    port,
    connectionString: `mysql://root@127.0.0.1:${port}/ecs`,
    start: async () => {
      server = ChildProcess.spawn("/usr/sbin/mariadbd", ["--no-defaults", `--datadir=${data}`, `--port=${port}`,
        "--bind-address=127.0.0.1", `--socket=${Path.join(directory, "mysqld.sock")}`,
        `--pid-file=${Path.join(directory, "mysqld.pid")}`, "--user=root", "--innodb-buffer-pool-size=32M",
        "--skip-log-bin", `--log-error=${log}`, "--innodb-flush-log-at-trx-commit=1", "--max-connections=60"], {
        stdio: "ignore"
      })
      const ready = () =>
        succeeds("mariadb", ["-h", "127.0.0.1", "-P", String(port), "-u", "root", "-e", "CREATE DATABASE IF NOT EXISTS ecs"])
      await waitUntil("MariaDB to accept connections", async () => {
        if (exited()) throw new Error(`mariadbd exited\n${Fs.readFileSync(log, "utf8").slice(-2000)}`)
        return ready()
      }, 60_000)
    },
    stop: async () => {
      if (server?.pid !== undefined && !exited()) kill(server.pid, "SIGTERM")
      await waitForExit()
    },
    crash: async () => {
      if (server?.pid !== undefined && !exited()) kill(server.pid, "SIGKILL")
      await waitForExit()
    },
    remove: async () => {
      if (server?.pid !== undefined && !exited()) kill(server.pid, "SIGKILL")
      await waitForExit().catch(() => undefined)
      running.delete(entry)
      Fs.rmSync(directory, { recursive: true, force: true })
    }
  }
}

/** A started private server for the scope; killed and deleted when the scope closes, even on failure. */
export const scopedServer = (make: () => Promise<PrivateServer>) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const server = await make()
      try {
        await server.start()
        return server
      } catch (error) {
        await server.remove()
        throw error
      }
    }),
    (server) => Effect.promise(() => server.remove())
  )
