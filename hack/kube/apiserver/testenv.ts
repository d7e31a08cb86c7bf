// Test environment for the conformance suites: the emulator on a fresh loopback address, or any
// cluster named by KUBECONFIG (e.g. a real kube-apiserver), with a namespace of its own and kubectl.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectlBinary } from '../../testing/tools.ts';
import { CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi, ApiextensionsV1Api, AppsV1Api, CoordinationV1Api } from '@kubernetes/client-node';
import { loopbackAddress, waitFor } from '../../testing/net.ts';
import { startApiServer, type ApiServer } from './server.ts';

export interface KubeTestEnv {
  kubeconfig: string;
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  custom: CustomObjectsApi;
  ext: ApiextensionsV1Api;
  coord: CoordinationV1Api;
  objects: KubernetesObjectApi;
  /** A namespace created for this test file. */
  ns: string;
  /** The emulator, when no KUBECONFIG was given (emulator-only tests skip without it). */
  emulator?: ApiServer;
  /** Stop and start the emulator on the same address and data file. */
  restart(): Promise<void>;
  kubectl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

export const external = !!process.env.KUBECONFIG;

/**
 * A test that only the emulator can run, skipped (and said so, with why) against a real API server
 * given by KUBECONFIG: uvu counts it as skipped instead of a pass that checked nothing.
 */
export function emulatorOnly(test: { (name: string, fn: () => Promise<void>): void; skip(name: string, fn: () => Promise<void>): void }, why: string) {
  return (name: string, fn: () => Promise<void>) => {
    if (!external) return test(name, fn);
    console.log(`skipped against ${process.env.KUBECONFIG}: "${name}" — ${why}`);
    test.skip(name, fn);
  };
}

export async function kubeTestEnv(prefix = 'conf'): Promise<KubeTestEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-apiserver-'));
  const dataFile = join(dir, 'store.json');
  let emulator: ApiServer | undefined;
  const kubeconfig = process.env.KUBECONFIG ?? join(dir, 'kubeconfig');
  if (!external) {
    emulator = await startApiServer({ host: loopbackAddress(), dataFile, bookmarkIntervalMs: 200, watchWindow: 200 });
    emulator.writeKubeconfig(kubeconfig);
  }
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const ns = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  const env: KubeTestEnv = {
    kubeconfig,
    kc,
    ns,
    emulator,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    ext: kc.makeApiClient(ApiextensionsV1Api),
    coord: kc.makeApiClient(CoordinationV1Api),
    objects: KubernetesObjectApi.makeApiClient(kc),
    async restart() {
      if (!env.emulator) throw new Error('restart needs the emulator');
      const { host, port } = env.emulator;
      await env.emulator.close();
      env.emulator = await startApiServer({ host, port, dataFile, bookmarkIntervalMs: 200, watchWindow: 200 });
    },
    async kubectl(args, input) {
      const bin = await kubectlBinary();
      return new Promise((resolve) => {
        const child = execFile(
          bin,
          ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kubectl-cache'), ...args],
          { timeout: 30_000 },
          (err, stdout, stderr) => {
            resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
          },
        );
        if (input !== undefined) child.stdin!.end(input);
      });
    },
    async close() {
      try {
        await env.core.deleteNamespace({ name: ns });
      } catch {
        /* already gone */
      }
      await env.emulator?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await env.core.createNamespace({ body: { metadata: { name: ns } } });
  return env;
}

/** HTTP status of a failed client-node call (ApiException.code), or undefined when it succeeded. */
export async function statusOf(p: Promise<unknown>): Promise<{ code?: number; body?: Record<string, any> }> {
  try {
    await p;
    return {};
  } catch (e) {
    const err = e as { code?: number; body?: unknown };
    let body: unknown = err.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        /* keep text */
      }
    }
    return { code: err.code, body: body as Record<string, unknown> };
  }
}

/** A CRD fixture with schema rules, defaults, status and scale subresources, printer columns. */
export function widgetCrd(group: string): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `widgets.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList', shortNames: ['wdg'] },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: {
            status: {},
            scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
          },
          additionalPrinterColumns: [
            { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  required: ['image'],
                  'x-kubernetes-validations': [
                    { rule: 'self.replicas % 2 == 1', message: 'replicas must be odd' },
                    { rule: 'self.mode == oldSelf.mode', message: 'mode is immutable' },
                  ],
                  properties: {
                    image: { type: 'string', minLength: 1, maxLength: 40, pattern: '^[a-z0-9:./-]+$' },
                    replicas: { type: 'integer', minimum: 1, maximum: 9, default: 1 },
                    mode: { type: 'string', enum: ['fast', 'safe'], default: 'safe' },
                    tags: { type: 'array', maxItems: 3, items: { type: 'string' } },
                    limits: { type: 'object', properties: { size: { 'x-kubernetes-int-or-string': true } } },
                    extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                    ports: {
                      type: 'array',
                      'x-kubernetes-list-type': 'map',
                      'x-kubernetes-list-map-keys': ['name'],
                      items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, port: { type: 'integer' } } },
                    },
                  },
                },
                status: {
                  type: 'object',
                  properties: {
                    phase: { type: 'string' },
                    replicas: { type: 'integer' },
                    selector: { type: 'string' },
                    observedGeneration: { type: 'integer' },
                    conditions: {
                      type: 'array',
                      'x-kubernetes-list-type': 'map',
                      'x-kubernetes-list-map-keys': ['type'],
                      items: {
                        type: 'object',
                        properties: {
                          type: { type: 'string' },
                          status: { type: 'string' },
                          reason: { type: 'string' },
                          message: { type: 'string' },
                          lastTransitionTime: { type: 'string' },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
}

/** Create the CRD and wait until its resource is served. */
export async function installWidgets(env: KubeTestEnv, group: string): Promise<void> {
  // Through kubectl: client-node's typed serializer drops schema keys it spells differently
  // (x-kubernetes-*, enum, default), which would install a different CRD.
  const r = await env.kubectl(['create', '-f', '-'], JSON.stringify(widgetCrd(group)));
  if (r.code !== 0) throw new Error(`kubectl create CRD failed: ${r.stderr}`);
  await waitFor(
    async () => {
      const c = await env.ext.readCustomResourceDefinition({ name: `widgets.${group}` });
      return c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True');
    },
    { what: 'CRD established' },
  );
  await waitFor(() => env.custom.listNamespacedCustomObject({ group, version: 'v1', namespace: env.ns, plural: 'widgets' }).then(() => true), {
    what: 'widgets served',
  });
}

export async function removeWidgets(env: KubeTestEnv, group: string): Promise<void> {
  try {
    await env.ext.deleteCustomResourceDefinition({ name: `widgets.${group}` });
  } catch {
    /* gone */
  }
}
