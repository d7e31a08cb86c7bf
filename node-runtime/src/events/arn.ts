// Target ARNs: how a bucket's notification configuration names a target declared on the cluster.
//
// `arn:cairn:sqs:<region>:<target-name>:<kind>`, in the style of MinIO's `arn:minio:sqs::ID:webhook`:
// the account field holds the target's name (from StorageCluster spec.notifications.targets) and
// the resource its kind, so an ARN is checked against the declaration without guessing. The region
// may be empty; `sns` and `lambda` are accepted in place of `sqs` for Topic and CloudFunction
// configurations (they name the same targets).

export const TARGET_KINDS = ['redis', 'webhook'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export interface TargetRef {
  name: string;
  kind: TargetKind;
  region: string;
}

/** A target name: a DNS label, as Kubernetes names list entries. */
export const TARGET_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function targetArn(name: string, kind: TargetKind, region = ''): string {
  return `arn:cairn:sqs:${region}:${name}:${kind}`;
}

/** The target an ARN names, or undefined when it is not a well-formed Cairn target ARN. */
export function parseTargetArn(arn: string): TargetRef | undefined {
  const m = /^arn:cairn:(sqs|sns|lambda):([a-z0-9-]*):([^:]+):([^:]+)$/.exec(arn.trim());
  if (!m) return undefined;
  const [, , region, name, kind] = m;
  if (!TARGET_NAME.test(name) || !(TARGET_KINDS as readonly string[]).includes(kind)) return undefined;
  return { name, kind: kind as TargetKind, region };
}
