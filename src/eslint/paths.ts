/**
 * The paths of one function, from ESLint's code path analysis: which nodes of interest run in
 * which segment, in order (recorded while ESLint walks the file), and a data-flow solver over the
 * segment graph (loops included) that the rule runs once the whole file has been read.
 */
import type { Rule } from 'eslint';

/** ESLint's code path and segment objects, as the rule events hand them over. */
type CodePath = Rule.CodePath;
type Segment = Rule.CodePathSegment;

/** One function's (or the program's) code path and the nodes recorded in each of its segments. */
export interface RecordedPath {
  readonly codePath: CodePath;
  /** The function node (or Program) the path belongs to. */
  readonly node: Rule.Node;
  /** The nodes of interest in each segment, in the order they run. */
  readonly events: Map<Segment, Rule.Node[]>;
}

/** Records, while ESLint walks a file, the nodes of interest under the segments they run in. */
export class PathRecorder {
  /** Every code path, in the order they start (an outer function before the callbacks inside it). */
  readonly paths: RecordedPath[] = [];
  private readonly stack: { path: RecordedPath; current: Set<Segment> }[] = [];

  /** onCodePathStart. */
  start(codePath: CodePath, node: Rule.Node): void {
    const path: RecordedPath = { codePath, node, events: new Map() };
    this.paths.push(path);
    this.stack.push({ path, current: new Set() });
  }

  /** onCodePathEnd. */
  end(): void {
    this.stack.pop();
  }

  /** onCodePathSegmentStart (reachable segments only: unreachable code never runs). */
  enter(segment: Segment): void {
    this.stack.at(-1)?.current.add(segment);
  }

  /** onCodePathSegmentEnd. */
  leave(segment: Segment): void {
    this.stack.at(-1)?.current.delete(segment);
  }

  /** The path being walked now. */
  get current(): RecordedPath | undefined {
    return this.stack.at(-1)?.path;
  }

  /** Record a node under every segment running now. */
  add(node: Rule.Node): void {
    const top = this.stack.at(-1);
    if (top === undefined) return;
    for (const segment of top.current) {
      const list = top.path.events.get(segment);
      if (list === undefined) top.path.events.set(segment, [node]);
      else list.push(node);
    }
  }
}

/** A forward data-flow problem over one code path. */
export interface FlowProblem<State> {
  /** The state on entry to the function. */
  readonly entry: State;
  /** The state where paths meet, from the states of the paths already known. */
  join(states: readonly State[]): State;
  equal(a: State, b: State): boolean;
  /** The state after one recorded node. */
  step(state: State, node: Rule.Node): State;
}

/** Solve a data-flow problem: the state at the end of each reachable segment (a fixed point, loops included). */
export function solve<State>(path: RecordedPath, problem: FlowProblem<State>): Map<Segment, State> {
  const out = new Map<Segment, State>();
  const initial = path.codePath.initialSegment;
  const queue: Segment[] = [initial];
  const queued = new Set<Segment>(queue);
  while (queue.length > 0) {
    const segment = queue.shift() as Segment;
    queued.delete(segment);
    let state = stateIn(segment, initial, out, problem);
    for (const node of path.events.get(segment) ?? []) state = problem.step(state, node);
    const before = out.get(segment);
    if (before !== undefined && problem.equal(before, state)) continue;
    out.set(segment, state);
    for (const next of segment.nextSegments) {
      if (!queued.has(next)) queued.add(next), queue.push(next);
    }
  }
  return out;
}

/** The state on entry to a segment: the join of its known predecessors (and of the entry state for the first one). */
export function stateIn<State>(segment: Segment, initial: Segment, out: ReadonlyMap<Segment, State>, problem: FlowProblem<State>): State {
  const states: State[] = segment === initial ? [problem.entry] : [];
  for (const previous of segment.prevSegments) {
    const state = out.get(previous);
    if (state !== undefined) states.push(state);
  }
  return states.length === 1 ? (states[0] as State) : problem.join(states);
}

/** The state where the function returns normally (not by a throw): the join over its returned segments. */
export function stateAtReturn<State>(path: RecordedPath, out: ReadonlyMap<Segment, State>, problem: FlowProblem<State>): State | undefined {
  const states: State[] = [];
  for (const segment of path.codePath.returnedSegments) {
    const state = out.get(segment);
    if (state !== undefined) states.push(state);
  }
  return states.length === 0 ? undefined : problem.join(states);
}
