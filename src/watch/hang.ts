/**
 * Hang detection (the hangTimeoutMs option): a response that made no progress (no flush, no
 * write) for the timeout and has not finished is reported once, as `hang`, naming where it last
 * wrote. One sweep timer per guard; watched responses form a linked list through their states.
 */
import { holderFrames } from '../report/callsite.js';
import { flag } from '../report/flag.js';
import { headersSent, now, outermost, record, recordCall, type AnyFunction, type ResponseState } from '../state.js';

/** A flush or a write: the response made progress, so its hang clock starts over. */
export function progress(state: ResponseState, fn: AnyFunction, method: string): void {
  state.lastProgress = state.depth > 0 && state.claim !== undefined ? state.claim : record(state, outermost(state, fn), method);
  state.lastProgressAt = now();
}

/**
 * Responses watched for hangs, per guard, and the one timer that sweeps them. The watched
 * responses form a doubly linked list through their states: joining and leaving it are a few
 * field writes, where a timer and listeners per response, or even a Set (which hashes each
 * state), would cost every request. Responses leave at the real end(), or at the sweep once
 * their client is gone.
 */
export class HangWatch {
  /** The most recently watched response; each state links to its neighbours. */
  private head: ResponseState | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly ms: number) {}

  /** Start watching a response (once). */
  watch(state: ResponseState): void {
    if (state.watched) return;
    state.lastProgressAt = now();
    state.watched = true;
    state.watch = this;
    state.watchNext = this.head;
    if (this.head !== undefined) this.head.watchPrevious = state;
    this.head = state;
    if (this.timer === undefined) {
      // Sweep four times per timeout (between 10 ms and 1 s): a hang is reported at most a
      // quarter of the timeout late.
      this.timer = setInterval(() => this.sweep(), Math.min(1000, Math.max(10, this.ms / 4)));
      this.timer.unref();
    }
  }

  /** Stop watching a response (it ended, hung or lost its client). */
  unwatch(state: ResponseState): void {
    if (!state.watched || state.watch !== this) return;
    state.watched = false;
    state.watch = undefined;
    const previous = state.watchPrevious;
    const next = state.watchNext;
    if (previous === undefined) this.head = next;
    else previous.watchNext = next;
    if (next !== undefined) next.watchPrevious = previous;
    state.watchPrevious = undefined;
    state.watchNext = undefined;
  }

  private sweep(): void {
    const at = now();
    for (let state = this.head; state !== undefined;) {
      const next = state.watchNext;
      const res = state.res;
      if (res.writableFinished || res.destroyed || state.req.socket?.destroyed === true) {
        this.unwatch(state);
      } else if (at - state.lastProgressAt >= this.ms) {
        this.unwatch(state);
        reportHang(state, this.ms);
      }
      state = next;
    }
    if (this.head === undefined && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/** No progress for hangTimeoutMs and not finished: report it once, with where it last wrote. */
function reportHang(state: ResponseState, ms: number): void {
  const last = state.lastProgress;
  const frames = last === undefined ? [] : holderFrames(last.stack, state.guard.frames);
  const sent = headersSent(state.res) ? 'its headers were sent' : 'not even its headers were sent';
  flag(state, 'hang', last === undefined ? 'no response call' : recordCall(last), undefined, {
    headline: `the response has made no progress for ${ms} ms and has not ended (${sent}): nothing calls res.end() or sends it.`,
    offendingFrames: frames,
    offendingLabel: last === undefined
      ? '  nothing was written since header-guard saw the response'
      : `  last progress: ${recordCall(last)}, ${Math.round(now() - last.at)} ms ago:${last.stack === undefined ? ' (site not captured)' : ''}`,
  });
}
