/**
 * Typed errors with stable codes, so tests and users match on `code` rather than on message text.
 *
 *   throw new WeirError("WEIR_E_KEY_UNDEFINED", `keyBy of operator "${name}" returned undefined`);
 */

/** Every stable error code Weir raises. */
export type WeirErrorCode =
  | "WEIR_E_MODULE_LOAD"
  | "WEIR_E_NO_DEFAULT_EXPORT"
  | "WEIR_E_JOB_BUILD"
  | "WEIR_E_INVALID_GRAPH"
  | "WEIR_E_KEY_UNDEFINED"
  | "WEIR_E_NO_TIMESTAMP"
  | "WEIR_E_USER_FUNCTION"
  | "WEIR_E_NOT_ENOUGH_SLOTS"
  | "WEIR_E_TASKMANAGER_LOST"
  | "WEIR_E_TASK_FAILED"
  | "WEIR_E_PROTOCOL"
  | "WEIR_E_CONFIG"
  | "WEIR_E_NOT_FOUND"
  | "WEIR_E_CANCELED"
  | "WEIR_E_CONNECTION_LOST"
  | "WEIR_E_PARTITION_FAILED"
  | "WEIR_E_COMMIT"
  | "WEIR_E_CHECKPOINT_DECLINED"
  | "WEIR_E_JOB_EXISTS"
  /** A checkpoint/savepoint file that `_metadata` (or a caller) names does not exist. */
  | "WEIR_E_STATE_FILE_MISSING"
  /** A snapshot is unreadable: missing/truncated/corrupt `_metadata`, or a state file of the wrong size or hash. */
  | "WEIR_E_CORRUPT_CHECKPOINT"
  /** A snapshot does not fit the job restoring it (unmapped operator uids, changed max parallelism). */
  | "WEIR_E_STATE_MISMATCH"
  /** Checkpoint storage (file system or S3) failed an operation; the message names the URL. */
  | "WEIR_E_STORAGE"
  /** A key-group state file or block is truncated or does not decode. */
  | "WEIR_E_CORRUPT_STATE"
  /** Internal: RocksDB keyed state was used for a key the engine did not prefetch. */
  | "WEIR_E_STATE_NOT_PREFETCHED"
  /** A disposal named a snapshot that is not a savepoint (e.g. a checkpoint): nothing was deleted. */
  | "WEIR_E_NOT_A_SAVEPOINT"
  /** A Kafka topic a connector needs does not exist; the message names the topic and the brokers. */
  | "WEIR_E_KAFKA_TOPIC_NOT_FOUND"
  /** Kafka failed in a way retries did not fix (brokers unreachable, a request refused); names the brokers. */
  | "WEIR_E_KAFKA"
  /** A source record could not be deserialized; the message names where it was (topic, partition, offset). */
  | "WEIR_E_DESERIALIZE";

/** An error carrying a stable code and, optionally, the error that caused it. */
export class WeirError extends Error {
  constructor(
    readonly code: WeirErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "WeirError";
  }
}

/** Render an error and its cause chain as one string a person can read in a job's failure cause. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 8; depth++) {
    if (cur instanceof Error) {
      const text = depth === 0 && cur.stack ? cur.stack : `${cur.name}: ${cur.message}`;
      parts.push(cur instanceof WeirError ? `[${cur.code}] ${text}` : text);
      cur = (cur as { cause?: unknown }).cause;
    } else {
      parts.push(String(cur));
      break;
    }
  }
  return parts.join("\nCaused by: ");
}
