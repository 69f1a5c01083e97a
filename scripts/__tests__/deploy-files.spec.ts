import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PORTS, SUBGRAPH_NAMES } from '@tiergraph/runtime';
import { parse } from 'yaml';

/**
 * Keeps docker-compose.yml and the Dockerfile in line with the port/URL contract
 * and with the entry points that exist in the repository.
 */

const repoRoot = join(__dirname, '..', '..');
const composePath = join(__dirname, '..', '..', 'docker-compose.yml');
const dockerfilePath = join(repoRoot, 'Dockerfile');

/** The contract's ports (billing 4001 … monitoring 4006), from the runtime rather than copied here. */
const SUBGRAPH_PORTS = DEFAULT_PORTS;
const SUBGRAPHS = SUBGRAPH_NAMES;

/** `<NAME>_URL` of every subgraph as the compose network names it. */
const expectedUrls = () =>
  Object.fromEntries(SUBGRAPHS.map((name) => [`${name.toUpperCase()}_URL`, `http://${name}:${SUBGRAPH_PORTS[name]}/graphql`]));
const urlsOf = (env: Record<string, string>) =>
  Object.fromEntries(SUBGRAPHS.map((name) => [`${name.toUpperCase()}_URL`, env[`${name.toUpperCase()}_URL`]]));

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target?: number | string; published?: number | string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[] };
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

function loadCompose(): ComposeFile {
  // merge: true resolves the `<<: *anchor` merge keys the file uses.
  return parse(readFileSync(composePath, 'utf8'), { merge: true }) as ComposeFile;
}

/** environment as a map, whichever of the two compose syntaxes (map or KEY=value list) is used. */
function envOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const eq = entry.indexOf('=');
        return eq === -1 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value == null ? '' : String(value)]));
}

function dependsOnNames(service: ComposeService): string[] {
  const deps = service.depends_on ?? [];
  return Array.isArray(deps) ? deps : Object.keys(deps);
}

function commandArgs(service: ComposeService): string[] {
  const command = service.command;
  if (command === undefined) return [];
  return Array.isArray(command) ? command.map(String) : command.split(/\s+/).filter(Boolean);
}

/** The published (host) port of one `ports` entry, short or long syntax. */
function publishedPort(entry: NonNullable<ComposeService['ports']>[number]): string | undefined {
  if (typeof entry === 'object') return entry.published === undefined ? undefined : String(entry.published);
  const parts = String(entry).split('/')[0].split(':');
  // "4000", "4000:4000" or "127.0.0.1:4000:4000": the host port is the second to last part when a mapping is given.
  return parts.length === 1 ? parts[0] : parts[parts.length - 2];
}

describe('docker-compose.yml', () => {
  it('parses as YAML and defines exactly postgres, the gateway and the six subgraphs', () => {
    const compose = loadCompose();
    expect(compose).toBeDefined();
    expect(Object.keys(compose.services).sort()).toEqual(
      ['postgres', 'gateway', 'billing', 'tenancy', 'catalog', 'orders', 'media', 'monitoring'].sort(),
    );
  });

  it('publishes ports only from the gateway, and the gateway publishes 4000', () => {
    const { services } = loadCompose();
    const withPorts = Object.entries(services)
      .filter(([, service]) => service.ports !== undefined && service.ports.length > 0)
      .map(([name]) => name);
    expect(withPorts).toEqual(['gateway']);
    expect(services.gateway.ports!.map(publishedPort)).toContain('4000');
  });

  it('gives every service a healthcheck', () => {
    const { services } = loadCompose();
    for (const [name, service] of Object.entries(services)) {
      expect({ name, test: service.healthcheck?.test }).toEqual({ name, test: expect.anything() });
    }
  });

  it.each(SUBGRAPHS)('%s: sets its contract port and DATABASE_URL, and health-checks that port', (name) => {
    const { services } = loadCompose();
    const service = services[name];
    expect(service).toBeDefined();
    const env = envOf(service);
    const port = String(SUBGRAPH_PORTS[name]);
    expect(env[`${name.toUpperCase()}_PORT`]).toBe(port);
    expect(env.DATABASE_URL).toMatch(/^postgres(ql)?:\/\//);
    const test = service.healthcheck?.test;
    const healthcheck = Array.isArray(test) ? test.join(' ') : String(test ?? '');
    expect(healthcheck).toContain(`:${port}/`);
  });

  it('points the gateway at every subgraph and makes it wait for all of them', () => {
    const { services } = loadCompose();
    const gateway = services.gateway;
    expect(urlsOf(envOf(gateway))).toEqual(expectedUrls());
    expect(dependsOnNames(gateway)).toEqual(expect.arrayContaining([...SUBGRAPHS]));
  });

  it('passes CORS_ORIGINS and CORS_CREDENTIALS from the host to the gateway and media, empty (production: no origins) by default', () => {
    const { services } = loadCompose();
    for (const name of ['gateway', 'media']) {
      const env = envOf(services[name]);
      expect({ name, origins: env.CORS_ORIGINS, credentials: env.CORS_CREDENTIALS, nodeEnv: env.NODE_ENV }).toEqual({
        name,
        origins: '${CORS_ORIGINS:-}',
        credentials: '${CORS_CREDENTIALS:-false}',
        nodeEnv: 'production',
      });
    }
  });

  it.each(SUBGRAPHS)('%s: knows every subgraph URL for its internal calls (entitlements, stores, products)', (name) => {
    const { services } = loadCompose();
    expect({ service: name, urls: urlsOf(envOf(services[name])) }).toEqual({ service: name, urls: expectedUrls() });
  });

  it('builds the image once and runs every tiergraph service from it', () => {
    const { services } = loadCompose();
    const tiergraph = ['gateway', ...SUBGRAPHS];
    expect(tiergraph.map((name) => ({ name, image: services[name].image }))).toEqual(
      tiergraph.map((name) => ({ name, image: 'tiergraph:local' })),
    );
    const building = Object.entries(services)
      .filter(([, service]) => service.build !== undefined)
      .map(([name]) => name);
    expect(building).toHaveLength(1);
    expect(tiergraph).toContain(building[0]);
  });

  it('requires AUTH_JWT_SECRET (no default) for the gateway and every subgraph', () => {
    const { services } = loadCompose();
    for (const name of ['gateway', ...SUBGRAPHS]) {
      expect({ name, secret: envOf(services[name]).AUTH_JWT_SECRET }).toEqual({
        name,
        secret: expect.stringMatching(/^\$\{AUTH_JWT_SECRET:\?.+\}$/),
      });
    }
  });

  it('hands the gateway and every subgraph the same SUBGRAPH_HMAC_SECRET (no default): subgraph requests are signed', () => {
    const { services } = loadCompose();
    for (const name of ['gateway', ...SUBGRAPHS]) {
      expect({ name, secret: envOf(services[name]).SUBGRAPH_HMAC_SECRET }).toEqual({
        name,
        secret: expect.stringMatching(/^\$\{SUBGRAPH_HMAC_SECRET:\?.+\}$/),
      });
    }
  });

  it('runs only TypeScript entry points that exist in the repository', () => {
    const { services } = loadCompose();
    const entryPoints = Object.values(services)
      .flatMap(commandArgs)
      .filter((arg) => arg.endsWith('.ts'));
    expect(entryPoints).toEqual(
      expect.arrayContaining(['gateway/src/main.ts', ...SUBGRAPHS.map((name) => `subgraphs/${name}/src/main.ts`)]),
    );
    const missing = entryPoints.filter((file) => !existsSync(join(repoRoot, file)));
    expect(missing).toEqual([]);
  });
});

describe('Dockerfile', () => {
  it('is multi-stage, installs from the frozen lockfile and runs as the node user', () => {
    expect(existsSync(dockerfilePath)).toBe(true);
    const dockerfile = readFileSync(dockerfilePath, 'utf8');
    expect((dockerfile.match(/^FROM\s+\S+/gim) ?? []).length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toContain('pnpm install --frozen-lockfile');
    expect(dockerfile).toMatch(/^USER\s+node\s*$/m);
  });
});
