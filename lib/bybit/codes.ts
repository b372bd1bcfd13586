// Bybit V5 retCodes that change what the client does. Everything not listed is a rejection: no retry.

export const RetCode = {
  ok: 0,
  paramsError: 10001,
  clockSkew: 10002,
  invalidKey: 10003,
  badSignature: 10004,
  permissionDenied: 10005,
  rateLimited: 10006,
  authFailed: 10007,
  ipNotAllowed: 10010,
  serverTimeout: 10000,
  serverError: 10016,
  keyExpired: 33004,
  orderNotExists: 110001,
  orderCompletedOrCancelled: 110008,
  orderAlreadyCancelled: 110010,
  orderProcessing: 110079,
  spotOrderNotExists: 170213,
  spotAlreadyCancelled: 170142,
  spotFilled: 170139,
  spotCancelFinished: 170190,
  spotCancelProcessing: 170212,
  spotTryLater: 170191,
  spotCancelTimeout: 170147,
  spotTooManyRequests: 170222,
  optionTooFast: 30035,
  // Strategy orders (docs/v5/error.mdx, "Strategy").
  strategyTerminated: 60062,
  strategyNotFound: 60065,
  strategyServiceUnavailable: 60071,
  strategyStatusModifyFailed: 60072,
  strategyStopped: 60074,
} as const;

/** The order is no longer open: for a cancel, the goal is already met. */
const ALREADY_GONE = new Set<number>([
  RetCode.orderNotExists,
  RetCode.orderCompletedOrCancelled,
  RetCode.orderAlreadyCancelled,
  RetCode.spotOrderNotExists,
  RetCode.spotAlreadyCancelled,
  RetCode.spotFilled,
  RetCode.spotCancelFinished,
]);

/** Transient on the exchange side: the same request may succeed later. */
const RETRYABLE = new Set<number>([
  RetCode.serverTimeout,
  RetCode.serverError,
  RetCode.rateLimited,
  RetCode.orderProcessing,
  RetCode.spotCancelProcessing,
  RetCode.spotTryLater,
  RetCode.spotCancelTimeout,
  RetCode.spotTooManyRequests,
  RetCode.optionTooFast,
  // "Get conn err / Trading service unavailable": the strategy service, not the request.
  RetCode.strategyServiceUnavailable,
]);

/** The key itself is refused; retrying as is cannot help, re-reading a rotated key might. */
const CREDENTIALS = new Set<number>([
  RetCode.invalidKey,
  RetCode.badSignature,
  RetCode.permissionDenied,
  RetCode.authFailed,
  RetCode.ipNotAllowed,
  RetCode.keyExpired,
]);

export type RetCodeClass = 'ok' | 'gone' | 'retryable' | 'clock' | 'credentials' | 'rejected';

export function classifyRetCode(retCode: number): RetCodeClass {
  if (retCode === RetCode.ok) return 'ok';
  if (ALREADY_GONE.has(retCode)) return 'gone';
  if (retCode === RetCode.clockSkew) return 'clock';
  if (RETRYABLE.has(retCode)) return 'retryable';
  if (CREDENTIALS.has(retCode)) return 'credentials';
  return 'rejected';
}
