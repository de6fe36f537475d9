/**
 * What a route reads from its request: query parameters through a Schema, path parameters from the router.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { InspectorRequestError } from "./InspectorErrors.js"

const badRequest = (message: string) => new InspectorRequestError({ status: 400, tag: "BadRequest", message })

/**
 * The query parameters of the request (the token left out: it is never part of a message), decoded by `schema`;
 * a parameter it cannot read is a 400.
 */
export const queryOf = <A, I>(schema: Schema.Schema<A, I>) =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const params = Object.fromEntries(new URL(request.url, "http://127.0.0.1").searchParams)
    delete params.token
    return Effect.mapError(
      Schema.decodeUnknown(schema, { errors: "all" })(params),
      (error) => badRequest(`Bad query: ${ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) =>
        `${issue.path.join(".")} ${issue.message}`.trim()
      ).join("; ")}`)
    )
  })

/** A path parameter of the route (decoded by the router). */
export const pathParam = (name: string) =>
  Effect.flatMap(HttpRouter.params, (params) => {
    const value = params[name]
    return value === undefined || value === "" ? Effect.fail(badRequest(`Missing ${name}`)) : Effect.succeed(value)
  })

/** A whole number given as text (`limit=20`); the service checks its range. */
export const IntegerParam = Schema.NumberFromString.pipe(Schema.int())
