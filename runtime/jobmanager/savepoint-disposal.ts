/**
 * Disposal of a savepoint (Flink's `POST /savepoint-disposal`): the operator trims its savepoint history
 * by count and age and has the JobManager delete the savepoints that fell out, because only the
 * JobManager can reach their storage. A savepoint is self-contained (its `_metadata` names its files
 * relative to its own directory), so disposal deletes that directory. Anything that is not a readable
 * savepoint (a checkpoint, a corrupt or missing `_metadata`) is refused and left alone.
 */
import { WeirError } from "../common/errors.js";
import type { RuntimeConfig } from "../config/options.js";
import { readMetadata, storageFor } from "../state/storage/index.js";

export async function disposeSavepoint(path: string, config: RuntimeConfig): Promise<void> {
  const storage = storageFor(path, config);
  const { meta, metadataUrl } = await readMetadata(storage, path);
  if (meta.kind !== "savepoint") {
    throw new WeirError("WEIR_E_NOT_A_SAVEPOINT", `${path} holds a ${meta.kind}, not a savepoint: not disposed`);
  }
  await storage.deleteDirectory(metadataUrl.slice(0, metadataUrl.lastIndexOf("/")));
}
