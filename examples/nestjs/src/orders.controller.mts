// The orders API, with the classic NestJS "Cannot set headers after they are sent" bugs, one per
// route. Each answers the client correctly; each makes a late call the guard reports.
import { Controller, Get, Param, Res, UseFilters, UseInterceptors, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Response } from 'express';
import { ApiKeyInterceptor } from './early.interceptor.mjs';
import { ExportFilter } from './export.filter.mjs';

/** The response, through a shared decorator: Nest does not know the handler answers itself. */
const HttpResponse = createParamDecorator((_data: unknown, context: ExecutionContext) => context.switchToHttp().getResponse<Response>());

@Controller('orders')
export class OrdersController {
  // 1. The response injected (here through a shared decorator), answered, and a value returned:
  //    Nest sends the return value too. (With @Res() itself Nest 12 ignores the return value.)
  @Get(':id/summary')
  summary(@Param('id') id: string, @HttpResponse() res: Response) {
    res.json({ id: Number(id), summary: true });
    return { id: Number(id) };
  }

  // 2. @Res({ passthrough: true }) plus res.json(): Nest sends the return value after it.
  @Get(':id')
  findOne(@Param('id') id: string, @Res({ passthrough: true }) res: Response) {
    res.json({ id: Number(id) });
    return { id: Number(id) };
  }

  // 3. An interceptor answers early (401) and hands on: the handler runs, Nest answers again.
  @Get(':id/secret')
  @UseInterceptors(ApiKeyInterceptor)
  secret(@Param('id') id: string) {
    return { id: Number(id), secret: 'xyz' };
  }

  // 4. A CSV stream begins, then a row fails: the exception is thrown after the answer began
  //    (Nest alone says nothing), and the route's filter answers it with a 500 that never arrives.
  @Get('export/csv')
  @UseFilters(ExportFilter)
  async exportCsv(@Res() res: Response) {
    res.type('text/csv');
    res.write('id,total\n');
    for (const id of [1, 2, 3]) res.write(`${id},${await totalOf(id)}\n`);
    res.end();
  }

  // 5. A @Res() handler that answers and then throws, with Nest's default exception handling:
  //    nothing at all without the guard.
  @Get(':id/receipt')
  receipt(@Param('id') id: string, @Res() res: Response) {
    res.json({ id: Number(id), total: 42 });
    audit(id);
  }
}

async function totalOf(id: number): Promise<number> {
  if (id === 2) throw new Error(`no total for order ${id}`);
  return id * 10;
}

function audit(id: string): void {
  throw new Error(`audit log unavailable for order ${id}`);
}
