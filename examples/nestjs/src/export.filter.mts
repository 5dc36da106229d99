// The export route's exception filter: it answers every error with a 500 JSON body, without
// checking whether the CSV stream had already begun.
import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';

@Catch()
export class ExportFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    res.status(500).json({ error: exception instanceof Error ? exception.message : 'export failed' });
  }
}
