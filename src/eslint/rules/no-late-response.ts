/**
 * The rule `no-late-response`: a call that can run after the response was answered on some path
 * of the same function (a second answer, a status or header change, `next()` after an answer),
 * reported with the line and call of the first answer, and a suggestion to return there.
 *
 * ESLint walks the file once; the rule records each function's code path and the calls in each
 * segment (paths.ts), and reads them once the whole file is known (Program:exit): which
 * parameters are responses (responses.ts, plus the functions a response is passed on to), which
 * same-file helpers answer on every path, then the state of each response along every path
 * (late.ts), loops and `.then()` chains included.
 */
import { join as joinPath } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Rule, Scope } from 'eslint';
import type * as ESTree from 'estree';
import { isInnerLink, RESPONSE_CALL_SELECTOR, unwrap } from '../answers.js';
import { eventOf, GUARD_SELECTOR, type Event, type FileModel } from '../events.js';
import { apply, carried, EMPTY, equal, join, type Earlier, type Late, type LateKind, type ResponseState } from '../late.js';
import { functionOf, lookup } from '../locals.js';
import { PathRecorder, solve, stateAtReturn, stateIn, type FlowProblem, type RecordedPath } from '../paths.js';
import { fileFacts, isGetResponse, paramIdentifier, REGISTERING_CALL_SELECTOR, registrationOf, rolesOf, type FunctionNode, type Registration } from '../responses.js';

/**
 * Where the rule's page lives: docs/rules/no-late-response.md of the installed package (it ships
 * its docs/ folder), as a file URL an editor opens. The package has no published home page yet;
 * a file URL names a page that exists wherever the package is.
 */
export const DOCS_URL = pathToFileURL(joinPath(__dirname, '..', '..', '..', 'docs', 'rules', 'no-late-response.md')).href;

/** The message of each kind; `did` says what the earlier call did, `hint` where to return. */
const MESSAGES: Record<LateKind, string> = {
  'double-send': '`{{late}}` on line {{lateLine}} can run after `{{first}}` on line {{firstLine}} {{did}} (double-send).{{hint}}',
  'late-status': '`{{late}}` on line {{lateLine}} can run after `{{first}}` on line {{firstLine}} {{did}}: the client never sees this status (late-status).{{hint}}',
  'late-header': '`{{late}}` on line {{lateLine}} can run after `{{first}}` on line {{firstLine}} {{did}}: the headers are gone (late-header).{{hint}}',
  'write-after-end': '`{{late}}` on line {{lateLine}} can run after `{{first}}` on line {{firstLine}} {{did}}: the data never reaches the client (write-after-end).{{hint}}',
  'next-after-send': '`{{late}}` on line {{lateLine}} can run after `{{first}}` on line {{firstLine}} {{did}}: the next handler gets a request that is already answered (next-after-send).{{hint}}',
};

/** What the earlier call did, in the message. */
function didText(earlier: Earlier, late: Rule.Node): string {
  if (earlier.carriedFrom === 'then') return 'already answered in an earlier .then()';
  if (earlier.carriedFrom === 'item') return 'already answered for an earlier item (the callback runs once per item)';
  if (earlier.node === late) return 'already answered on an earlier pass of the loop';
  return earlier.did === 'passed' ? 'already passed the request on' : earlier.did === 'flushed' ? 'already sent the headers' : 'already answered';
}

/** The function (or Program) a node runs in. */
function ownerOf(node: Rule.Node): Rule.Node {
  let current = node.parent;
  while (current !== null && current !== undefined && current.type !== 'FunctionDeclaration' && current.type !== 'FunctionExpression' && current.type !== 'ArrowFunctionExpression') current = current.parent;
  return current ?? node;
}

/** The statement that is nothing but this call (`res.json(x);`, `await res.json(x);`), if it is one. */
function statementOf(call: Rule.Node): Rule.Node | undefined {
  let current: Rule.Node = call;
  while (current.parent !== null && ['ChainExpression', 'AwaitExpression', 'TSNonNullExpression'].includes(current.parent.type as string)) current = current.parent;
  return current.parent?.type === 'ExpressionStatement' ? current.parent : undefined;
}

/** Whether a function is the callback of an array iteration that runs it once per item (`items.forEach(fn)`). */
function isPerItem(fn: Rule.Node): boolean {
  const call = fn.parent;
  if (call?.type !== 'CallExpression' || call.arguments[0] !== fn) return false;
  const callee = unwrap(call.callee);
  return callee.type === 'MemberExpression' && callee.property.type === 'Identifier' && ['forEach', 'map', 'flatMap', 'filter'].includes(callee.property.name);
}

/** Whether a node lies inside another. */
function contains(outer: Rule.Node | null, inner: Rule.Node): boolean {
  const [start, end] = outer?.range ?? [0, -1];
  const at = inner.range?.[0] ?? -1;
  return at >= start && at < end;
}

/** The earlier call a report names: the first in the source (another call than the late one, unless a loop repeats it). */
function pickEarlier(earlier: ReadonlySet<Earlier>, late: Rule.Node): Earlier {
  const sorted = [...earlier].sort((a, b) => (a.node.range?.[0] ?? 0) - (b.node.range?.[0] ?? 0));
  return sorted.find((candidate) => candidate.node !== late) ?? (sorted[0] as Earlier);
}

/** The function a `.then(fn)` follows in its chain (`.then(g).then(fn)`, `.catch()` links skipped), if written inline. */
function previousThen(fn: Rule.Node): Rule.Node | undefined {
  const call = fn.parent;
  if (call?.type !== 'CallExpression' || call.arguments[0] !== fn) return undefined;
  const callee = unwrap(call.callee);
  if (callee.type !== 'MemberExpression' || callee.property.type !== 'Identifier' || !['then', 'finally'].includes(callee.property.name)) return undefined;
  let object = unwrap(callee.object);
  while (object.type === 'CallExpression') {
    const link = unwrap(object.callee);
    if (link.type !== 'MemberExpression' || link.property.type !== 'Identifier') return undefined;
    if (link.property.name === 'then') {
      const handler = object.arguments[0];
      return handler?.type === 'ArrowFunctionExpression' || handler?.type === 'FunctionExpression' ? (handler as Rule.Node) : undefined;
    }
    if (link.property.name !== 'catch') return undefined;
    object = unwrap(link.object);
  }
  return undefined;
}

/** The file model while the rule builds it: helpers still being found, and the functions a response is passed to. */
type Model = Omit<FileModel, 'answeringHelpers'> & {
  readonly answeringHelpers: Map<FunctionNode, Set<number>>;
  /** Same-file functions a response is passed to → the positions and parameters it arrives as. */
  readonly candidates: Map<FunctionNode, Map<number, Scope.Variable>>;
};

const rule: Rule.RuleModule = {
  meta: {
    type: 'problem',
    docs: {
      description: 'Disallow a response call that can run after the response was already answered (a second answer, a late status or header, next() after an answer)',
      recommended: true,
      url: DOCS_URL,
    },
    hasSuggestions: true,
    schema: [],
    messages: { ...MESSAGES, returnThere: 'Return at line {{line}}: `return {{first}}`.' },
  },
  create(context) {
    const sourceCode = context.sourceCode;
    const recorder = new PathRecorder();
    /** Functions registered by name: `app.get('/', handler)`. */
    const registered = new Map<FunctionNode, Registration>();
    /** `const response = host.switchToHttp().getResponse()`. */
    const gotResponses: ESTree.VariableDeclarator[] = [];

    /** `app.get('/', handler)`: the same file's `handler` is a handler, whatever its parameters are called. */
    function noteRegistered(call: ESTree.CallExpression): void {
      call.arguments.forEach((arg, index) => {
        if (arg.type !== 'Identifier') return;
        const how = registrationOf(call, index);
        const fn = how === undefined ? undefined : functionOf(lookup(sourceCode.getScope(call), arg.name));
        if (fn !== undefined && how !== undefined) registered.set(fn, how);
      });
    }

    return {
      onCodePathStart: (codePath, node) => recorder.start(codePath, node),
      onCodePathEnd: () => recorder.end(),
      onCodePathSegmentStart: (segment) => recorder.enter(segment),
      onCodePathSegmentEnd: (segment) => recorder.leave(segment),
      // Selectors keep ESLint from calling the rule for the many nodes that cannot matter.
      'CallExpression[callee.type="Identifier"]:exit'(node: ESTree.CallExpression & Rule.NodeParentExtension) {
        recorder.add(node);
        if ((node.callee as ESTree.Identifier).name === 'createServer') noteRegistered(node);
      },
      [`${RESPONSE_CALL_SELECTOR}:exit`](node: ESTree.CallExpression & Rule.NodeParentExtension) {
        if (!isInnerLink(node)) recorder.add(node);
      },
      [REGISTERING_CALL_SELECTOR](node: ESTree.CallExpression & Rule.NodeParentExtension) {
        if (node.arguments.some((arg) => arg.type === 'Identifier')) noteRegistered(node);
      },
      [GUARD_SELECTOR](node: ESTree.MemberExpression & Rule.NodeParentExtension) {
        if (unwrap(node.object).type === 'Identifier') recorder.add(node);
      },
      'ReturnStatement[argument]'(node: ESTree.ReturnStatement & Rule.NodeParentExtension) {
        const owner = recorder.current?.node;
        if (owner !== undefined && 'async' in owner && owner.async) recorder.add(node);
      },
      CatchClause(node: ESTree.CatchClause & Rule.NodeParentExtension) {
        recorder.add(node);
      },
      'VariableDeclarator[init.type=/^(CallExpression|AwaitExpression|TSAsExpression)$/]'(node: ESTree.VariableDeclarator & Rule.NodeParentExtension) {
        if (isGetResponse(node.init)) gotResponses.push(node);
      },
      'Program:exit'(program: ESTree.Program) {
        const model = buildModel(program);
        if (model.responses.size === 0 && model.nexts.size === 0) return;
        findHelpers(model);
        report(model);
      },
    };

    /** A parameter's variable. */
    function variableOf(fn: FunctionNode, id: ESTree.Identifier): Scope.Variable | undefined {
      return sourceCode.getDeclaredVariables(fn).find((variable) => variable.identifiers.includes(id));
    }

    /** The file's responses, nexts and helper candidates. */
    function buildModel(program: ESTree.Program): Model {
      const { responseVars, nextVars, fastifyReplies } = readRoles(fileFacts(program, context.filename));
      for (const declarator of gotResponses) for (const variable of sourceCode.getDeclaredVariables(declarator)) responseVars.add(variable);
      const candidates = passOn(responseVars);
      const responses = new Map<ESTree.Node, Scope.Variable>();
      for (const variable of responseVars) for (const reference of variable.references) responses.set(reference.identifier as ESTree.Node, variable);
      const nexts = new Map<ESTree.Node, Scope.Variable>();
      for (const [variable, response] of nextVars) for (const reference of variable.references) nexts.set(reference.identifier as ESTree.Node, response);
      return { responses, nexts, helperCallees: calleesOf(candidates), answeringHelpers: new Map(), fastifyReplies, candidates };
    }

    /** The responses and nexts of every function, from its parameters' roles; the Fastify handlers whose return value is sent. */
    function readRoles(file: ReturnType<typeof fileFacts>) {
      const responseVars = new Set<Scope.Variable>();
      const nextVars = new Map<Scope.Variable, Scope.Variable>();
      const fastifyReplies = new Map<FunctionNode, Scope.Variable>();
      for (const { node } of recorder.paths) {
        if (!isFunction(node)) continue;
        const roles = rolesOf(node, file, registered.get(node));
        if (roles === undefined) continue;
        for (const id of roles.responses) {
          const variable = variableOf(node, id);
          if (variable === undefined) continue;
          responseVars.add(variable);
          if (roles.sendsReturn && node.async && !fastifyReplies.has(node)) fastifyReplies.set(node, variable);
        }
        // next() answers for the response of the same handler: `next(); res.json()` is late too.
        const response = roles.responses[0] === undefined ? undefined : variableOf(node, roles.responses[0]);
        for (const id of roles.nexts) {
          const variable = variableOf(node, id);
          if (variable !== undefined && response !== undefined) nextVars.set(variable, response);
        }
      }
      return { responseVars, nextVars, fastifyReplies };
    }

    /** A response passed on to a function of the same file is a response there too: adds those parameters, returns the functions and positions. */
    function passOn(responseVars: Set<Scope.Variable>): Map<FunctionNode, Map<number, Scope.Variable>> {
      const candidates = new Map<FunctionNode, Map<number, Scope.Variable>>();
      const queue = [...responseVars];
      for (let variable = queue.pop(); variable !== undefined; variable = queue.pop()) {
        for (const reference of variable.references) {
          const id = reference.identifier as Rule.Node;
          const call = id.parent;
          if (call?.type !== 'CallExpression' || call.callee === id) continue;
          const callee = unwrap(call.callee);
          const fn = callee.type === 'Identifier' ? functionOf(lookup(reference.from, callee.name)) : undefined;
          const index = call.arguments.indexOf(id as ESTree.Expression);
          const param = fn?.params[index];
          const paramId = param === undefined ? undefined : paramIdentifier(param);
          const paramVar = fn === undefined || paramId === undefined ? undefined : variableOf(fn, paramId);
          if (fn === undefined || paramVar === undefined) continue;
          const positions = candidates.get(fn) ?? new Map<number, Scope.Variable>();
          candidates.set(fn, positions.set(index, paramVar));
          if (!responseVars.has(paramVar)) responseVars.add(paramVar), queue.push(paramVar);
        }
      }
      return candidates;
    }

    /** Every name that calls one of these functions → the function (`sendError` in `sendError(res, 400)`). */
    function calleesOf(functions: ReadonlyMap<FunctionNode, unknown>): Map<ESTree.Node, FunctionNode> {
      const callees = new Map<ESTree.Node, FunctionNode>();
      for (const fn of functions.keys()) {
        const parent = (fn as Rule.Node).parent;
        const holders = fn.type === 'FunctionDeclaration' ? sourceCode.getDeclaredVariables(fn) : parent?.type === 'VariableDeclarator' ? sourceCode.getDeclaredVariables(parent) : [];
        for (const holder of holders) {
          if (holder.defs[0]?.type !== 'FunctionName' && holder.defs[0]?.type !== 'Variable') continue;
          for (const reference of holder.references) callees.set(reference.identifier as ESTree.Node, fn);
        }
      }
      return callees;
    }

    /** The helpers that answer a response parameter on every path, found round by round (a helper may call another). */
    function findHelpers(model: Model): void {
      const pathOf = new Map<Rule.Node, RecordedPath>(recorder.paths.map((path) => [path.node, path]));
      for (let round = 0, changed = true; changed && round < 5; round++) {
        changed = false;
        for (const [fn, positions] of model.candidates) {
          const path = pathOf.get(fn as Rule.Node);
          if (path === undefined) continue;
          const problem: FlowProblem<ReadonlySet<Scope.Variable>> = {
            entry: new Set(),
            join: (states) => new Set([...(states[0] ?? [])].filter((variable) => states.every((state) => state.has(variable)))),
            equal: (a, b) => a.size === b.size && [...a].every((variable) => b.has(variable)),
            step: (state, node) => {
              const event = eventOf(node, model, path.node);
              if (event === undefined || !answers(event)) return state;
              return new Set([...state, event.variable]);
            },
          };
          const atReturn = stateAtReturn(path, solve(path, problem), problem);
          for (const [index, variable] of positions) {
            if (atReturn?.has(variable) !== true) continue;
            const known = model.answeringHelpers.get(fn) ?? new Set<number>();
            if (!known.has(index)) known.add(index), model.answeringHelpers.set(fn, known), (changed = true);
          }
        }
      }
    }

    /** Every late call of every path, reported once per first answer (with, where it is the fix, a suggestion to return there). */
    function report(model: FileModel): void {
      const exits = new Map<Rule.Node, ResponseState>();
      const found = new Map<Rule.Node, { late: Late; path: RecordedPath }>();
      for (const path of recorder.paths) {
        if (!isFunction(path.node)) continue;
        const before = previousThen(path.node);
        const entryFrom = before === undefined ? undefined : exits.get(before);
        const exit = followPath(path, model, entryFrom === undefined ? EMPTY : carried(entryFrom, 'then'), (node, late) => found.has(node) || found.set(node, { late, path }));
        if (exit !== undefined) exits.set(path.node, exit);
      }
      // One report per first answer: the first late call after it (one return fixes them all).
      const sorted = [...found].sort(([a], [b]) => (a.range?.[0] ?? 0) - (b.range?.[0] ?? 0));
      const named = new Set<Rule.Node>();
      for (const [node, { late, path }] of sorted) {
        const earlier = pickEarlier(late.earlier, node);
        if (named.has(earlier.node)) continue;
        named.add(earlier.node);
        reportOne(node, late, earlier, path);
      }
    }

    /** Follow one function's paths from its entry state: hand each late call to `onLate`, return the state where it returns. */
    function followPath(path: RecordedPath, model: FileModel, start: ResponseState, onLate: (node: Rule.Node, late: Late) => void): ResponseState | undefined {
      if (path.events.size === 0 && start.size === 0) return undefined;
      // Read each recorded node once; a path where nothing touches a response needs no solving.
      const events = new Map<Rule.Node, Event>();
      for (const nodes of path.events.values()) {
        for (const node of nodes) {
          const event = events.has(node) ? undefined : eventOf(node, model, path.node);
          if (event !== undefined) events.set(node, event);
        }
      }
      if (events.size === 0 && start.size === 0) return undefined;
      const step = (state: ResponseState, node: Rule.Node) => {
        const event = events.get(node);
        return event === undefined ? state : apply(state, event, node);
      };
      let problem: FlowProblem<ResponseState> = { entry: start, join, equal, step };
      let out = solve(path, problem);
      let atReturn = stateAtReturn(path, out, problem);
      // A forEach/map callback runs once per item: what one run answered, the next run finds answered.
      if (atReturn !== undefined && atReturn.size > 0 && isPerItem(path.node)) {
        problem = { ...problem, entry: join([start, carried(atReturn, 'item')]) };
        out = solve(path, problem);
        atReturn = stateAtReturn(path, out, problem);
      }
      // One more walk from each segment's settled entry state, now listening for late calls.
      for (const segment of out.keys()) {
        let state = stateIn(segment, path.codePath.initialSegment, out, problem);
        for (const node of path.events.get(segment) ?? []) {
          const event = events.get(node);
          if (event !== undefined) state = apply(state, event, node, (late) => onLate(node, late));
        }
      }
      return atReturn;
    }

    /** Report one late call. */
    function reportOne(node: Rule.Node, late: Late, earlier: Earlier, path: RecordedPath): void {
      const statement = earlier.did === 'flushed' || earlier.carriedFrom !== undefined ? undefined : statementOf(earlier.node);
      // Return is the fix when the first answer sits in a branch the late call is outside of (or a loop repeats it); when both are in one block, a return would only hide the late call.
      const fixable = statement !== undefined && ownerOf(statement) === path.node && !(path.node as FunctionNode).generator && (earlier.node === node || !contains(statement.parent, node));
      const firstLine = earlier.node.loc?.start.line ?? 0;
      context.report({
        node,
        messageId: late.kind,
        data: { late: late.text, lateLine: String(node.loc?.start.line ?? 0), first: earlier.text, firstLine: String(firstLine), did: didText(earlier, node), hint: fixable ? ` Return at line ${firstLine}.` : '' },
        suggest: fixable ? [{ messageId: 'returnThere', data: { line: String(firstLine), first: earlier.text }, fix: (fixer) => fixer.insertTextBefore(statement, 'return ') }] : [],
      });
    }
  },
};

/** Whether a code path's node is a function (not the program, a class field initializer or a static block). */
function isFunction(node: Rule.Node): node is Rule.Node & FunctionNode {
  return node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression' || node.type === 'ArrowFunctionExpression';
}

/** Whether an event answers its response (for helpers: on this path). */
function answers(event: Event): event is Extract<Event, { variable: Scope.Variable }> {
  return event.type === 'helper' || (event.type === 'call' && (event.facts.answers || event.facts.ends));
}

export default rule;
