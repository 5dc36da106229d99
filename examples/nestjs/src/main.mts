// Start the app: `node --enable-source-maps --import tsx src/main.mts` (from examples/nestjs).
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import headerGuard from 'header-guard';
import { AppModule } from './app.module.mjs';

const app = await NestFactory.create(AppModule);
app.use(headerGuard()); // first, before any other middleware
await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
