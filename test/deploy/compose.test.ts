import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

// No Docker engine runs where these tests run, so the compose stack is checked by structure, not started.

const repoRoot = join(__dirname, '..', '..');
const composeText = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8');
const envExampleText = readFileSync(join(repoRoot, '.env.example'), 'utf8');

const stringMapSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));
const healthcheckSchema = z.looseObject({
  test: z.union([z.string(), z.array(z.string())]).optional(),
  disable: z.boolean().optional(),
});
const serviceSchema = z.looseObject({
  image: z.string().optional(),
  build: z.union([z.string(), z.looseObject({ context: z.string(), dockerfile: z.string().optional() })]).optional(),
  environment: z.union([stringMapSchema, z.array(z.string())]).optional(),
  healthcheck: healthcheckSchema.optional(),
  labels: z.union([stringMapSchema, z.array(z.string())]).optional(),
  restart: z.string().optional(),
  depends_on: z
    .union([z.array(z.string()), z.record(z.string(), z.looseObject({ condition: z.string().optional() }))])
    .optional(),
  read_only: z.boolean().optional(),
  user: z.union([z.string(), z.number()]).optional(),
  tmpfs: z.union([z.string(), z.array(z.string())]).optional(),
  cap_drop: z.array(z.string()).optional(),
  cap_add: z.array(z.string()).optional(),
  privileged: z.boolean().optional(),
  security_opt: z.array(z.string()).optional(),
});
type Service = z.infer<typeof serviceSchema>;
const composeSchema = z.looseObject({ services: z.record(z.string(), serviceSchema) });

// Compose files use YAML merge keys (`<<: *anchor`), which the yaml package resolves only when asked.
const compose = composeSchema.parse(parse(composeText, { merge: true }));
const services = Object.entries(compose.services);
const builtServices = services.filter(([, service]) => service.build !== undefined);

/** Label that a one-shot job carries in place of a health check, stating why it has none. */
const oneShotLabel = 'dev.firebreak.one-shot';
const secretNamePattern = /PASSWORD|SECRET|TOKEN|KEY/i;
const variableReferencePattern = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?+][^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Entries of an `environment` or `labels` map or list. A value of `undefined` is a pass-through entry
 * (`NAME:` or `- NAME`), which Compose fills from the shell or `.env` only when the variable is set there.
 */
function entriesOf(map: Service['environment'] | Service['labels']): [string, string | undefined][] {
  if (map === undefined) {
    return [];
  }
  if (Array.isArray(map)) {
    return map.map((item) => {
      const equals = item.indexOf('=');
      return equals === -1 ? [item, undefined] : [item.slice(0, equals), item.slice(equals + 1)];
    });
  }
  return Object.entries(map).map(([key, value]) => [key, value === null ? undefined : String(value)]);
}

/** Names that look like secrets; `_FILE` variables hold a path to one, not the secret. */
function isSecretName(name: string): boolean {
  return secretNamePattern.test(name) && !name.endsWith('_FILE');
}

/** Variables that a text references as `${NAME}`, `${NAME:-default}`, `${NAME:?message}` or `$NAME`. */
function referencedVariables(text: string): string[] {
  const withoutEscapes = text.replace(/\$\$/g, '');
  return [...withoutEscapes.matchAll(variableReferencePattern)].map((match) => match[1] ?? match[2] ?? '');
}

/** Names that `.env.example` documents, set (`NAME=`) or shown commented out (`# NAME=`). */
function documentedVariables(text: string): Map<string, string> {
  const documented = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined) {
      documented.set(match[1], match[2] ?? '');
    }
  }
  return documented;
}

function isPinned(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) {
    return true;
  }
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  if (colon === -1) {
    return false;
  }
  const tag = lastSegment.slice(colon + 1);
  return tag !== 'latest' && /^v?\d+(\.\d+)+[-.\w]*$/.test(tag);
}

function sourceFiles(folder: string): string[] {
  const absolute = join(repoRoot, folder);
  let names: string[];
  try {
    names = readdirSync(absolute);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(absolute, name);
    if (statSync(path).isDirectory()) {
      return sourceFiles(relative(repoRoot, path));
    }
    return name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * Environment variables that the Firebreak processes read: keys of their zod environment schemas, names
 * read through `env.NAME` or `env['NAME']`, and the routing key variables that playbooks name.
 */
function variablesReadByFirebreak(): string[] {
  const patterns = [
    /^\s+([A-Z][A-Z0-9_]{2,}): z\./gm,
    /\benv(?:\.|\[')([A-Z][A-Z0-9_]{2,})\b/g,
    /\broutingKeyEnv: '([A-Z][A-Z0-9_]{2,})'/g,
  ];
  const names = new Set<string>();
  for (const file of ['workers', 'activities', 'cli', 'domain'].flatMap(sourceFiles)) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of patterns) {
      for (const match of text.matchAll(pattern)) {
        names.add(match[1] ?? '');
      }
    }
  }
  for (const name of readdirSync(join(repoRoot, 'playbooks')).filter((file) => file.endsWith('.yaml'))) {
    const text = readFileSync(join(repoRoot, 'playbooks', name), 'utf8');
    for (const match of text.matchAll(/\broutingKeyEnv:\s*['"]?([A-Z][A-Z0-9_]{2,})/g)) {
      names.add(match[1] ?? '');
    }
  }
  return [...names].sort();
}

describe('docker-compose.yml', () => {
  it('defines the Temporal, UI and Firebreak services', () => {
    const names = services.map(([name]) => name);
    expect(names).toEqual(
      expect.arrayContaining(['postgresql', 'temporal', 'temporal-ui', 'firebreak-worker', 'firebreak-intake']),
    );
    expect(names).toContain('firebreak-slack');
  });

  it('pins every image to a version tag or digest', () => {
    const unpinned = services
      .filter(([, service]) => !isPinned(service.image ?? ''))
      .map(([name, service]) => `${name}: ${service.image ?? 'no image'}`);
    expect(unpinned).toEqual([]);
  });

  it('tags built images with the package version', () => {
    const packageVersion = z
      .object({ version: z.string() })
      .parse(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'))).version;
    expect(builtServices.length).toBeGreaterThanOrEqual(3);
    for (const [name, service] of builtServices) {
      expect({ service: name, image: service.image }).toEqual({ service: name, image: `firebreak:${packageVersion}` });
    }
  });

  it('long-running services have health checks', () => {
    const longRunning = services.filter(
      ([, service]) => !entriesOf(service.labels).some(([key]) => key === oneShotLabel),
    );
    const unchecked = longRunning
      .filter(([, service]) => {
        const test = service.healthcheck?.test;
        const disabled = service.healthcheck?.disable === true || (Array.isArray(test) && test[0] === 'NONE');
        return test === undefined || disabled;
      })
      .map(([name]) => name);
    expect(longRunning.length).toBeGreaterThanOrEqual(6);
    expect(unchecked).toEqual([]);
  });

  it('one-shot jobs state why they lack health checks', () => {
    const oneShotJobs = services.filter(([, service]) =>
      entriesOf(service.labels).some(([key]) => key === oneShotLabel),
    );
    expect(oneShotJobs.map(([name]) => name).sort()).toEqual(['temporal-schema', 'temporal-setup']);
    for (const [name, service] of oneShotJobs) {
      const reason = entriesOf(service.labels).find(([key]) => key === oneShotLabel)?.[1] ?? '';
      expect({ job: name, reasonLength: reason.length > 20 }).toEqual({ job: name, reasonLength: true });
      expect({ job: name, healthcheck: service.healthcheck }).toEqual({ job: name, healthcheck: undefined });
      expect({ job: name, restart: service.restart }).toEqual({
        job: name,
        restart: expect.stringMatching(/^(no|on-failure(:\d+)?)$/),
      });
      const waiters = services.filter(([, other]) => {
        const dependsOn = other.depends_on;
        return dependsOn !== undefined && !Array.isArray(dependsOn)
          ? dependsOn[name]?.condition === 'service_completed_successfully'
          : false;
      });
      expect({ job: name, waiters: waiters.length > 0 }).toEqual({ job: name, waiters: true });
    }
  });

  it('takes every secret value from the environment file', () => {
    const inline = services.flatMap(([name, service]) =>
      entriesOf(service.environment)
        .filter(
          ([key, value]) =>
            isSecretName(key) && value !== undefined && !/^\$\{[A-Z][A-Z0-9_]*(:\?[^}]*)?\}$/.test(value),
        )
        .map(([key, value]) => `${name}: ${key}=${value}`),
    );
    expect(inline).toEqual([]);
  });

  it('writes no secret literally anywhere in the file', () => {
    const literalAssignments = [
      ...composeText.matchAll(
        /(?<![${\w])([A-Z_]*(?:PASSWORD|SECRET|TOKEN|KEY)[A-Z_]*)[ \t]*[=:][ \t]*([^\s$'"{#][^\s]*)/g,
      ),
    ]
      .filter((match) => isSecretName(match[1] ?? ''))
      .map((match) => `${match[1]}=${match[2]}`);
    expect(literalAssignments).toEqual([]);
  });

  it('documents every referenced variable in .env.example', () => {
    const documented = documentedVariables(envExampleText);
    const passThrough = services.flatMap(([, service]) =>
      entriesOf(service.environment).flatMap(([key, value]) => (value === undefined ? [key] : [])),
    );
    const referenced = [...new Set([...referencedVariables(composeText), ...passThrough])].sort();
    expect(referenced.length).toBeGreaterThan(5);
    expect(referenced.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('leaves every secret empty in .env.example', () => {
    const secrets = [...documentedVariables(envExampleText)].filter(([name]) => isSecretName(name));
    expect(secrets.length).toBeGreaterThan(2);
    for (const [name, value] of secrets) {
      expect({ variable: name, value }).toEqual({ variable: name, value: '' });
    }
  });

  it('runs Firebreak services read-only and non-root', () => {
    for (const [name, service] of builtServices) {
      const tmpfs = typeof service.tmpfs === 'string' ? [service.tmpfs] : (service.tmpfs ?? []);
      const user = String(service.user ?? '');
      expect({ service: name, readOnly: service.read_only }).toEqual({ service: name, readOnly: true });
      expect({ service: name, user }).toEqual({ service: name, user: expect.stringMatching(/^[1-9]\d*(:[1-9]\d*)?$/) });
      expect({ service: name, tmp: tmpfs.some((entry) => entry.split(':')[0] === '/tmp') }).toEqual({
        service: name,
        tmp: true,
      });
      expect({ service: name, capDrop: service.cap_drop }).toEqual({ service: name, capDrop: ['ALL'] });
      expect({ service: name, capAdd: service.cap_add }).toEqual({ service: name, capAdd: undefined });
      expect({ service: name, privileged: service.privileged ?? false }).toEqual({ service: name, privileged: false });
      expect({ service: name, securityOpt: service.security_opt }).toEqual({
        service: name,
        securityOpt: expect.arrayContaining(['no-new-privileges:true']),
      });
    }
  });
});

describe('configuration reference', () => {
  const readByFirebreak = variablesReadByFirebreak();

  it('finds the variables that Firebreak reads', () => {
    expect(readByFirebreak).toEqual(expect.arrayContaining(['TEMPORAL_ADDRESS', 'FIREBREAK_EVIDENCE_DIR']));
  });

  it('lists every Firebreak variable in .env.example', () => {
    const documented = documentedVariables(envExampleText);
    expect(readByFirebreak.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('describes every Firebreak variable in docs/operations.md', () => {
    const operations = readFileSync(join(repoRoot, 'docs', 'operations.md'), 'utf8');
    expect(readByFirebreak.filter((name) => !operations.includes(`\`${name}\``))).toEqual([]);
  });
});
