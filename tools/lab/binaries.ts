import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..', '..');
const toolsCache = process.env.FIREBREAK_TOOLS_CACHE ?? join(repoRoot, '.cache', 'tools');

export type ServerName = 'temporal' | 'etcd' | 'kube-apiserver' | 'kwok';

/** Reads the pinned version of a server from its Go module under tools/. */
export function pinnedVersion(name: ServerName): string {
  const modules: Record<ServerName, [string, string]> = {
    temporal: ['temporal', 'github.com/temporalio/cli'],
    etcd: ['etcd', 'go.etcd.io/etcd/server/v3'],
    'kube-apiserver': ['kube-apiserver', 'k8s.io/kubernetes'],
    kwok: ['kwok', 'sigs.k8s.io/kwok'],
  };
  const [dir, module] = modules[name];
  const goMod = readFileSync(join(repoRoot, 'tools', dir, 'go.mod'), 'utf8');
  const match = new RegExp(`${module.replace(/[.]/g, '\\.')} (v[^\\s]+)`).exec(goMod);
  if (!match?.[1]) {
    throw new Error(`tools/${dir}/go.mod does not require ${module}; restore the require line`);
  }
  return match[1];
}

/** Returns the path of a built server binary, building it with tools/build.sh on first use. */
export function serverBinary(name: ServerName, binary: string = name): string {
  const path = join(toolsCache, `${name}-${pinnedVersion(name)}`, binary);
  if (!existsSync(path)) {
    execFileSync('bash', [join(repoRoot, 'tools', 'build.sh'), name], { stdio: ['ignore', 2, 2] });
  }
  if (!existsSync(path)) {
    const built = existsSync(toolsCache) ? readdirSync(toolsCache).join(', ') : 'nothing';
    throw new Error(`tools/build.sh ${name} did not produce ${path} (cache holds: ${built})`);
  }
  return path;
}
