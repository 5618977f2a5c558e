/**
 * The Nexmark queries the suite runs, in report order, and their lookup by name.
 *
 *   const query = queryByName("q4");
 *   query.build(events, env).sinkTo(...);
 */
import type { NexmarkQuery } from "../query.js";
import { q0 } from "./q0.js";
import { q1 } from "./q1.js";
import { q2 } from "./q2.js";
import { q3 } from "./q3.js";
import { q4 } from "./q4.js";
import { q5 } from "./q5.js";
import { q7 } from "./q7.js";
import { q8 } from "./q8.js";
import { q11 } from "./q11.js";

/** Every implemented query, one entry per line, in query-number order. */
export const QUERIES: readonly NexmarkQuery[] = [
  q0,
  q1,
  q2,
  q3,
  q4,
  q5,
  q7,
  q8,
  q11,
];

/** The query named `name` ("q0" ...); throws listing the known names. */
export function queryByName(name: string): NexmarkQuery {
  const query = QUERIES.find((q) => q.name === name);
  if (!query) throw new Error(`unknown Nexmark query "${name}"; known: ${QUERIES.map((q) => q.name).join(", ")}`);
  return query;
}
