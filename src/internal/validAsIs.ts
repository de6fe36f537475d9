/**
 * A check compiled once from a Schema that answers, without allocating, whether an input decodes to itself: every
 * value under the schema's keys passes as it is. What it cannot vouch for, it leaves to the decoder.
 *
 * Why: every store decodes its input with the checkpoint's Schema (decodeInput.ts). Effect's decoder builds an
 * Either, closures and an output object at each node, about 2.9 KB of garbage for a checkpoint (node, 20,000
 * decodes), and under a store loop that garbage showed as more frequent young-generation collections and a slower
 * driver (its caches evicted). The check here runs the same filters of the same Schema on the same values, in the
 * order the decoder runs them, and allocates nothing; the decoder then runs only for an input the check refuses,
 * to say what is wrong with it.
 *
 * It mirrors Effect's decoder under the default parse options (`exact: false`, excess properties ignored), for the
 * schema nodes that decode a value to itself: keywords, literals, refinements (the filters), declarations that
 * give back their input, unions of those, and structs without index signatures. Any other node (a transformation,
 * a suspended or recursive schema, a tuple, a template literal, a node with its own parse options) has no check:
 * `compileValidAsIs` then returns undefined and every input goes through the decoder.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as AST from "effect/SchemaAST"

type Check = (input: unknown) => boolean

// What the decoder hands a filter when it is called without options (ParseResult's default).
const parseOptions: AST.ParseOptions = {}

const compile = (ast: AST.AST): Check | undefined => {
  if (Option.isSome(AST.getParseOptionsAnnotation(ast))) return undefined
  switch (ast._tag) {
    case "StringKeyword":
      return (input) => typeof input === "string"
    case "NumberKeyword":
      return (input) => typeof input === "number"
    case "BooleanKeyword":
      return (input) => typeof input === "boolean"
    case "UndefinedKeyword":
      return (input) => input === undefined
    case "UnknownKeyword":
    case "AnyKeyword":
      return () => true
    case "Literal": {
      const literal = ast.literal
      return (input) => input === literal
    }
    case "Refinement": {
      const from = compile(ast.from)
      if (from === undefined) return undefined
      return (input) => from(input) && Option.isNone(ast.filter(input, parseOptions, ast))
    }
    case "Declaration": {
      const parse = ast.decodeUnknown(...ast.typeParameters) as (
        input: unknown,
        options: AST.ParseOptions,
        self: AST.Declaration
      ) => unknown
      // Only a declaration that answers at once (an Either), with the input itself.
      return (input) => {
        const result = parse(input, parseOptions, ast) as Either.Either<unknown, ParseResult.ParseIssue>
        return Either.isEither(result) && Either.isRight(result) && Object.is(result.right, input)
      }
    }
    case "Union": {
      const members: Array<Check> = []
      for (const member of ast.types) {
        const check = compile(member)
        if (check === undefined) return undefined
        members.push(check)
      }
      return (input) => {
        for (const member of members) if (member(input)) return true
        return false
      }
    }
    case "TypeLiteral": {
      if (ast.indexSignatures.length > 0) return undefined
      const properties: Array<readonly [PropertyKey, boolean, Check]> = []
      for (const property of ast.propertySignatures) {
        const check = compile(property.type)
        if (check === undefined) return undefined
        properties.push([property.name, property.isOptional, check])
      }
      // As the decoder: an absent optional key is skipped; an absent required one is read (as undefined, or from the
      // prototype) and checked.
      return (input) => {
        if (typeof input !== "object" || input === null || Array.isArray(input)) return false
        for (const [name, isOptional, check] of properties) {
          if (isOptional && !Object.prototype.hasOwnProperty.call(input, name)) continue
          if (!check((input as Record<PropertyKey, unknown>)[name])) return false
        }
        return true
      }
    }
    default:
      return undefined
  }
}

/**
 * The check of `ast`, or undefined when it has a node the check does not mirror (see above).
 *
 * @internal
 */
export const compileValidAsIs = (ast: AST.AST): ((input: unknown) => boolean) | undefined => compile(ast)
