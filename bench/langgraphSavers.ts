/**
 * The savers of the LangGraph comparison, each a `BaseCheckpointSaver` opened the way its users open it: ours
 * (`SqlCheckpointSaver.fromConnString`) on every database, LangGraph's `PostgresSaver.fromConnString` on the same
 * PostgreSQL database, and LangGraph's `SqliteSaver` on a SQLite file of its own (Node.js only: it needs
 * better-sqlite3, which Bun cannot load).
 *
 * SQLite commits alike on both sides: ours opens its file in WAL mode with `synchronous` at the bench's level
 * (NORMAL unless BENCH_SQLITE_SYNCHRONOUS=full); SqliteSaver switches its file to WAL itself but leaves
 * `synchronous` at SQLite's default (FULL, an fsync per commit), so its connection gets the same pragmas as ours
 * before it is handed over: what is measured is the savers, not two durability levels.
 */
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint"
import { layerSqliteBun, layerSqliteNode } from "../src/index.js"
import { SqlCheckpointSaver } from "../src/langgraph/SqlCheckpointSaver.js"
import { type BenchDatabase, type Db, isBun } from "./databases.js"
import { sqliteSynchronous } from "./subjects.js"

export type SaverSideName = "ours" | "theirs"

/** One side of the comparison: a saver, what it is called in the tables, and how to close it. */
export interface SaverSide {
  readonly name: SaverSideName
  readonly label: string
  readonly saver: BaseCheckpointSaver
  readonly close: () => Promise<void>
}

/** Why LangGraph's side does not run on a database, when it does not. */
export const theirsNotApplicable = (db: Db): string | undefined =>
  db === "mysql"
    ? "LangGraph has no MySQL/MariaDB saver"
    : db === "sqlite" && isBun
    ? "SqliteSaver needs better-sqlite3, which Bun cannot load"
    : undefined

/** Our SqlCheckpointSaver on the database, its tables created. */
export const oursSide = async (database: BenchDatabase): Promise<SaverSide> => {
  const saver = database.db === "sqlite"
    ? sqliteSynchronous === "normal"
      ? SqlCheckpointSaver.fromConnString(`sqlite:${database.connectionString}`)
      // fromConnString takes no pragmas: the layer of the same driver does, with the same LangGraph service on it.
      : new SqlCheckpointSaver(
        (isBun ? layerSqliteBun : layerSqliteNode)({ databasePath: database.connectionString, synchronous: sqliteSynchronous })
      )
    : SqlCheckpointSaver.fromConnString(database.connectionString)
  await saver.setup()
  return { name: "ours", label: "SqlCheckpointSaver", saver, close: () => saver.end() }
}

/** LangGraph's own saver on the database (its tables created), or undefined where there is none to compare with. */
export const theirsSide = async (database: BenchDatabase): Promise<SaverSide | undefined> => {
  if (theirsNotApplicable(database.db) !== undefined) return undefined
  if (database.db === "pg") {
    const { PostgresSaver } = await import("@langchain/langgraph-checkpoint-postgres")
    const saver = PostgresSaver.fromConnString(database.connectionString)
    await saver.setup()
    return { name: "theirs", label: "PostgresSaver", saver, close: () => saver.end() }
  }
  const [{ default: Database }, { SqliteSaver }] = await Promise.all([
    import("better-sqlite3"),
    import("@langchain/langgraph-checkpoint-sqlite")
  ])
  const db = new Database(database.connectionString)
  for (const pragma of ["busy_timeout = 5000", "journal_mode = WAL", `synchronous = ${sqliteSynchronous.toUpperCase()}`]) {
    db.pragma(pragma)
  }
  const saver = new SqliteSaver(db)
  return {
    name: "theirs",
    label: "SqliteSaver",
    saver,
    close: async () => {
      db.close()
    }
  }
}
