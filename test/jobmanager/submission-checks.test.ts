import { describe, expect, it } from "vitest";
import { StreamEnvironment } from "../../runtime/api/environment.js";
import { WeirError } from "../../runtime/common/errors.js";
import { transactionalFileSink } from "../../runtime/connectors/file-sink.js";
import { kafkaSink } from "../../runtime/connectors/kafka/sink.js";
import { discardSink } from "../../runtime/connectors/print.js";
import type { AnySink } from "../../runtime/api/sink.js";
import { buildJobGraph } from "../../runtime/graph/job-graph.js";
import { checkExactlyOnceSinksCanCommit } from "../../runtime/jobmanager/submission-checks.js";

/** A generator (unbounded without a count) into `sink`, planned. */
function job(sink: AnySink<number>, bounded: boolean) {
  const env = new StreamEnvironment();
  env
    .fromGenerator({ ...(bounded ? { count: 10 } : {}), generate: (i) => i })
    .sinkTo(sink)
    .name("Out")
    .uid("out");
  return buildJobGraph(env.toStreamGraph());
}

const noCheckpoints = { "execution.checkpointing.interval": 0 };
const kafka = (deliveryGuarantee: "exactly-once" | "at-least-once") => kafkaSink<number>({ brokers: "127.0.0.1:1", topic: "t", deliveryGuarantee });

describe("checkExactlyOnceSinksCanCommit", () => {
  it("refuses an exactly-once sink in an unbounded job without checkpoints, naming the sink and the setting", () => {
    for (const sink of [kafka("exactly-once"), transactionalFileSink<number>("/tmp/never-written")]) {
      let err: unknown;
      try {
        checkExactlyOnceSinksCanCommit(job(sink, false), noCheckpoints);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(WeirError);
      expect((err as WeirError).code).toBe("WEIR_E_CONFIG");
      expect((err as Error).message).toMatch(/sink "Out" \(uid out\) is exactly-once.*execution\.checkpointing\.interval is 0/);
    }
  });

  it("accepts it with checkpoints, in a bounded job, and any at-least-once sink", () => {
    expect(() => checkExactlyOnceSinksCanCommit(job(kafka("exactly-once"), false), { "execution.checkpointing.interval": 1_000 })).not.toThrow();
    expect(() => checkExactlyOnceSinksCanCommit(job(kafka("exactly-once"), true), noCheckpoints)).not.toThrow();
    expect(() => checkExactlyOnceSinksCanCommit(job(kafka("at-least-once"), false), noCheckpoints)).not.toThrow();
    expect(() => checkExactlyOnceSinksCanCommit(job(discardSink<number>(), false), noCheckpoints)).not.toThrow();
  });
});
