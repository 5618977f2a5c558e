/**
 * Event-time windowed aggregation over out-of-order events: sensor readings arrive up to 3 s late
 * (shuffled within a bound); sliding windows of 10 s every 2 s compute the average per sensor. Readings
 * later than that land in a side output instead of being lost silently.
 *
 *   weir run examples/windowed-aggregation.ts --parallelism 2 -- --readings 50000
 */
import { type StreamEnvironment, OutputTag, avg, fileSink, sliding, watermarks } from "weir";
import { parseArgs } from "node:util";

export interface Reading {
  sensor: string;
  ts: number;
  value: number;
}

/** Reading i: 8 sensors, a reading per 100 ms of event time, shuffled by up to 3 s; every 997th is 20 s late. */
export function reading(i: number): Reading {
  const jitter = ((i * 7919) % 31) * 100;
  const veryLate = i % 997 === 996 ? 20_000 : 0;
  return { sensor: `sensor-${i % 8}`, ts: Math.max(0, i * 100 - jitter - veryLate), value: ((i * 37) % 1000) / 10 };
}

export default (env: StreamEnvironment, args: string[]) => {
  const { values } = parseArgs({ args, options: { readings: { type: "string", default: "50000" }, out: { type: "string" } } });
  const n = Number(values.readings);
  env.setJobName("windowed-aggregation");
  const late = new OutputTag<Reading>("late-readings");
  const averages = env
    .fromGenerator({ count: n, generate: reading }, watermarks.boundedOutOfOrder<Reading>(3_000).withTimestampAssigner((r) => r.ts))
    .name("Sensor readings")
    .keyBy((r) => r.sensor)
    .window(sliding(10_000, 2_000))
    .sideOutputLateData(late)
    .aggregate(avg<Reading>((r) => r.value), {
      process(sensor, ctx, results, out) {
        for (const mean of results) out.collect({ sensor, start: ctx.window.start, end: ctx.window.end, avg: Math.round(mean * 100) / 100 });
      },
    })
    .name("Average per sensor")
    .uid("sensor-averages");
  const lateReadings = averages.getSideOutput(late).map((r) => ({ late: r }));
  if (values.out) {
    averages.sinkTo(fileSink(`${values.out}/averages`));
    lateReadings.sinkTo(fileSink(`${values.out}/late`));
  } else {
    averages.print("avg");
    lateReadings.print("late");
  }
};
