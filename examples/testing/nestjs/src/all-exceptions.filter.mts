// The app's exception filter: it answers every error with a 500, without checking whether the
// handler had answered already.
import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    res.status(500).json({ error: exception instanceof Error ? exception.message : 'internal error' });
  }
}
