// The PrometheusRule example: generated from the plain rules file (fails when stale), the same
// groups, and accepted by `kubectl apply` (which the plain rules file, having no kind, is not).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { waitFor } from './testing/net.ts';
import { kubeTestEnv } from './kube/apiserver/testenv.ts';
import { ALERTS_FILE, generatedExamples, PROMETHEUS_RULE_FILE } from './gen-examples.ts';

const repo = new URL('..', import.meta.url).pathname;
const read = (file: string) => readFileSync(join(repo, file), 'utf8');

test('committed generated examples match their source (run `npm run gen:examples`)', () => {
  for (const [file, text] of Object.entries(generatedExamples())) assert.ok(read(file) === text, `${file} is stale: run npm run gen:examples`);
});

test('the PrometheusRule carries exactly the groups of the plain rules file', () => {
  const rule = parse(read(PROMETHEUS_RULE_FILE));
  assert.equal([rule.apiVersion, rule.kind, rule.metadata.name], ['monitoring.coreos.com/v1', 'PrometheusRule', 'cairn-alerts']);
  const groups = parse(read(ALERTS_FILE)).groups;
  assert.ok(groups.length > 0);
  assert.equal(rule.spec.groups, groups);
});

// The parts of the Prometheus Operator's PrometheusRule schema a rule file has to fit.
const prometheusRuleCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'prometheusrules.monitoring.coreos.com' },
  spec: {
    group: 'monitoring.coreos.com',
    scope: 'Namespaced',
    names: { plural: 'prometheusrules', singular: 'prometheusrule', kind: 'PrometheusRule', listKind: 'PrometheusRuleList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            required: ['spec'],
            properties: {
              spec: {
                type: 'object',
                properties: {
                  groups: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['name'],
                      properties: {
                        name: { type: 'string', minLength: 1 },
                        interval: { type: 'string' },
                        rules: {
                          type: 'array',
                          items: {
                            type: 'object',
                            required: ['expr'],
                            properties: {
                              alert: { type: 'string' },
                              record: { type: 'string' },
                              expr: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
                              for: { type: 'string', pattern: '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$' },
                              keep_firing_for: { type: 'string' },
                              labels: { type: 'object', additionalProperties: { type: 'string' } },
                              annotations: { type: 'object', additionalProperties: { type: 'string' } },
                            },
                          },
                        },
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

test('kubectl apply -f takes the PrometheusRule', async () => {
  const env = await kubeTestEnv('promrule');
  // On a real API server (KUBECONFIG) the Prometheus Operator's own CRD is used when installed.
  const installCrd = (await env.kubectl(['get', 'crd', prometheusRuleCrd.metadata.name])).code !== 0;
  try {
    if (installCrd) {
      const crd = await env.kubectl(['apply', '-f', '-'], JSON.stringify(prometheusRuleCrd));
      assert.is(crd.code, 0, crd.stderr);
      await waitFor(async () => (await env.kubectl(['get', 'prometheusrules', '-n', env.ns])).code === 0, { what: 'PrometheusRule served' });
    }
    const plain = await env.kubectl(['apply', '-n', env.ns, '-f', join(repo, ALERTS_FILE)]);
    assert.is.not(plain.code, 0, 'the plain rules file is no Kubernetes object');
    const applied = await env.kubectl(['apply', '-n', env.ns, '-f', join(repo, PROMETHEUS_RULE_FILE)]);
    assert.is(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, 'prometheusrule.monitoring.coreos.com/cairn-alerts created');
    const stored = parse((await env.kubectl(['get', 'prometheusrule', 'cairn-alerts', '-n', env.ns, '-o', 'yaml'])).stdout);
    assert.equal(stored.spec.groups, parse(read(ALERTS_FILE)).groups);
  } finally {
    if (installCrd) await env.kubectl(['delete', 'crd', 'prometheusrules.monitoring.coreos.com', '--wait=false']);
    await env.close();
  }
});

test.run();
