// pods/log as the real apiserver serves it: a proxy to the kubelet of the pod's node, found from
// the Node's InternalIP and status.daemonEndpoints.kubeletEndpoint.Port
// (GET http://<ip>:<port>/containerLogs/<ns>/<pod>/<container>?follow=&tailLines=...).
import { request } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Api } from './api.ts';
import { ApiError, badRequest } from './errors.ts';

type Any = Record<string, any>;

export function servePodLogs(api: Api, req: IncomingMessage, res: ServerResponse, ns: string, name: string, q: URLSearchParams): void {
  const podType = api.registry.find('', 'v1', 'pods')!;
  const pod = api.existing(podType, ns, name) as Any;
  const containers: string[] = (pod.spec?.containers ?? []).map((c: Any) => c.name);
  const container = q.get('container') ?? (containers.length === 1 ? containers[0] : undefined);
  if (!container) throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`);
  if (!containers.includes(container) && !(pod.spec?.initContainers ?? []).some((c: Any) => c.name === container))
    throw badRequest(`container ${container} is not valid for pod ${name}`);
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
  const node = api.store.get('', 'nodes', '', nodeName) as Any | undefined;
  const ip = node?.status?.addresses?.find((a: Any) => a.type === 'InternalIP')?.address;
  const port = node?.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  if (!ip || !port)
    throw new ApiError(
      500,
      'InternalError',
      `Internal error occurred: no kubelet endpoint for node "${nodeName}" (status.daemonEndpoints.kubeletEndpoint.Port)`,
    );
  const params = new URLSearchParams();
  for (const k of ['follow', 'previous', 'tailLines', 'sinceSeconds', 'sinceTime', 'timestamps', 'limitBytes']) {
    const v = q.get(k);
    if (v !== null) params.set(k, v);
  }
  const upstream = request({ host: ip, port, path: `/containerLogs/${ns}/${name}/${container}?${params}`, method: 'GET' }, (up) => {
    res.writeHead(up.statusCode ?? 502, { 'Content-Type': up.headers['content-type'] ?? 'text/plain', 'Transfer-Encoding': 'chunked' });
    up.pipe(res);
  });
  upstream.on('error', (err) => {
    if (res.headersSent) {
      res.end();
      return;
    }
    const e = new ApiError(502, 'InternalError', `Get "http://${ip}:${port}/containerLogs/${ns}/${name}/${container}": ${err.message}`);
    res.writeHead(502, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(e.toStatus()));
  });
  req.on('close', () => upstream.destroy());
  upstream.end();
}
