/**
 * TypeBox builders for the shapes Kubernetes structural schemas allow. TypeBox's own `Union`, `Literal`
 * and `Record` emit `anyOf`/`const`/`patternProperties`, which a CRD schema rejects or cannot prune, so
 * enums, maps and int-or-string quantities are declared here with `Type.Unsafe`: the TypeScript type is
 * exact and the emitted JSON Schema is what the apiserver accepts. `x-kubernetes-*` keys pass through
 * TypeBox as ordinary options.
 */
import { Type, type TSchema, type TUnsafe, type SchemaOptions } from "@sinclair/typebox";
import { DURATION_PATTERN } from "./duration.js";

/** One `x-kubernetes-validations` entry: a CEL rule with the message shown when it is false. */
export interface CelRule {
  readonly rule: string;
  readonly message?: string;
  readonly messageExpression?: string;
  /** JSONPath (relative to the schema the rule sits on) of the field the error is reported at. */
  readonly fieldPath?: string;
  readonly reason?: "FieldValueInvalid" | "FieldValueRequired" | "FieldValueForbidden" | "FieldValueDuplicate";
}

/** Schema options carrying CEL rules. */
export function cel(...rules: CelRule[]): { "x-kubernetes-validations": CelRule[] } {
  return { "x-kubernetes-validations": rules };
}

/** A string restricted to `values`, typed as their union. */
export function stringEnum<const T extends readonly string[]>(values: T, options: SchemaOptions = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, type: "string", enum: [...values] });
}

/** An object whose keys are free and whose values all follow `value` (JSON Schema `additionalProperties`). */
export function stringMap<T extends TSchema>(value: T, options: SchemaOptions = {}): TUnsafe<Record<string, T["static"]>> {
  return Type.Unsafe<Record<string, T["static"]>>({ ...options, type: "object", additionalProperties: value });
}

/** An object the apiserver stores as given (no pruning): for pod templates and status details that grow. */
export function freeObject<T = Record<string, unknown>>(options: SchemaOptions = {}): TUnsafe<T> {
  return Type.Unsafe<T>({ ...options, type: "object", "x-kubernetes-preserve-unknown-fields": true });
}

/** A Kubernetes resource quantity (`500m`, `2Gi`, `1`): an integer or a string, as core/v1 declares it. */
export function quantity(options: SchemaOptions = {}): TUnsafe<number | string> {
  return Type.Unsafe<number | string>({
    ...options,
    anyOf: [{ type: "integer" }, { type: "string" }],
    pattern: "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$",
    "x-kubernetes-int-or-string": true,
  });
}

/** A duration string such as `10s`, `1m30s` or `500ms` (units ms, s, m, h). */
export function duration(options: SchemaOptions = {}) {
  return Type.String({ ...options, pattern: DURATION_PATTERN, maxLength: 32 });
}

/** Where state goes: `file:///dir`, `/dir` or `s3://bucket/prefix`, checked by a CEL rule naming `field`. */
export function storageLocation(field: string, options: SchemaOptions = {}) {
  return Type.String({
    ...options,
    minLength: 1,
    maxLength: 1024,
    ...cel({
      rule: "self.matches('^(file:///|/|s3://[a-z0-9][a-z0-9.-]*[a-z0-9](/|$))')",
      message: `${field} must be a file:/// URL, an absolute path or an s3://bucket/prefix URL`,
    }),
  });
}

/**
 * A schema as plain JSON: TypeBox's symbol keys dropped, each schema's keywords in a canonical order (so the
 * YAML is stable and reads type-first), `properties` kept in declaration order.
 */
export function plainSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(plainSchema);
  if (schema === null || typeof schema !== "object") return schema;
  const entries = Object.entries(schema).map(([k, v]) => [k, keywordValue(k, v)] as const);
  entries.sort(([a], [b]) => keyRank(a) - keyRank(b) || a.localeCompare(b));
  return Object.fromEntries(entries);
}

function keywordValue(keyword: string, value: unknown): unknown {
  if (keyword === "properties") {
    return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, plainSchema(v)]));
  }
  if (keyword === "items" || keyword === "additionalProperties" || keyword === "anyOf") return plainSchema(value);
  return JSON.parse(JSON.stringify(value)) as unknown;
}

const KEY_ORDER = ["description", "type", "format", "enum", "default", "minimum", "maximum", "minLength", "maxLength", "pattern", "anyOf"];
function keyRank(key: string): number {
  const i = KEY_ORDER.indexOf(key);
  if (i >= 0) return i;
  return key.startsWith("x-kubernetes-") ? 100 : 50;
}
