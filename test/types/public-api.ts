// Type tests of the public API, checked by `npm run typecheck` (the first step of `npm test`):
// what must compile, and, behind @ts-expect-error, what must not. Never run.
import express, { type Request, type Response } from 'express';
import {
  ErrorCodes,
  VIOLATION_KINDS,
  headerGuard,
  type CallSite,
  type ErrorCode,
  type HeaderGuardOptions,
  type Violation,
  type ViolationKind,
} from '../../src/index.js';

export function narrowing(v: Violation): void {
  if (v.kind === 'double-send') {
    // A late call always has its site: no `!` needed.
    const file: string = v.offending.file;
    const code: 'ERR_HTTP_HEADERS_SENT' | 'ERR_HEADER_GUARD_DOUBLE_SEND' = v.code;
    void file, code;
  }
  if (v.kind === 'late-status') {
    const requested: number = v.requestedStatus;
    void requested;
  }
  if (v.kind === 'error-after-send') {
    const error: unknown = v.error;
    void error;
  }
  if (v.kind === 'hang') {
    const last: CallSite | undefined = v.lastProgress;
    void last;
    // @ts-expect-error: a hang has no late call, so no `offending`
    void v.offending;
  }
  if (v.kind === 'late-header') {
    // @ts-expect-error: only error-after-send carries the error
    void v.error;
  }
  // @ts-expect-error: on the union, `offending` needs narrowing first
  void v.offending;
  const site: CallSite | undefined = 'offending' in v ? v.offending : undefined;
  void site;
}

export function codesAndKinds(v: Violation): void {
  const code: ErrorCode = v.code;
  const kind: ViolationKind = VIOLATION_KINDS[0];
  const all: readonly ViolationKind[] = VIOLATION_KINDS;
  // @ts-expect-error: codes are a union of literals, not any string
  const wrong: Violation['code'] = 'ERR_SOMETHING_ELSE';
  const invalid: ErrorCode = ErrorCodes.INVALID_OPTION;
  void code, kind, all, wrong, invalid;
}

export function expressTypes(): void {
  const app = express();
  // Annotated parameters give onViolation Express's request and response, with no cast.
  app.use(headerGuard({
    onViolation(violation, req: Request, res: Response) {
      void req.originalUrl, res.locals, violation.kind;
    },
  }));
  // Or the type arguments, once.
  app.use(headerGuard<Request, Response>({ onViolation: (violation, req, res) => void [req.originalUrl, res.locals] }));
  // Inside app.use, TypeScript infers Express's types from where the middleware goes.
  app.use(headerGuard({ onViolation: (violation, req, res) => void [req.originalUrl, res.locals] }));
  // Elsewhere, Node's types by default.
  const guard = headerGuard({
    onViolation(violation, req) {
      // @ts-expect-error: Node's IncomingMessage has no originalUrl
      void req.originalUrl;
    },
  });
  void guard;
  const options: HeaderGuardOptions = { mode: 'log', contain: true };
  // @ts-expect-error: mode is 'log' or 'throw'
  headerGuard({ mode: 'strict' });
  void options;
}
