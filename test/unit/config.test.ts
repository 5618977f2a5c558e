import { describe, expect, it } from "vitest";
import { WeirError } from "../../runtime/common/errors.js";
import { OPTIONS, resolveConfig, type ConfigKey } from "../../runtime/config/options.js";

const NO_ENV = {};

/** The configuration error of `f` (fails the test when `f` succeeds). */
function configError(f: () => unknown): WeirError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(WeirError);
    expect((err as WeirError).code).toBe("WEIR_E_CONFIG");
    return err as WeirError;
  }
  throw new Error("expected a configuration error");
}

describe("resolveConfig", () => {
  it("returns every option's default when nothing overrides it", () => {
    const c = resolveConfig([], NO_ENV);
    expect(Object.keys(c).sort()).toEqual(Object.keys(OPTIONS).sort());
    for (const key of Object.keys(OPTIONS) as ConfigKey[]) expect(c[key]).toBe(OPTIONS[key].default);
    expect(c["network.batch-size"]).toBe(1024);
    expect(c["heartbeat.timeout"]).toBe(10_000);
  });

  it("returns a frozen object", () => {
    const c = resolveConfig([], NO_ENV);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("applies key=value overrides and leaves the other keys at their defaults", () => {
    const c = resolveConfig(["network.batch-size=64", "heartbeat.interval=250"], NO_ENV);
    expect(c["network.batch-size"]).toBe(64);
    expect(c["heartbeat.interval"]).toBe(250);
    expect(c["task.time-slice"]).toBe(OPTIONS["task.time-slice"].default);
  });

  it("lets the last of repeated overrides win", () => {
    expect(resolveConfig(["task.time-slice=5", "task.time-slice=7"], NO_ENV)["task.time-slice"]).toBe(7);
  });

  it("reads WEIR_CONFIG_<KEY> environment variables", () => {
    const c = resolveConfig([], { WEIR_CONFIG_NETWORK_BATCH_SIZE: "32", WEIR_CONFIG_PIPELINE_AUTO_WATERMARK_INTERVAL: "50" });
    expect(c["network.batch-size"]).toBe(32);
    expect(c["pipeline.auto-watermark-interval"]).toBe(50);
  });

  it("lets flags override environment variables", () => {
    const c = resolveConfig(["network.batch-size=16"], { WEIR_CONFIG_NETWORK_BATCH_SIZE: "32" });
    expect(c["network.batch-size"]).toBe(16);
  });

  it("accepts a value exactly at the minimum", () => {
    expect(resolveConfig(["network.partition-request-timeout=100"], NO_ENV)["network.partition-request-timeout"]).toBe(100);
  });

  it("rejects an unknown key, naming it and the known keys", () => {
    const err = configError(() => resolveConfig(["network.batchsize=4"], NO_ENV));
    expect(err.message).toContain('"network.batchsize"');
    expect(err.message).toContain("network.batch-size");
  });

  it("rejects an unknown key even without a value", () => {
    expect(configError(() => resolveConfig(["bogus"], NO_ENV)).message).toContain('"bogus"');
  });

  it("rejects keys inherited from Object.prototype such as toString", () => {
    for (const key of ["toString", "constructor", "__proto__", "hasOwnProperty"]) {
      expect(configError(() => resolveConfig([`${key}=5`], NO_ENV)).message).toContain(`unknown configuration key "${key}"`);
    }
  });

  it("rejects a known key without '=', naming the expected form", () => {
    const err = configError(() => resolveConfig(["network.batch-size"], NO_ENV));
    expect(err.message).toContain('"network.batch-size"');
    expect(err.message).toContain("key=value");
  });

  it.each(["abc", "", "12ms", "NaN", "Infinity"])("rejects the malformed value %j, naming the key and what it expects", (raw) => {
    const err = configError(() => resolveConfig([`network.batch-size=${raw}`], NO_ENV));
    expect(err.message).toContain("network.batch-size");
    expect(err.message).toContain("must be a number >= 1");
    expect(err.message).toContain(`"${raw}"`);
  });

  it("rejects values below an option's minimum", () => {
    const err = configError(() => resolveConfig(["heartbeat.timeout=99"], NO_ENV));
    expect(err.message).toContain("heartbeat.timeout must be a number >= 100");
    expect(configError(() => resolveConfig(["network.batch-size=0"], NO_ENV)).message).toContain(">= 1");
    expect(configError(() => resolveConfig(["network.batch-size=-5"], NO_ENV)).message).toContain('"-5"');
  });

  it("rejects a malformed environment variable, naming the variable", () => {
    const err = configError(() => resolveConfig([], { WEIR_CONFIG_NETWORK_BATCH_SIZE: "lots" }));
    expect(err.message).toContain("WEIR_CONFIG_NETWORK_BATCH_SIZE");
    expect(err.message).toContain("must be a number >= 1");
    expect(err.message).toContain('"lots"');
  });

  it("ignores environment variables that are not configuration", () => {
    expect(resolveConfig([], { WEIR_CONFIG: "x", PATH: "/bin" })).toEqual(resolveConfig([], NO_ENV));
  });
});
