// Run only the API server emulator in the foreground:
//   npx node hack/kube/apiserver/main.ts [--host 127.0.0.1] [--port 0] [--data-file f.json] [--kubeconfig path]
import { Command } from 'commander';
import { startApiServer } from './server.ts';

const cmd = new Command('kube-apiserver-emulator')
  .description('In-memory Kubernetes API server for local development (plain HTTP on loopback)')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port (0 = any free port)', '0')
  .option('--data-file <file>', 'persist objects to this JSON file and reload them at start')
  .option('--kubeconfig <path>', 'write a kubeconfig for this server here')
  .parse();
const o = cmd.opts<{ host: string; port: string; dataFile?: string; kubeconfig?: string }>();
const port = Number(o.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) cmd.error(`--port must be 0..65535, got ${o.port}`);
const server = await startApiServer({ host: o.host, port, dataFile: o.dataFile });
if (o.kubeconfig) server.writeKubeconfig(o.kubeconfig);
process.stdout.write(`API server at ${server.url}${o.kubeconfig ? `\n  kubectl --kubeconfig ${o.kubeconfig} get ns` : ''}\n`);
const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
