// Server-side apply of children (one field manager, forced: the operator owns what it sets) and
// of status through the status subresource. Children go through client-node's
// KubernetesObjectApi with PatchStrategy.ServerSideApply (its default, strategic merge, is wrong
// for custom resources); status uses the raw client because KubernetesObjectApi has no subresources.
import { ApiException, KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../builders/names.ts';
import { KubeApiError, objectPath, PATCH_APPLY, PATCH_JSON, type KubeRest, type ResourceRef } from './rest.ts';

export class Applier {
  private readonly objects: KubernetesObjectApi;
  private readonly rest: KubeRest;

  constructor(kc: KubeConfig, rest: KubeRest) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.rest = rest;
  }

  /** Apply one desired object; returns nothing (the typed response is not used for comparisons). */
  async apply(obj: KubernetesObject): Promise<void> {
    try {
      await this.objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    } catch (e) {
      // Normalise client-node's ApiException into the same error type as the raw client.
      if (e instanceof ApiException && typeof e.code === 'number') {
        const body = statusOf(e.body);
        throw new KubeApiError(e.code, body?.reason ?? String(e.code), `apply ${obj.kind} ${obj.metadata?.name}: ${body?.message ?? e.message}`, body);
      }
      throw e;
    }
  }

  /** Apply `status` through the status subresource (same field manager). */
  async applyStatus(r: ResourceRef, obj: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }, status: unknown): Promise<void> {
    await this.rest.request('PATCH', objectPath(r, obj.metadata.namespace, obj.metadata.name, 'status'), {
      query: { fieldManager: FIELD_MANAGER, force: true },
      contentType: PATCH_APPLY,
      body: { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace }, status },
    });
  }

  /** A JSON patch (RFC 6902), e.g. finalizers guarded by a `test` op. */
  async jsonPatch(r: ResourceRef, namespace: string | undefined, name: string, ops: unknown[]): Promise<void> {
    await this.rest.request('PATCH', objectPath(r, namespace, name), { contentType: PATCH_JSON, body: ops });
  }
}

/** The metav1.Status in an error body (client-node hands it over as text or parsed). */
function statusOf(body: unknown): { reason?: string; message?: string } | undefined {
  if (typeof body !== 'string') return body && typeof body === 'object' ? body : undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
