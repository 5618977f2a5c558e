/**
 * Test job: an unbounded generator of ~2 KB records, a map in its own task, and a sink that takes
 * `<sleep-ms>` per batch. The map's vertex must report backpressure and memory must stay bounded.
 */
import type { StreamEnvironment } from "weir";

export default (env: StreamEnvironment, args: string[]) => {
  const sleepMs = Number(args[0] ?? "50");
  const payload = "x".repeat(2048);
  env
    .fromGenerator({ generate: (i) => ({ i, payload }) })
    .name("Generate")
    .map((r) => ({ i: r.i, payload: r.payload, len: r.payload.length }))
    .name("Enrich")
    .disableChaining()
    .rebalance()
    .sinkTo({
      name: "Slow sink",
      createWriter: () => ({
        write: () => new Promise<void>((resolve) => setTimeout(resolve, sleepMs)),
      }),
    })
    .name("Slow sink")
    .disableChaining();
};
