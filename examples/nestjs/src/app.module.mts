// The app: the orders controller, and header-guard's interceptor for every route, so that
// reports name the controller method that handled the request.
import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { HeaderGuardInterceptor } from 'header-guard/nest';
import { OrdersController } from './orders.controller.mjs';

@Module({
  controllers: [OrdersController],
  providers: [{ provide: APP_INTERCEPTOR, useClass: HeaderGuardInterceptor }],
})
export class AppModule {}
