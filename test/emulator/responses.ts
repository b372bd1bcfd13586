import type { Category } from './types.ts';

/** A Bybit business outcome: HTTP 200 with this code and message in the envelope. */
export interface Ret {
  retCode: number;
  retMsg: string;
}

// Codes and messages as Bybit's V5 error table and real responses word them (docs/v5/error, client issue trackers).
export const RET = {
  ok: { retCode: 0, retMsg: 'OK' },
  params: (detail: string): Ret => ({ retCode: 10001, retMsg: `params error: ${detail}` }),
  timestamp: (requestTime: number | string, serverTime: number, recvWindow: number | string): Ret => ({
    retCode: 10002,
    retMsg:
      'invalid request, please check your server timestamp or recv_window param. ' +
      `req_timestamp[${requestTime}],server_timestamp[${serverTime}],recv_window[${recvWindow}]`,
  }),
  invalidKey: { retCode: 10003, retMsg: 'API key is invalid.' },
  // Bybit echoes the string it expected to be signed; the product must scrub it before logging.
  badSign: (origin: string): Ret => ({ retCode: 10004, retMsg: `error sign! origin_string[${origin}]` }),
  tooManyVisits: { retCode: 10006, retMsg: 'Too many visits!' },
  serverError: { retCode: 10016, retMsg: 'Server error.' },
  notFound: (category: Category): Ret =>
    category === 'spot'
      ? { retCode: 170213, retMsg: 'Order does not exist.' }
      : { retCode: 110001, retMsg: 'Order does not exist' },
  processing: (category: Category | undefined): Ret =>
    category === 'spot'
      ? { retCode: 170212, retMsg: 'Cancel order request processing' }
      : {
          retCode: 110079,
          retMsg: 'The order is processing and can not be operated, please try again later',
        },
} as const;

/** Bybit's response envelope. */
export function envelope(ret: Ret, result: unknown, retExtInfo: unknown, time: number): string {
  return JSON.stringify({ retCode: ret.retCode, retMsg: ret.retMsg, result, retExtInfo, time });
}
