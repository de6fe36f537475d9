// The usage examples of @tokenring-ai/drizzle-storage's documentation (shared/reference/tokenring-drizzle-storage.txt)
// and its own test, as written, in plain JavaScript: only the import names this package, and the connection strings
// name this run's test databases. Each example ends with `await storage.stop()`, which it did not have.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { MySQLStorage, PostgresStorage, SQLiteStorage } from "../src/index.js"
import { provision } from "./support/provision.js"
import { mysql, postgres } from "./support/targets.js"

let postgresDatabase
let workflowDatabase
let mysqlDatabase
let workingDirectory
const originalDirectory = process.cwd()

beforeAll(async () => {
  postgresDatabase = await provision(postgres)
  workflowDatabase = await provision(postgres)
  mysqlDatabase = await provision(mysql)
  // The SQLite examples write ./agent_state.db: run them in a directory of their own.
  workingDirectory = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ecs-examples-"))
  process.chdir(workingDirectory)
}, 120_000)

afterAll(async () => {
  process.chdir(originalDirectory)
  Fs.rmSync(workingDirectory, { recursive: true, force: true })
  await postgresDatabase?.release()
  await workflowDatabase?.release()
  await mysqlDatabase?.release()
})

describe("DrizzleStorage - SQLite", () => {
  describe("SQLite Storage Operations", () => {
    let storage
    const dbPath = "./test-agent-state.db"

    beforeAll(async () => {
      storage = new SQLiteStorage({
        type: "sqlite",
        databasePath: dbPath,
      })
      await storage.start()
    })

    afterAll(async () => {
      await storage.stop()
      // Cleanup: remove test database file
      const { unlinkSync, existsSync } = await import("node:fs")
      if (existsSync(dbPath)) {
        unlinkSync(dbPath)
      }
    })

    it("should store and retrieve checkpoint", async () => {
      const checkpoint = {
        agentId: "test-agent-1",
        sessionId: "session-1",
        agentType: "general",
        name: "session-1",
        state: { agentState: { messages: { hello: "world" } }, toolsEnabled: ["foo"], hooksEnabled: ["bar"] },
        createdAt: Date.now(),
      }

      const id = await storage.storeAgentCheckpoint(checkpoint)
      expect(id).toBeDefined()
      expect(typeof id).toBe("string")

      const retrieved = await storage.retrieveAgentCheckpoint(id)
      expect(retrieved).toBeDefined()
      expect(retrieved?.agentId).toBe(checkpoint.agentId)
      expect(retrieved?.name).toBe(checkpoint.name)
      expect(retrieved?.state).toEqual(checkpoint.state)
    })

    it("should return null for non-existent checkpoint", async () => {
      const retrieved = await storage.retrieveAgentCheckpoint("999999")
      expect(retrieved).toBeNull()
    })
  })
})

describe("the documented usage examples", () => {
  it("start(): creates the tables of a new SQLite file", async () => {
    const storage = new SQLiteStorage({
      type: "sqlite",
      databasePath: "./agent_state.db"
    });

    await storage.start();

    expect(Fs.existsSync(Path.join(workingDirectory, "agent_state.db"))).toBe(true)
    expect(await storage.listAgentCheckpoints()).toEqual([])
    await storage.stop()
  })

  it("SQLite Usage", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {})

    const storage = new SQLiteStorage({
      type: "sqlite",
      databasePath: "./agent_state.db"
    });

    await storage.start();

    // Store an agent checkpoint
    const agentCheckpoint = {
      agentId: "agent-123",
      sessionId: "session-456",
      agentType: "coder",
      name: "session-1",
      state: { messages: ["Hello"], count: 1 },
      createdAt: Date.now()
    };

    const agentId = await storage.storeAgentCheckpoint(agentCheckpoint);
    console.log('Agent checkpoint stored with ID:', agentId);

    // Store an app checkpoint
    const appCheckpoint = {
      sessionId: "session-456",
      hostname: "localhost",
      projectDirectory: "/home/user/project",
      state: { files: ["index.ts"], config: {} },
      createdAt: Date.now()
    };

    const appId = await storage.storeAppCheckpoint(appCheckpoint);
    console.log('App checkpoint stored with ID:', appId);

    const logged = [...log.mock.calls]
    log.mockRestore()
    expect(logged).toEqual([
      ["Agent checkpoint stored with ID:", agentId],
      ["App checkpoint stored with ID:", appId]
    ])
    expect((await storage.retrieveAgentCheckpoint(agentId))?.state).toEqual({ messages: ["Hello"], count: 1 })
    expect((await storage.retrieveAppCheckpoint(appId))?.state).toEqual({ files: ["index.ts"], config: {} })
    await storage.stop()
  })

  it("MySQL Usage", async () => {
    const storage = new MySQLStorage({
      type: "mysql",
      connectionString: mysqlDatabase.db.config.connectionString
    });

    await storage.start();

    // Store an agent checkpoint
    const agentId = await storage.storeAgentCheckpoint({
      agentId: "agent-123",
      sessionId: "session-456",
      agentType: "coder",
      name: "session-1",
      state: { messages: ["Hello"] },
      createdAt: Date.now()
    });

    // Store an app checkpoint
    const appId = await storage.storeAppCheckpoint({
      sessionId: "session-456",
      hostname: "localhost",
      projectDirectory: "/home/user/project",
      state: { files: ["index.ts"] },
      createdAt: Date.now()
    });

    expect((await storage.retrieveAgentCheckpoint(agentId))?.state).toEqual({ messages: ["Hello"] })
    expect((await storage.retrieveAppCheckpoint(appId))?.projectDirectory).toBe("/home/user/project")
    await storage.stop()
  })

  it("PostgreSQL Usage", async () => {
    const storage = new PostgresStorage({
      type: "postgres",
      connectionString: postgresDatabase.db.config.connectionString
    });

    await storage.start();

    // Store an agent checkpoint
    const agentId = await storage.storeAgentCheckpoint({
      agentId: "agent-123",
      sessionId: "session-456",
      agentType: "coder",
      name: "session-1",
      state: { messages: ["Hello"] },
      createdAt: Date.now()
    });

    // Store an app checkpoint
    const appId = await storage.storeAppCheckpoint({
      sessionId: "session-456",
      hostname: "localhost",
      projectDirectory: "/home/user/project",
      state: { files: ["index.ts"] },
      createdAt: Date.now()
    });

    expect((await storage.retrieveAgentCheckpoint(agentId))?.state).toEqual({ messages: ["Hello"] })
    expect((await storage.retrieveAppCheckpoint(appId))?.projectDirectory).toBe("/home/user/project")
    await storage.stop()
  })

  it("Full Workflow Example", async () => {
    process.env.DATABASE_URL = workflowDatabase.db.config.connectionString
    const log = vi.spyOn(console, "log").mockImplementation(() => {})
    let storage

    async function checkpointWorkflow() {
      storage = new PostgresStorage({
        type: "postgres",
        connectionString: process.env.DATABASE_URL
      });

      // Initialize the storage
      await storage.start();

      // Store initial agent state
      const initialAgentCheckpoint = {
        agentId: 'my-agent',
        sessionId: 'session-1',
        agentType: 'coder',
        name: 'initial',
        state: { step: 0, message: 'Starting workflow' },
        createdAt: Date.now()
      };

      const initialAgentId = await storage.storeAgentCheckpoint(initialAgentCheckpoint);
      console.log('Initial agent checkpoint stored:', initialAgentId);

      // Store initial app state
      const initialAppCheckpoint = {
        sessionId: 'session-1',
        hostname: 'localhost',
        projectDirectory: '/home/user/project',
        state: { files: ['index.ts'], step: 0 },
        createdAt: Date.now()
      };

      const initialAppId = await storage.storeAppCheckpoint(initialAppCheckpoint);
      console.log('Initial app checkpoint stored:', initialAppId);

      // Retrieve and update agent checkpoint
      const current = await storage.retrieveAgentCheckpoint(initialAgentId);
      if (current) {
        current.state.step += 1;
        current.state.message = 'Processing...';

        const updatedId = await storage.storeAgentCheckpoint({
          ...current,
          createdAt: Date.now()
        });
        console.log('Agent checkpoint updated:', updatedId);
      }

      // Retrieve latest app checkpoint
      const latestApp = await storage.retrieveLatestAppCheckpoint();
      if (latestApp) {
        console.log('Latest app session:', latestApp.sessionId);
        console.log('Working directory:', latestApp.projectDirectory);
      }

      // List all agent checkpoints
      const agentCheckpoints = await storage.listAgentCheckpoints();
      console.log('Total agent checkpoints:', agentCheckpoints.length);

      // List all app checkpoints
      const appCheckpoints = await storage.listAppCheckpoints();
      console.log('Total app checkpoints:', appCheckpoints.length);
    }

    await checkpointWorkflow()
    const logged = [...log.mock.calls]
    log.mockRestore()
    const printed = Object.fromEntries(logged.map(([label, value]) => [label, value]))
    expect(printed["Latest app session:"]).toBe("session-1")
    expect(printed["Working directory:"]).toBe("/home/user/project")
    expect(printed["Total agent checkpoints:"]).toBe(2)
    expect(printed["Total app checkpoints:"]).toBe(1)
    const updated = await storage.retrieveAgentCheckpoint(printed["Agent checkpoint updated:"])
    expect(updated?.state).toEqual({ step: 1, message: "Processing..." })
    await storage.stop()
  })

  it("Error Handling", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {})
    const error = vi.spyOn(console, "error").mockImplementation(() => {})
    let storage

    async function safeCheckpointOperation() {
      storage = new SQLiteStorage({
        type: "sqlite",
        databasePath: "./error-handling.db"
      });

      try {
        await storage.start();

        const agentCheckpoint = {
          agentId: "agent-123",
          sessionId: "session-1",
          agentType: "coder",
          name: "session-1",
          state: { messages: ["Hello"] },
          createdAt: Date.now()
        };

        const id = await storage.storeAgentCheckpoint(agentCheckpoint);
        console.log('Checkpoint stored:', id);

        // Handle non-existent checkpoint
        const missing = await storage.retrieveAgentCheckpoint("999999");
        if (missing === null) {
          console.log('Checkpoint not found');
        }

        // Handle no app checkpoints
        const latest = await storage.retrieveLatestAppCheckpoint();
        if (latest === null) {
          console.log('No app checkpoints exist');
        }
      } catch (error) {
        console.error('Database operation failed:', error);
      }
    }

    await safeCheckpointOperation()
    const logged = [...log.mock.calls]
    const errors = [...error.mock.calls]
    log.mockRestore()
    error.mockRestore()
    expect(errors).toEqual([])
    expect(logged.map(([text]) => text)).toEqual([
      "Checkpoint stored:",
      "Checkpoint not found",
      "No app checkpoints exist"
    ])
    await storage.stop()
  })
})
