/** Durations in StreamJob specs: strings like `10s`, `1m30s`, `500ms`, converted to the runtime's milliseconds. */

/** The pattern the CRD schema checks: one or more `<integer><unit>` parts, units ms, s, m, h. */
export const DURATION_PATTERN = "^([0-9]+(ms|s|m|h))+$";

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * Milliseconds of a duration string such as `1m30s`. Throws naming `field` and the value when it does not
 * match {@link DURATION_PATTERN} (the apiserver already rejects such values; this guards other inputs).
 */
export function parseDuration(value: string, field = "duration"): number {
  if (!new RegExp(DURATION_PATTERN).test(value)) {
    throw new Error(`${field}: "${value}" is not a duration like 500ms, 10s, 5m or 1h30m`);
  }
  let total = 0;
  for (const m of value.matchAll(/([0-9]+)(ms|s|m|h)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}
