/**
 * The server of `ecs ui`: a read-only web inspector of a database, on 127.0.0.1 only, behind a random token. Every
 * request (the page, its assets, the API) must carry the token, as `?token=` or `Authorization: Bearer`; every
 * response carries the security headers below. The routes read through the services they are given (see
 * InspectorRoutes.ts); the JSON they answer is InspectorTypes.ts.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import type * as HttpServer from "@effect/platform/HttpServer"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs/promises"
import * as Http from "node:http"
import type { CheckpointStorage } from "../services/CheckpointStorage.js"
import type { LangGraphCheckpoints } from "../services/LangGraphCheckpoints.js"
import { type InspectorAsset, inspectorAssetPath } from "./InspectorAssets.js"
import { errorResponse, InspectorRequestError, scrubSecrets } from "./InspectorErrors.js"
import { inspectorHtml } from "./InspectorHtml.js"
import { apiRoutes } from "./InspectorRoutes.js"

/**
 * The headers of every response: nothing but the server's own script, style and API may load, nothing may frame
 * the page, nothing is cached or sent as a referrer (the token is in the address).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store"
}

/**
 * How to start the inspector.
 */
export interface InspectorOptions {
  /** The database as people see it, its password masked (the overview and the export header show it). */
  readonly database: string
  /** The port on 127.0.0.1; 0 or absent: a free one. */
  readonly port?: number | undefined
  /** The token requests must carry; absent: 24 random bytes, base64url. */
  readonly token?: string | undefined
  /** Texts never to send (the database's password): replaced by `***` in every error message. */
  readonly secrets?: ReadonlyArray<string> | undefined
}

/**
 * A running inspector.
 */
export interface RunningInspector {
  /** The address to open, token included: `http://127.0.0.1:PORT/?token=TOKEN`. */
  readonly url: string
  readonly port: number
  readonly token: string
}

/**
 * A new random token: 24 bytes, base64url (32 characters).
 */
export const makeToken = (): string => Crypto.randomBytes(24).toString("base64url")

const digest = (text: string): Buffer => Crypto.createHash("sha256").update(text, "utf8").digest()

/** Whether the request carries the token. Compared as digests of equal length, in constant time. */
const carriesToken = (expected: Buffer, request: HttpServerRequest.HttpServerRequest): boolean => {
  const authorization = request.headers["authorization"]
  const bearer = authorization !== undefined && /^Bearer /i.test(authorization) ? authorization.slice(7).trim() : undefined
  const given = bearer ?? new URL(request.url, "http://127.0.0.1").searchParams.get("token") ?? undefined
  return given !== undefined && Crypto.timingSafeEqual(digest(given), expected)
}

const contentTypes: Record<InspectorAsset, string> = {
  "inspector.js": "text/javascript; charset=utf-8",
  "inspector.css": "text/css; charset=utf-8"
}

/** A built asset, read on each request (they are small, and a rebuild shows without a restart). */
const asset = (name: InspectorAsset) =>
  Effect.suspend(() => {
    const path = inspectorAssetPath(name)
    if (path === undefined) {
      return Effect.fail(
        new InspectorRequestError({
          status: 500,
          tag: "AssetNotBuilt",
          message: `The inspector's ${name} has not been built: run \`npm run build\``
        })
      )
    }
    return Effect.map(
      Effect.promise(() => Fs.readFile(path)),
      (bytes) => HttpServerResponse.uint8Array(bytes, { contentType: contentTypes[name] })
    )
  })

/**
 * The inspector as an HTTP app: the token checked first, every failure answered as JSON, the security headers on
 * every response.
 */
export const inspectorApp = (options: { readonly database: string; readonly token: string; readonly secrets: ReadonlyArray<string> }) => {
  const expected = digest(options.token)
  const scrub = scrubSecrets([...options.secrets, options.token])
  const router = apiRoutes(options.database).pipe(
    HttpRouter.get("/", Effect.succeed(HttpServerResponse.html(inspectorHtml(options.token)))),
    HttpRouter.get("/inspector.js", asset("inspector.js")),
    HttpRouter.get("/inspector.css", asset("inspector.css"))
  )
  return Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (!carriesToken(expected, request)) {
      return yield* new InspectorRequestError({
        status: 401,
        tag: "Unauthorized",
        message: "This address needs the token printed by `ecs ui` (?token= or Authorization: Bearer)"
      })
    }
    return yield* router
  }).pipe(
    Effect.catchAllCause((cause) => {
      const failure = Cause.failureOption(cause)
      if (Option.isSome(failure)) {
        const error = failure.value
        return Effect.succeed(
          error._tag === "RouteNotFound"
            ? errorResponse(scrub, new InspectorRequestError({ status: 404, tag: "NotFound", message: "No such route" }))
            : errorResponse(scrub, error)
        )
      }
      // A defect or an interruption: say so without its details, which may name the database.
      return Effect.succeed(errorResponse(scrub, { _tag: "InternalError", message: "The inspector failed; see its log" }))
    }),
    Effect.map(HttpServerResponse.setHeaders(SECURITY_HEADERS))
  )
}

/**
 * Starts the inspector on 127.0.0.1 with the services `services` builds, for the life of the scope.
 *
 * @example
 * ```ts
 * const running = yield* startInspector(Layer.merge(layerStorage(url), layerLangGraph(url)), { database: url.display })
 * console.log(running.url)
 * ```
 */
export const startInspector = <E>(
  services: Layer.Layer<CheckpointStorage | LangGraphCheckpoints, E>,
  options: InspectorOptions
): Effect.Effect<RunningInspector, E | ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const token = options.token ?? makeToken()
    const context = yield* Layer.build(services)
    // 127.0.0.1 only: the inspector shows everything the database holds, to this machine alone.
    const server = yield* NodeHttpServer.make(() => Http.createServer(), { host: "127.0.0.1", port: options.port ?? 0 })
    const app = inspectorApp({ database: options.database, token, secrets: options.secrets ?? [] })
    yield* server.serve(Effect.provide(app, context))
    const port = portOf(server.address)
    return { url: `http://127.0.0.1:${port}/?token=${token}`, port, token }
  })

const portOf = (address: HttpServer.Address): number => (address._tag === "TcpAddress" ? address.port : 0)
