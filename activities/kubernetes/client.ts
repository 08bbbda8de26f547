import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  createConfiguration,
  CustomObjectsApi,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  NetworkingV1Api,
  PatchStrategy,
  PolicyV1Api,
  ServerConfiguration,
  setHeaderOptions,
  wrapHttpLibrary,
  type HttpLibrary,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { activityLogger } from './context';
import { classifyKubeError, isApiOrNetworkError, isRetryable, kubeErrorInfo } from './errors';
import { DEFAULT_RATE_LIMIT, TokenBucket, type RateLimit } from './rate-limit';
import { scopeViolation } from './scope';

/** One request as it left the client, after every middleware ran. */
export interface KubeRequestRecord {
  method: string;
  /** URL path without the query, for example `/api/v1/namespaces/shop/pods/web-0`. */
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  body: string | undefined;
}

export type KubeRequestRecorder = (request: KubeRequestRecord) => void;

export interface RetryPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/** Five attempts within one activity attempt; Temporal's retry policy takes over after that. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, initialDelayMs: 200, maxDelayMs: 5000 };

/** Longest `Retry-After` honoured inside one activity attempt; longer waits go back to Temporal's retries. */
const MAX_RETRY_AFTER_SEC = 30;

export interface KubeClientOptions {
  rateLimit?: RateLimit;
  recorder?: KubeRequestRecorder;
  retry?: RetryPolicy;
}

/** The API groups the containment activities use, all sharing one rate limit and one recorder. */
export interface KubeClients {
  core: CoreV1Api;
  apps: AppsV1Api;
  batch: BatchV1Api;
  networking: NetworkingV1Api;
  policy: PolicyV1Api;
  customObjects: CustomObjectsApi;
  /** Sends a GET to a discovery path such as `/apis/cilium.io`; returns undefined on 404. */
  discover(path: string): Promise<unknown>;
  retry: RetryPolicy;
}

/**
 * Builds API clients from a KubeConfig. Every request passes through the rate limit, the recorder and a
 * scope check that rejects empty namespaces, empty label selectors and cluster-wide pod lists or deletes.
 */
export function createKubeClients(kubeConfig: KubeConfig, options: KubeClientOptions = {}): KubeClients {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the KubeConfig has no current cluster: set current-context to a cluster entry');
  const httpApi = guardedHttpLibrary(new IsomorphicFetchHttpLibrary(), options, new URL(cluster.server).pathname);
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kubeConfig },
    httpApi,
  });
  const retry = options.retry ?? DEFAULT_RETRY;
  const customObjects = new CustomObjectsApi(configuration);
  return {
    core: new CoreV1Api(configuration),
    apps: new AppsV1Api(configuration),
    batch: new BatchV1Api(configuration),
    networking: new NetworkingV1Api(configuration),
    policy: new PolicyV1Api(configuration),
    customObjects,
    discover: (path) => discover(kubeConfig, httpApi, cluster.server, path, retry),
    retry,
  };
}

function guardedHttpLibrary(inner: HttpLibrary, options: KubeClientOptions, serverPath: string): HttpLibrary {
  const bucket = new TokenBucket(options.rateLimit ?? DEFAULT_RATE_LIMIT);
  return wrapHttpLibrary({
    async send(request: RequestContext): Promise<ResponseContext> {
      const record = recordOf(request);
      options.recorder?.(record);
      const violation = scopeViolation(record, serverPath);
      if (violation) throw violation;
      await bucket.take();
      return inner.send(request).toPromise();
    },
  });
}

function recordOf(request: RequestContext): KubeRequestRecord {
  const url = new URL(request.getUrl());
  const body = request.getBody();
  const headers = request.getHeaders();
  return {
    method: request.getHttpMethod(),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams.entries()),
    contentType: headers['Content-Type'] ?? headers['content-type'],
    body: typeof body === 'string' ? body : undefined,
  };
}

async function discover(
  kubeConfig: KubeConfig,
  httpApi: HttpLibrary,
  server: string,
  path: string,
  retry: RetryPolicy,
): Promise<unknown> {
  const send = async (): Promise<unknown> => {
    const request = new ServerConfiguration(server, {}).makeRequestContext(path, 'GET');
    request.setHeaderParam('Accept', 'application/json');
    await kubeConfig.applySecurityAuthentication(request);
    const response = await httpApi.send(request).toPromise();
    const text = await response.body.text();
    if (response.httpStatusCode === 404) return undefined;
    if (response.httpStatusCode >= 300) {
      throw new ApiException(response.httpStatusCode, `GET ${path}`, text, response.headers);
    }
    return JSON.parse(text);
  };
  return callKube(`GET ${path}`, send, retry);
}

/**
 * Runs one API call, retrying a missing response, 429 and 5xx with exponential backoff and honouring
 * `Retry-After`; other errors become a classified `ApplicationFailure` at once.
 */
export async function callKube<T>(operation: string, request: () => Promise<T>, retry = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await request();
    } catch (error) {
      if (!isApiOrNetworkError(error)) throw error;
      const info = kubeErrorInfo(error);
      if (!isRetryable(info) || attempt >= retry.maxAttempts) throw classifyKubeError(error, operation);
      const delayMs = retryDelayMs(info.retryAfterSec, attempt, retry);
      activityLogger().warn('Kubernetes request failed, retrying', {
        operation,
        statusCode: info.statusCode,
        reason: info.reason,
        attempt,
        delayMs,
      });
      await sleep(delayMs);
    }
  }
}

/** Like `callKube`, but returns undefined when the object does not exist (HTTP 404). */
export async function callKubeUnlessNotFound<T>(
  operation: string,
  request: () => Promise<T>,
  retry = DEFAULT_RETRY,
): Promise<T | undefined> {
  try {
    return await callKube(operation, request, retry);
  } catch (error) {
    if (error instanceof ApplicationFailure && error.type === 'KubernetesNotFound') return undefined;
    throw error;
  }
}

/** Attempts for a read-modify-patch cycle that meets concurrent writers (409 on the resourceVersion). */
const MAX_CONFLICT_ATTEMPTS = 6;
/** Wait before the second cycle; it doubles each time, with jitter, so a controller's status writes can settle. */
const CONFLICT_BACKOFF_MS = 50;

/**
 * Runs a read-modify-patch cycle again when the patch loses a resourceVersion race (`KubernetesConflict`).
 * Controllers write a workload's status right after a change, so the cycles wait a little longer each time.
 */
export async function retryOnConflict<T>(cycle: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await cycle();
    } catch (error) {
      const conflict = error instanceof ApplicationFailure && error.type === 'KubernetesConflict';
      if (!conflict || attempt >= MAX_CONFLICT_ATTEMPTS) throw error;
      const backoffMs = CONFLICT_BACKOFF_MS * 2 ** (attempt - 1);
      await new Promise((resolve) => setTimeout(resolve, backoffMs / 2 + Math.random() * backoffMs));
    }
  }
}

/** Backoff before the next attempt: at least `Retry-After` when the server sent one. */
export function retryDelayMs(retryAfterSec: number | undefined, attempt: number, retry: RetryPolicy): number {
  const backoffMs = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** (attempt - 1));
  if (retryAfterSec === undefined) return backoffMs;
  return Math.max(backoffMs, Math.min(retryAfterSec, MAX_RETRY_AFTER_SEC) * 1000);
}

/** Per-call options that name the patch type in the Content-Type header. */
export function patchAs(strategy: PatchStrategy) {
  return setHeaderOptions('Content-Type', strategy);
}

export const mergePatch = () => patchAs(PatchStrategy.MergePatch);
export const strategicMergePatch = () => patchAs(PatchStrategy.StrategicMergePatch);
export const jsonPatch = () => patchAs(PatchStrategy.JsonPatch);

/**
 * `DeleteOptions` for a delete with a uid precondition. The API server reads a DELETE's options from the body
 * when there is one and then ignores the query, so dry run must be set here as well as in the query.
 */
export function deleteOptions(uid: string | undefined, dryRun: boolean, gracePeriodSec?: number) {
  return {
    preconditions: uid ? { uid } : undefined,
    dryRun: dryRun ? ['All'] : undefined,
    gracePeriodSeconds: gracePeriodSec,
  };
}

/** Returns the `dryRun` query value that asks for a server-side dry run. */
export function dryRunParam(dryRun: boolean): 'All' | undefined {
  return dryRun ? 'All' : undefined;
}
