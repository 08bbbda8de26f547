import type { ApplicationFailure } from '@temporalio/common';
import { permanentFailure } from './errors';
import type { KubeRequestRecord } from './client';

const EMPTY_NAMESPACE_SEGMENT = /\/namespaces\/(\/|$)/;
/** Pods across all namespaces: the list, and the deprecated watch path. */
const CLUSTER_WIDE_PODS = /^\/api\/v1\/(watch\/)?pods\/?$/;
const POD_COLLECTION = /^\/api\/v1\/namespaces\/[^/]+\/pods\/?$/;
const POLICY_PATH = /\/(networkpolicies|ciliumnetworkpolicies)(\/|$)/;

/**
 * Returns an `EmptyScope` failure when a request would act beyond one named object or namespace. That is an
 * empty namespace segment, an empty label or field selector, a list or watch of pods across all namespaces, a
 * delete of a whole pod collection, or a network policy whose empty pod selector selects every pod in the
 * namespace. `serverPath` is the path of the server URL (for example `/k8s/clusters/c-1` behind a proxy), and
 * the checks read the API path after it.
 */
export function scopeViolation(request: KubeRequestRecord, serverPath = ''): ApplicationFailure | undefined {
  const what = `${request.method} ${request.path}`;
  const path = apiPath(request.path, serverPath);
  if (EMPTY_NAMESPACE_SEGMENT.test(path)) return emptyScope(what, 'the namespace is empty');
  if (CLUSTER_WIDE_PODS.test(path)) return emptyScope(what, 'pods are listed across all namespaces');
  if (request.method === 'DELETE' && POD_COLLECTION.test(path)) {
    return emptyScope(what, 'a whole pod collection would be deleted');
  }
  for (const name of ['labelSelector', 'fieldSelector']) {
    const value = request.query[name];
    if (value !== undefined && value.trim() === '') return emptyScope(what, `the ${name} is empty`);
  }
  if (request.method !== 'GET' && request.method !== 'DELETE' && POLICY_PATH.test(path)) {
    if (hasEmptyPodSelector(request.body)) return emptyScope(what, 'the policy selects every pod in the namespace');
  }
  return undefined;
}

/** Returns the request path after the server URL's own path, or the whole path when it lies outside that prefix. */
function apiPath(path: string, serverPath: string): string {
  const prefix = serverPath.replace(/\/+$/, '');
  return prefix !== '' && path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : path;
}

function emptyScope(what: string, problem: string): ApplicationFailure {
  return permanentFailure('EmptyScope', `${what} was blocked because ${problem}: name the namespace and pod`);
}

function hasEmptyPodSelector(body: string | undefined): boolean {
  if (body === undefined) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return false;
  }
  const spec = field(parsed, 'spec');
  if (spec === undefined) return false;
  const selector = field(spec, 'podSelector') ?? field(spec, 'endpointSelector');
  return selector !== undefined && isEmptySelector(selector);
}

/** True for a label selector without any label or expression, which matches everything. */
export function isEmptySelector(selector: unknown): boolean {
  const matchLabels = field(selector, 'matchLabels');
  const matchExpressions = field(selector, 'matchExpressions');
  const labelCount = matchLabels && typeof matchLabels === 'object' ? Object.keys(matchLabels).length : 0;
  const expressionCount = Array.isArray(matchExpressions) ? matchExpressions.length : 0;
  return labelCount === 0 && expressionCount === 0;
}

function field(value: unknown, key: string): unknown {
  if (value === null || typeof value !== 'object' || !(key in value)) return undefined;
  return (value as Record<string, unknown>)[key];
}
