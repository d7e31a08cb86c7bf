// The cluster Secret (internal RPC secret and the master key) and the admin credentials Secret.
// Their values are generated once by the reconciler and read back every time (controller/credentials.ts):
// the builders only place them.
import type { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import type { ClusterInputs } from './chart.ts';
import { childNames, clusterLabels, fileApiEndpoint } from './names.ts';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

export function clusterSecret(chart: Chart, inputs: ClusterInputs): k8s.KubeSecret {
  const c = inputs.cluster;
  return new k8s.KubeSecret(chart, 'cluster-secret', {
    metadata: { name: childNames(c.metadata.name).clusterSecret, labels: clusterLabels(c, 'cluster-secret') },
    type: 'Opaque',
    data: { secret: b64(inputs.clusterSecret), masterKey: b64(inputs.masterKey) },
  });
}

/** Admin credentials, in the same shape as a Bucket's Secret so an app or `aws` can use it as is. */
export function adminSecret(chart: Chart, inputs: ClusterInputs): k8s.KubeSecret {
  const c = inputs.cluster;
  return new k8s.KubeSecret(chart, 'admin-secret', {
    metadata: { name: childNames(c.metadata.name).adminSecret, labels: clusterLabels(c, 'admin-secret') },
    type: 'Opaque',
    data: {
      AWS_ACCESS_KEY_ID: b64(inputs.adminAccessKeyId),
      AWS_SECRET_ACCESS_KEY: b64(inputs.adminSecretAccessKey),
      S3_ENDPOINT: b64(fileApiEndpoint(c)),
    },
  });
}
