import { ApiException } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';

/** Stable `ApplicationFailure` types raised by the Kubernetes activities. */
export const kubeFailureTypes = [
  'KubernetesForbidden',
  'KubernetesNotFound',
  'KubernetesInvalid',
  'KubernetesConflict',
  'KubernetesUnavailable',
  'UnresolvedTarget',
  'EmptyScope',
  'TargetReplaced',
] as const;
export type KubeFailureType = (typeof kubeFailureTypes)[number];

/** The parts of a Kubernetes `Status` body that decisions are based on; its message text never is. */
const statusSchema = z.object({
  code: z.number().int().optional(),
  reason: z.string().optional(),
  details: z
    .object({
      retryAfterSeconds: z.number().int().optional(),
      causes: z.array(z.object({ reason: z.string().optional() })).optional(),
    })
    .optional(),
});

/** Facts of an API error: HTTP status, `Status` reason and causes, and the `Retry-After` delay. */
export interface KubeErrorInfo {
  /** HTTP status, or 0 when no response arrived (connection refused, reset, timed out). */
  statusCode: number;
  /** `Status.reason`, for example `AlreadyExists`, `Conflict`, `TooManyRequests`. */
  reason: string;
  /** `Status.details.causes[].reason`, for example `DisruptionBudget` on a refused eviction. */
  causeReasons: string[];
  retryAfterSec: number | undefined;
}

/** Reads status, reason and Retry-After from an error thrown by `@kubernetes/client-node`. */
export function kubeErrorInfo(error: unknown): KubeErrorInfo {
  if (!(error instanceof ApiException)) {
    return { statusCode: 0, reason: '', causeReasons: [], retryAfterSec: undefined };
  }
  const status = parseStatus(error.body);
  const header = headerValue(error.headers, 'retry-after');
  const headerSec = header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
  return {
    statusCode: error.code,
    reason: status?.reason ?? '',
    causeReasons: (status?.details?.causes ?? []).flatMap((cause) => (cause.reason ? [cause.reason] : [])),
    retryAfterSec: headerSec ?? status?.details?.retryAfterSeconds,
  };
}

function parseStatus(body: unknown): z.infer<typeof statusSchema> | undefined {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const parsed = statusSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

function headerValue(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

/**
 * True for errors that came from the API server or the network: an `ApiException`, or a failed fetch whose
 * cause carries a system error code (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET) or a timeout.
 */
export function isApiOrNetworkError(error: unknown): boolean {
  if (error instanceof ApiException) return true;
  // Checked by shape, not `instanceof Error`: fetch errors may come from another realm (a VM context under test).
  if (error === null || typeof error !== 'object') return false;
  const name = Reflect.get(error, 'name');
  if (name === 'TimeoutError' || name === 'AbortError') return true;
  const cause: unknown = Reflect.get(error, 'cause');
  return cause !== null && typeof cause === 'object' && typeof Reflect.get(cause, 'code') === 'string';
}

export function isStatus(error: unknown, statusCode: number): boolean {
  return kubeErrorInfo(error).statusCode === statusCode;
}

/** True for responses worth retrying: no response, 429 (throttled) and 5xx. */
export function isRetryable(info: KubeErrorInfo): boolean {
  return info.statusCode === 0 || info.statusCode === 429 || info.statusCode >= 500;
}

/**
 * Turns an API error into an `ApplicationFailure` by HTTP status and `Status.reason`. 401, 403, 404, 409,
 * 400, 415 and 422 are permanent; a missing response, 429 and 5xx are `KubernetesUnavailable` and retryable.
 */
export function classifyKubeError(error: unknown, operation: string): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  if (!isApiOrNetworkError(error)) {
    const cause = error instanceof Error ? error : undefined;
    return ApplicationFailure.create({
      message: `${operation} failed before reaching the API server: ${String(error)}`,
      type: 'KubernetesInvalid',
      nonRetryable: true,
      cause,
    });
  }
  const info = kubeErrorInfo(error);
  const where = `${operation} failed with HTTP ${info.statusCode || 'no response'}${info.reason ? ` (${info.reason})` : ''}`;
  const [type, advice] = failureFor(info.statusCode);
  const message = `${where}: ${advice}`;
  const cause = error instanceof Error ? error : undefined;
  const details = [{ statusCode: info.statusCode, reason: info.reason }];
  if (type === 'KubernetesUnavailable') return ApplicationFailure.retryable(message, type, ...details);
  return ApplicationFailure.create({ message, type, nonRetryable: true, details, cause });
}

function failureFor(statusCode: number): [KubeFailureType, string] {
  if (statusCode === 401 || statusCode === 403) {
    return ['KubernetesForbidden', 'grant the verb to the Firebreak service account (see deploy/kubernetes/rbac)'];
  }
  if (statusCode === 404) return ['KubernetesNotFound', 'check the namespace and name, the object may be gone'];
  if (statusCode === 409) return ['KubernetesConflict', 'another writer holds this object, inspect it by hand'];
  if (statusCode === 400 || statusCode === 415 || statusCode === 422) {
    return ['KubernetesInvalid', 'the API server rejected the request body, this is a Firebreak bug or bad input'];
  }
  return ['KubernetesUnavailable', 'the API server is unreachable or overloaded, the call will be retried'];
}

/** Builds a non-retryable failure of one of Firebreak's own types. */
export function permanentFailure(type: KubeFailureType, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable: true, details: details ? [details] : [] });
}
