// What every benchmark target (a server the bench starts) gives the orchestrator.
import type { TargetSpec } from '../client.ts';

export interface ServerProcess {
  name: string;
  pid: number;
  dataDir: string;
  /** SIGKILL and wait for the exit (the failure the redundancy run needs). */
  kill(): Promise<void>;
}

export interface RunningTarget {
  spec: TargetSpec;
  /** Every server process of the target (for RSS sampling), looked up now (workers may change). */
  pids(): number[];
  /** Cluster targets: the storage processes and the admin API of a root. */
  nodes?: ServerProcess[];
  admin?: { url: string; secret: string };
  /** Stop every process and remove the data. Idempotent. */
  stop(): Promise<void>;
}
