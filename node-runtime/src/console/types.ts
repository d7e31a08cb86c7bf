// What the console needs from the node that runs it: every input is an argument of startConsole().
import type { IncomingMessage } from 'node:http';
import type { ClusterStatus } from '../admin/types.ts';
import type { OidcOptions } from './oidc.ts';
import type { SignInLimits } from './rate-limit.ts';

/** A caller resolved from its access key (the shape of access/users.ts's Principal). */
export interface ConsolePrincipal {
  userId: string;
  secretAccessKey: string;
  superuser: boolean;
  sessionsNotBefore?: number;
}

/** Who may sign in: access/users.ts's Directory satisfies it as it is. */
export interface ConsoleDirectory {
  principal(accessKeyId: string): ConsolePrincipal | undefined;
  displayName(userId: string): string;
}

/** The subset of a pino logger the console writes to. */
export interface ConsoleLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ConsoleOptions {
  host: string; // listen address, e.g. the node's API host
  port: number; // 0 = any free port
  /** The node's own file API, e.g. http://127.0.0.5:9000: every file action is an S3 request here. */
  s3Endpoint: string;
  /** Where people reach the file API (shared links are signed for this host); default s3Endpoint. */
  publicS3Endpoint?: string;
  region: string;
  directory: ConsoleDirectory;
  isAdmin(userId: string): boolean;
  clusterStatus(): Promise<ClusterStatus>;
  /**
   * Record on the key, for every node, that its console sessions issued at or before `notBefore` (ms)
   * are over (the admin API; the key record reaches every member within seconds). Without it a
   * sign-out is revoked on this node only.
   */
  endSessions?(accessKeyId: string, notBefore: number): Promise<void>;
  /** ≥ 32 bytes, the same on every node (derive it from the cluster secret): sessions sign with it. */
  sessionKey: Buffer;
  log: ConsoleLog;
  /** Session lifetime; default one hour. */
  sessionTtlMs?: number;
  /** Set when the console is reached over HTTPS (a TLS proxy in front): the cookie gets Secure and __Host-. */
  secureCookie?: boolean;
  signInLimits?: SignInLimits;
  /** The client address for sign-in rate limits; default the socket's peer (set it behind a proxy). */
  clientAddress?(req: IncomingMessage): string;
  /** Sign-in through an OpenID Connect issuer as well as with a key (oidc.ts). */
  oidc?: OidcOptions;
  /** The built app (console/build.ts output); default <repo>/console/dist. */
  assetsDir?: string;
  now?(): number;
}

export interface RunningConsole {
  url: string;
  close(): Promise<void>;
}
