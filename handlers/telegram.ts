// Telegram commands (`POST /telegram`, the webhook Telegram posts updates to, checked against its secret
// token), and the jobs this function hands itself asynchronously to answer them: /status, /kill, /reset,
// /drill, /disarm, each that changes something confirmed with a button.

import middy from '@middy/core';
import { route } from '../lib/lambda/app.ts';
import { invocationLog } from '../lib/lambda/middleware.ts';
import { telegramRoutes } from '../lib/lambda/telegram-webhook.ts';

export const handler = middy(route(telegramRoutes)).use(invocationLog());
