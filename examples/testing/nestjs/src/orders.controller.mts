// The orders API. One handler hides a real bug: GET /orders/:id/receipt answers through @Res(),
// then throws (the audit write failed), and the app's exception filter answers that error too.
import { Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import type { Response } from 'express';

@Controller('orders')
export class OrdersController {
  @Get(':id')
  find(@Param('id') id: string) {
    return { id: Number(id) };
  }

  @Post()
  @HttpCode(201)
  create() {
    return { created: true };
  }

  @Get(':id/receipt')
  receipt(@Param('id') id: string, @Res() res: Response) {
    res.json({ id: Number(id), total: 42 });
    audit(id); // throws after the answer went out
  }
}

function audit(id: string): void {
  throw new Error(`audit log unavailable for order ${id}`);
}
