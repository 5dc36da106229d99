/**
 * One guard: what one `headerGuard()` call (or the preload) was given and what it learns. Its
 * options after validation, where its reports go, how deep it captures stacks, which routes had
 * violations (adaptive capture), and its hang watch. Responses point at their guards
 * (state.ts); the wrappers read these settings on every call, so they are plain fields.
 */
import type { IncomingMessage } from 'node:http';
import type { FrameOptions } from './report/callsite.js';
import { requestFacts } from './report/build.js';
import { Reporter } from './report/deliver.js';
import type { ResolvedOptions } from './options.js';
import { HangWatch } from './watch/hang.js';

/**
 * Frames captured beyond the `frames` the report shows, for every capture (the offending call and
 * the earlier events: first send, end). A per-response wrapper between the user's call and the
 * guarded method stands in front of the user's frame: compression's `res.end` adds two or three,
 * Next.js's API helpers (`res.json()` -> sendJson -> sendData -> its setHeader and compression
 * wrappers) about twelve, and a frame cut off is a site the report cannot name. The earlier events
 * are captured on every request in development (capture 'always'), where the deeper capture costs
 * a few µs a request (docs/bundlers.md has the measurement); production's adaptive capture takes
 * none on a route until it has had a violation.
 */
const EXTRA_FRAMES = 15;

/** Most routes adaptive capture remembers as having had a violation; the oldest is forgotten first. */
const MAX_HOT_ROUTES = 1000;

/** The key adaptive capture remembers: method and matched route, or the path when none matched (as stats() counts them). */
export function routeKey(req: IncomingMessage): string {
  const facts = requestFacts(req, false);
  return `${facts.method} ${facts.route ?? facts.path}`;
}

/** One guard (one `headerGuard()` call, or the preload): its options and what it learns (internal). */
export class Guard {
  readonly reporter: Reporter;
  /** Routes that had a violation: adaptive capture records their sites from then on. */
  readonly hotRoutes = new Set<string>();
  /** Which frames reports show. */
  readonly frames: FrameOptions;
  /** How many frames the capture of an offending call takes. */
  readonly stackLimit: number;
  /** How many frames the capture of an earlier event (send, flush, end, write) takes. */
  readonly recordLimit: number;
  /** Hang detection, when hangTimeoutMs is on. */
  readonly hangWatch: HangWatch | undefined;

  constructor(readonly options: ResolvedOptions) {
    this.reporter = new Reporter(options);
    this.frames = { max: options.frames, ignore: options.ignore };
    this.stackLimit = options.frames + EXTRA_FRAMES;
    this.recordLimit = options.frames + EXTRA_FRAMES;
    this.hangWatch = options.hangTimeoutMs > 0 ? new HangWatch(options.hangTimeoutMs) : undefined;
  }

  /** Whether this guard captures the earlier events of a response to this request (the capture option). */
  captures(req: IncomingMessage): boolean {
    switch (this.options.capture) {
      case 'always':
        return true;
      case 'off':
        return false;
      case 'adaptive':
        return this.hotRoutes.size > 0 && this.hotRoutes.has(routeKey(req));
    }
  }

  /** Remember that a route had a violation (adaptive capture). */
  markHot(key: string): void {
    if (this.options.capture !== 'adaptive' || this.hotRoutes.has(key)) return;
    this.hotRoutes.add(key);
    if (this.hotRoutes.size > MAX_HOT_ROUTES) this.hotRoutes.delete(this.hotRoutes.values().next().value as string);
  }
}
