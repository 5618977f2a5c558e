/**
 * Test job for user operator list state. Args: `<output-dir>`. An unbounded generator feeds a
 * non-keyed process function (uid "counter") that keeps how many records its subtask has seen in
 * `ctx.operatorState.listState("count")`; after a restore, each subtask first emits the counts it got
 * back (`["restored", subtask, counts]`) into a file sink.
 */
import { type Collector, type ProcessFunction, type RuntimeContext, type ListState, type StreamEnvironment, fileSink } from "weir";

class Counter implements ProcessFunction<number, unknown[]> {
  private count!: ListState<number>;
  private restored: number[] | null = null;
  private subtask = 0;
  open(ctx: RuntimeContext): void {
    this.subtask = ctx.subtaskIndex;
    this.count = ctx.operatorState.listState<number>("count");
    const got = this.count.get();
    if (got.length > 0) this.restored = got;
  }
  processElement(_v: number, _ctx: unknown, out: Collector<unknown[]>): void {
    if (this.restored) {
      out.collect(["restored", this.subtask, this.restored]);
      this.restored = null;
    }
    // One running total per subtask, however many items a restore handed it.
    const total = this.count.get().reduce((a, b) => a + b, 0);
    this.count.update([total + 1]);
  }
}

export default (env: StreamEnvironment, args: string[]) => {
  const [outDir] = args;
  if (!outDir) throw new Error("usage: operator-state <output-dir>");
  env
    .fromGenerator({ generate: (i) => i, ratePerSecond: 5_000 })
    .uid("numbers")
    .process(new Counter())
    .uid("counter")
    .sinkTo(fileSink<unknown[]>(outDir))
    .uid("sink");
};
