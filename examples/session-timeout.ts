/**
 * A keyed process function with timers: user click events; a user's session ends after 30 s of event
 * time without clicks, and an event-time timer then emits the session summary. A processing-time
 * timer would do the same on wall-clock time.
 *
 *   weir run examples/session-timeout.ts --parallelism 2 -- --clicks 20000
 */
import {
  type Collector,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type KeyedRuntimeContext,
  type OnTimerContext,
  type StreamEnvironment,
  type ValueState,
  fileSink,
  watermarks,
} from "weir";
import { parseArgs } from "node:util";

export interface Click {
  user: string;
  ts: number;
}

export interface SessionSummary {
  user: string;
  start: number;
  end: number;
  clicks: number;
}

export const SESSION_GAP = 30_000;

/** Click i: 50 users; each user is active in bursts, with pauses longer than the gap every 40 of its clicks. */
export function click(i: number): Click {
  const user = i % 50;
  const nth = Math.floor(i / 50);
  const burst = Math.floor(nth / 40);
  return { user: `user-${user}`, ts: nth * 1_000 + burst * 60_000 + user * 10 };
}

interface Session {
  start: number;
  last: number;
  clicks: number;
}

export class SessionTimeout implements KeyedProcessFunction<string, Click, SessionSummary> {
  private session!: ValueState<Session>;

  open(ctx: KeyedRuntimeContext): void {
    this.session = ctx.valueState<Session>("session");
  }

  processElement(c: Click, ctx: KeyedProcessContext<string>, out: Collector<SessionSummary>): void {
    let s = this.session.value();
    if (s) ctx.timerService.deleteEventTimeTimer(s.last + SESSION_GAP);
    // The watermark may lag behind the clicks (a fast source): a click past the gap closes the
    // previous session right here, exactly as its timer would have.
    if (s && c.ts >= s.last + SESSION_GAP) {
      out.collect({ user: ctx.getCurrentKey(), start: s.start, end: s.last, clicks: s.clicks });
      s = undefined;
    }
    const next = s ? { start: Math.min(s.start, c.ts), last: Math.max(s.last, c.ts), clicks: s.clicks + 1 } : { start: c.ts, last: c.ts, clicks: 1 };
    this.session.update(next);
    ctx.timerService.registerEventTimeTimer(next.last + SESSION_GAP);
  }

  onTimer(timestamp: number, ctx: OnTimerContext<string>, out: Collector<SessionSummary>): void {
    const s = this.session.value();
    if (!s || s.last + SESSION_GAP !== timestamp) return;
    out.collect({ user: ctx.getCurrentKey(), start: s.start, end: s.last, clicks: s.clicks });
    this.session.clear();
  }
}

export default (env: StreamEnvironment, args: string[]) => {
  const { values } = parseArgs({ args, options: { clicks: { type: "string", default: "20000" }, out: { type: "string" } } });
  env.setJobName("session-timeout");
  const sessions = env
    .fromGenerator({ count: Number(values.clicks), generate: click }, watermarks.boundedOutOfOrder<Click>(1_000).withTimestampAssigner((c) => c.ts))
    .name("Clicks")
    .keyBy((c) => c.user)
    .process(new SessionTimeout())
    .name("Session timeout")
    .uid("session-timeout");
  if (values.out) sessions.sinkTo(fileSink(values.out));
  else sessions.print();
};
