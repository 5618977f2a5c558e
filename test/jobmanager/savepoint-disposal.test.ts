import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../runtime/config/options.js";
import { disposeSavepoint } from "../../runtime/jobmanager/savepoint-disposal.js";
import { encodeMetadata } from "../../runtime/state/storage/index.js";
import type { CheckpointMetadata } from "../../runtime/state/snapshot-types.js";

const config = resolveConfig([], {});

/** A snapshot directory with a `_metadata` of `kind` and one state file beside it. */
function snapshot(kind: CheckpointMetadata["kind"]): string {
  const dir = join(mkdtempSync(join(tmpdir(), "weir-disposal-")), `${kind}-1`);
  mkdirSync(dir);
  const url = pathToFileURL(join(dir, "_metadata")).href;
  const meta: CheckpointMetadata = { format: "weir-snapshot", version: 1, kind, jobId: "j", jobName: "j", checkpointId: 1, timestamp: 0, operators: [] };
  writeFileSync(join(dir, "_metadata"), encodeMetadata(meta, url));
  writeFileSync(join(dir, "state-0"), "keyed state");
  return dir;
}

describe("savepoint disposal", () => {
  it("deletes a savepoint's directory, given as a path or a file:// URL of it or of its _metadata", async () => {
    for (const form of [(d: string) => d, (d: string) => pathToFileURL(d).href, (d: string) => pathToFileURL(join(d, "_metadata")).href]) {
      const dir = snapshot("savepoint");
      await disposeSavepoint(form(dir), config);
      expect(existsSync(dir)).toBe(false);
    }
  });

  it("refuses a checkpoint, a missing or a corrupt _metadata and deletes nothing", async () => {
    const chk = snapshot("checkpoint");
    await expect(disposeSavepoint(chk, config)).rejects.toMatchObject({ code: "WEIR_E_NOT_A_SAVEPOINT" });
    expect(existsSync(join(chk, "state-0"))).toBe(true);
    const empty = mkdtempSync(join(tmpdir(), "weir-disposal-"));
    await expect(disposeSavepoint(empty, config)).rejects.toMatchObject({ code: "WEIR_E_CORRUPT_CHECKPOINT" });
    expect(existsSync(empty)).toBe(true);
    const corrupt = snapshot("savepoint");
    writeFileSync(join(corrupt, "_metadata"), "not a snapshot");
    await expect(disposeSavepoint(corrupt, config)).rejects.toMatchObject({ code: "WEIR_E_CORRUPT_CHECKPOINT" });
    expect(existsSync(join(corrupt, "state-0"))).toBe(true);
  });
});
