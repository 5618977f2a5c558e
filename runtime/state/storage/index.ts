/**
 * Checkpoint storage: where snapshots live (file:// or s3://), the `_metadata` format, and retention.
 *
 *   const storage = storageFor(config["state.checkpoints.dir"], config);
 *   const metadataUrl = joinUrl(checkpointDirUrl(root, jobId, 7), METADATA_FILE);
 *   await writeMetadata(storage, metadataUrl, meta);
 *   await store.add(meta, metadataUrl); // subsumes old checkpoints, deletes unreferenced files
 *
 *   const { meta } = await readMetadata(storage, "s3://bucket/savepoints/savepoint-ab12cd-.../");
 *   await verifyStateFiles(storage, meta);
 *
 *   const { chosen, skipped } = await latestCheckpoint(storage, jobDirUrl, loadAndVerify); // newest usable chk-N
 */
export {
  type CheckpointStorage,
  joinUrl,
  normalizeUrl,
  parentUrl,
  relativeUrl,
  resolveUrl,
  storageFor,
} from "./checkpoint-storage.js";
export {
  decodeMetadata,
  encodeMetadata,
  fileRefsOf,
  mapFileRefs,
  METADATA_FILE,
  metadataUrlOf,
  readMetadata,
  readVerified,
  sha256Hex,
  subtaskFileRefs,
  verifyStateFiles,
  writeMetadata,
} from "./metadata.js";
export {
  checkpointDirUrl,
  type CompletedCheckpoint,
  CompletedCheckpointStore,
  type DiscardResult,
  newSavepointDirUrl,
  sharedDirUrl,
} from "./completed-store.js";
export { type CheckpointDirEntry, checkpointDirs, type LatestCheckpoint, latestCheckpoint } from "./latest-checkpoint.js";
