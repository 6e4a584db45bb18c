import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { hello } from '@fleet/contracts';
import { helper } from './helper.js';
@Injectable() class A { v = 1; }
@Injectable() class B { constructor(readonly a: A) {} }
@Module({ providers: [A, B] }) class M {}
const app = await NestFactory.createApplicationContext(M, { logger: false });
console.log(hello(), helper(), app.get(B).a.v);
await app.close();
