/**
 * `header-guard/nest`: NestJS (Express platform) reports that name the controller method. A
 * global interceptor that, for each HTTP request a guard watches (`app.use(headerGuard())` or
 * the preload):
 * - adds to the response's reports "handled by OrdersController.findOne
 *   (src/orders.controller.ts:21)", and, when the late call has no frame of the app's own
 *   (Nest answering with the handler's return value from its own code), what Nest did;
 * - reports an exception thrown after the response was answered (a `@Res()` handler that
 *   answers and then throws) as `error-after-send`, which Nest's exception handling would
 *   otherwise keep silent; the error then goes on to Nest's exception filters unchanged (throw
 *   mode: the HeaderGuardError, whose `cause` it is, goes on in its place).
 *
 * It imports nothing from Nest (Nest 12 is ESM-only; this entry is CommonJS): the types below
 * are the parts of Nest's ExecutionContext and CallHandler it uses, and rxjs, which every Nest
 * app has, gives the operators. An Express-only install never loads this file.
 */
import type { ServerResponse } from 'node:http';
import { catchError, tap, throwError, type Observable } from 'rxjs';
import { annotate, reportErrorAfterSend } from '../annotate.js';
import { headersSent } from '../state.js';
import { locateFunction } from './nest-locate.js';

/** The part of Nest's ExecutionContext the interceptor reads. @public */
export interface NestExecutionContextLike {
  getType(): string;
  getClass(): Function;
  getHandler(): Function;
  switchToHttp(): { getResponse<T = unknown>(): T };
}

/** The part of Nest's CallHandler the interceptor calls. @public */
export interface NestCallHandlerLike {
  handle(): Observable<unknown>;
}

/** What the interceptor saw of one request, for its report lines. */
interface Seen {
  /** The handler's value reached Nest after the response had been answered: Nest then sends it. */
  valueAfterAnswer: boolean;
}

/** `OrdersController.findOne`. */
function handlerName(controller: Function, handler: Function): string {
  return `${controller.name || '(anonymous controller)'}.${handler.name || '(anonymous handler)'}`;
}

/**
 * Reports of NestJS apps that name the controller method (see the header comment). Use it as a
 * global interceptor, first, so that it sees what every other interceptor does:
 *
 * ```ts
 * app.use(headerGuard());
 * app.useGlobalInterceptors(new HeaderGuardInterceptor());
 * // or, in a module: { provide: APP_INTERCEPTOR, useClass: HeaderGuardInterceptor }
 * ```
 *
 * Without a guard on the response it does nothing but pass the request on.
 * @public
 */
export class HeaderGuardInterceptor {
  /** Nest's NestInterceptor method. */
  intercept(context: NestExecutionContextLike, next: NestCallHandlerLike): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const res = context.switchToHttp().getResponse<ServerResponse>();
    const controller = context.getClass();
    const handler = context.getHandler();
    const seen: Seen = { valueAfterAnswer: false };
    const name = handlerName(controller, handler);
    const guarded = annotate(res, ({ lateCallHasUserFrame }) => {
      const where = locateFunction(handler);
      const lines = [`  handled by ${name}${where === undefined ? '' : ` (${where})`}`];
      if (!lateCallHasUserFrame && seen.valueAfterAnswer) {
        lines.push(`  Nest sent ${name}'s return value after the response had been answered (through @Res(), an interceptor or a guard): return nothing from a handler that answers itself, or let Nest answer`);
      }
      return lines;
    });
    if (!guarded) return next.handle();
    const rethrow = (error: unknown): Observable<never> => {
      const replaced = reportErrorAfterSend(res, error, `an exception from ${name}, caught by Nest`, rethrow);
      return throwError(() => replaced ?? error);
    };
    return next.handle().pipe(
      tap(() => {
        if (headersSent(res)) seen.valueAfterAnswer = true;
      }),
      catchError(rethrow),
    );
  }
}

export default HeaderGuardInterceptor;
