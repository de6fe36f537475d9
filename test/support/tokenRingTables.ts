/**
 * The tables of Token Ring's two generations of storage, exactly as each created them, per database: to prove that
 * their databases open as they are.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"

// The tables exactly as Token Ring's drizzle-storage created them in start(), per database.
export const createDrizzleStorageTables = (sql: SqlClient.SqlClient) =>
  sql.onDialectOrElse({
    pg: () =>
      Effect.zipRight(
        sql.unsafe(`CREATE TABLE IF NOT EXISTS "AgentCheckpoints" ("id" bigserial PRIMARY KEY NOT NULL,
"sessionId" text NOT NULL, "agentId" text NOT NULL, "name" text NOT NULL, "agentType" text NOT NULL,
"state" text NOT NULL, "createdAt" bigint NOT NULL)`),
        sql.unsafe(`CREATE TABLE IF NOT EXISTS "AppCheckpoints" ("id" bigserial PRIMARY KEY NOT NULL,
"sessionId" text NOT NULL, "hostname" text NOT NULL, "projectDirectory" text NOT NULL, "state" text NOT NULL,
"createdAt" bigint NOT NULL)`)
      ),
    mysql: () =>
      Effect.zipRight(
        sql.unsafe(`CREATE TABLE IF NOT EXISTS \`AgentCheckpoints\` (\`id\` bigint AUTO_INCREMENT NOT NULL,
\`sessionId\` text NOT NULL, \`agentId\` text NOT NULL, \`name\` text NOT NULL, \`agentType\` text NOT NULL,
\`state\` text NOT NULL, \`createdAt\` bigint NOT NULL, CONSTRAINT \`AgentCheckpoints_id\` PRIMARY KEY (\`id\`))`),
        sql.unsafe(`CREATE TABLE IF NOT EXISTS \`AppCheckpoints\` (\`id\` bigint AUTO_INCREMENT NOT NULL,
\`sessionId\` text NOT NULL, \`hostname\` text NOT NULL, \`projectDirectory\` text NOT NULL, \`state\` text NOT NULL,
\`createdAt\` bigint NOT NULL, CONSTRAINT \`AppCheckpoints_id\` PRIMARY KEY (\`id\`))`)
      ),
    orElse: () =>
      Effect.zipRight(
        sql.unsafe(`CREATE TABLE IF NOT EXISTS "AgentCheckpoints" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL,
"sessionId" text NOT NULL, "agentId" text NOT NULL, "name" text NOT NULL, "agentType" text NOT NULL,
"state" text NOT NULL, "createdAt" integer NOT NULL)`),
        sql.unsafe(`CREATE TABLE IF NOT EXISTS "AppCheckpoints" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL,
"sessionId" text NOT NULL, "hostname" text NOT NULL, "projectDirectory" text NOT NULL, "state" text NOT NULL,
"createdAt" integer NOT NULL)`)
      )
  })

// bun-storage 0.2's init.sql per dialect (its statements as it runs them, one at a time). MySQL's `state` is TEXT
// and its indexes have prefix lengths; MariaDB accepts CREATE INDEX IF NOT EXISTS, which bun-storage relies on.
const bunStorageInit = {
  pg: [
    `CREATE TABLE IF NOT EXISTS "AgentCheckpoints" ("id" bigserial PRIMARY KEY, "sessionId" text NOT NULL,
"agentId" text NOT NULL, "agentType" text NOT NULL, "name" text NOT NULL, "state" text NOT NULL, "createdAt" bigint NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS "AppCheckpoints" ("id" bigserial PRIMARY KEY, "sessionId" text NOT NULL,
"hostname" text NOT NULL, "workspaceDirectory" text NOT NULL, "state" text NOT NULL, "createdAt" bigint NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS "AgentMetrics" ("agentId" text PRIMARY KEY, "metrics" text NOT NULL, "updatedAt" bigint NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS idx_agent_checkpoints_session ON "AgentCheckpoints" ("sessionId")`,
    `CREATE INDEX IF NOT EXISTS idx_agent_checkpoints_agent_id ON "AgentCheckpoints" ("agentId")`,
    `CREATE INDEX IF NOT EXISTS idx_agent_checkpoints_created ON "AgentCheckpoints" ("createdAt" DESC)`,
    `CREATE INDEX IF NOT EXISTS idx_agent_checkpoints_agent_session ON "AgentCheckpoints" ("agentId", "sessionId")`,
    `CREATE INDEX IF NOT EXISTS idx_app_checkpoints_session ON "AppCheckpoints" ("sessionId")`,
    `CREATE INDEX IF NOT EXISTS idx_app_checkpoints_created ON "AppCheckpoints" ("createdAt" DESC)`,
    `CREATE INDEX IF NOT EXISTS idx_agent_metrics_updated ON "AgentMetrics" ("updatedAt" DESC)`
  ],
  mysql: [
    `CREATE TABLE IF NOT EXISTS \`AgentCheckpoints\` (\`id\` bigint AUTO_INCREMENT NOT NULL, \`sessionId\` text NOT NULL,
\`agentId\` text NOT NULL, \`agentType\` text NOT NULL, \`name\` text NOT NULL, \`state\` text NOT NULL,
\`createdAt\` bigint NOT NULL, CONSTRAINT \`AgentCheckpoints_id\` PRIMARY KEY (\`id\`))`,
    `CREATE TABLE IF NOT EXISTS \`AppCheckpoints\` (\`id\` bigint AUTO_INCREMENT NOT NULL, \`sessionId\` text NOT NULL,
\`hostname\` text NOT NULL, \`workspaceDirectory\` text NOT NULL, \`state\` text NOT NULL, \`createdAt\` bigint NOT NULL,
CONSTRAINT \`AppCheckpoints_id\` PRIMARY KEY (\`id\`))`,
    `CREATE TABLE IF NOT EXISTS \`AgentMetrics\` (\`agentId\` varchar(255) NOT NULL, \`metrics\` text NOT NULL,
\`updatedAt\` bigint NOT NULL, PRIMARY KEY (\`agentId\`))`,
    "CREATE INDEX IF NOT EXISTS idx_agent_checkpoints_session ON `AgentCheckpoints` (`sessionId`(255))",
    "CREATE INDEX IF NOT EXISTS idx_agent_checkpoints_agent_id ON `AgentCheckpoints` (`agentId`(255))",
    "CREATE INDEX IF NOT EXISTS idx_agent_checkpoints_created ON `AgentCheckpoints` (`createdAt` DESC)",
    "CREATE INDEX IF NOT EXISTS idx_agent_checkpoints_agent_session ON `AgentCheckpoints` (`agentId`(191), `sessionId`(191))",
    "CREATE INDEX IF NOT EXISTS idx_app_checkpoints_session ON `AppCheckpoints` (`sessionId`(255))",
    "CREATE INDEX IF NOT EXISTS idx_app_checkpoints_created ON `AppCheckpoints` (`createdAt` DESC)",
    "CREATE INDEX IF NOT EXISTS idx_agent_metrics_updated ON `AgentMetrics` (`updatedAt` DESC)"
  ],
  sqlite: [
    `CREATE TABLE IF NOT EXISTS AgentCheckpoints (id integer PRIMARY KEY AUTOINCREMENT NOT NULL, sessionId text NOT NULL,
agentId text NOT NULL, agentType text NOT NULL, name text NOT NULL, state text NOT NULL, createdAt integer NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS AppCheckpoints (id integer PRIMARY KEY AUTOINCREMENT NOT NULL, sessionId text NOT NULL,
hostname text NOT NULL, workspaceDirectory text NOT NULL, state text NOT NULL, createdAt integer NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS AgentMetrics (agentId text PRIMARY KEY NOT NULL, metrics text NOT NULL, updatedAt integer NOT NULL)`,
    "CREATE INDEX IF NOT EXISTS idx_agent_checkpoints_session ON AgentCheckpoints (sessionId)",
    "CREATE INDEX IF NOT EXISTS idx_agent_checkpoints_agent_id ON AgentCheckpoints (agentId)",
    "CREATE INDEX IF NOT EXISTS idx_agent_checkpoints_created ON AgentCheckpoints (createdAt DESC)",
    "CREATE INDEX IF NOT EXISTS idx_agent_checkpoints_agent_session ON AgentCheckpoints (agentId, sessionId)",
    "CREATE INDEX IF NOT EXISTS idx_app_checkpoints_session ON AppCheckpoints (sessionId)",
    "CREATE INDEX IF NOT EXISTS idx_app_checkpoints_created ON AppCheckpoints (createdAt DESC)",
    "CREATE INDEX IF NOT EXISTS idx_agent_metrics_updated ON AgentMetrics (updatedAt DESC)"
  ]
} as const

/** The tables and indexes bun-storage 0.2's start() creates. */
export const createBunStorageTables = (sql: SqlClient.SqlClient) =>
  Effect.forEach(
    sql.onDialectOrElse({ pg: () => bunStorageInit.pg, mysql: () => bunStorageInit.mysql, orElse: () => bunStorageInit.sqlite }),
    (statement) => sql.unsafe(statement),
    { discard: true }
  )
