/**
 * Test job exercising every way streams connect: union, broadcast, rebalance, side outputs of a
 * process function, and a keyed co-process function joining two keyed streams with shared state.
 * Bounded and deterministic, so its output must be the same at any parallelism. Args: `<output-dir>`.
 */
import { type Collector, type KeyedProcessContext, type KeyedRuntimeContext, type ValueState, OutputTag, type StreamEnvironment, fileSink } from "weir";

interface Order {
  id: number;
  customer: number;
  amount: number;
}

export default (env: StreamEnvironment, args: string[]) => {
  const out = args[0];
  if (!out) throw new Error("usage: topology <output-dir>");
  const big = new OutputTag<Order>("big-orders");
  const orders = env
    .fromSequence(0, 2_999)
    .map((i): Order => ({ id: i, customer: i % 37, amount: (i * 7) % 101 }))
    .union(env.fromSequence(3_000, 3_999).map((i): Order => ({ id: i, customer: i % 37, amount: 1 })).rebalance());
  const routed = orders.process<Order>({
    processElement(o, ctx, collector) {
      if (o.amount > 90) ctx.output(big, o);
      else collector.collect(o);
    },
  });
  const customers = env.fromSequence(0, 36).map((c) => ({ customer: c, discount: c % 5 }));
  const rates = env.fromSequence(1, 1).map(() => 2).broadcast();
  routed
    .keyBy((o) => o.customer)
    .connect(customers.keyBy((c) => c.customer))
    .keyBy((o) => o.customer, (c) => c.customer)
    .process(new TotalPerCustomer())
    .sinkTo(fileSink(`${out}/totals`));
  routed.getSideOutput(big).connect(rates).process<{ id: number; doubled: number }>({
    processElement1(o, _ctx, collector) {
      collector.collect({ id: o.id, doubled: o.amount * 2 });
    },
    processElement2() {},
  }).sinkTo(fileSink(`${out}/big`));
};

/** Sums order amounts per customer; emits the total (minus the customer's discount) at the end of input. */
class TotalPerCustomer {
  private total!: ValueState<number>;
  private discount!: ValueState<number>;
  open(ctx: KeyedRuntimeContext): void {
    this.total = ctx.valueState("total", 0);
    this.discount = ctx.valueState("discount", 0);
  }
  processElement1(o: Order, ctx: KeyedProcessContext<number>): void {
    this.total.update(this.total.value()! + o.amount);
    ctx.timerService.registerEventTimeTimer(Number.MAX_SAFE_INTEGER);
  }
  processElement2(c: { discount: number }, ctx: KeyedProcessContext<number>): void {
    this.discount.update(c.discount);
    ctx.timerService.registerEventTimeTimer(Number.MAX_SAFE_INTEGER);
  }
  onTimer(_ts: number, ctx: KeyedProcessContext<number>, out: Collector<{ customer: number; total: number }>): void {
    out.collect({ customer: ctx.getCurrentKey(), total: this.total.value()! - this.discount.value()! });
  }
}
