// The directory requests are authenticated against, kept in step with the registry: rebuilt on the
// first lookup after the registry changed (a disabled key stops working as soon as the change
// reaches this node), reusing the secrets it already opened.
import { Directory } from '../access/users.ts';
import type { ClusterControl } from '../cluster/types.ts';

export function directoryOf(view: ClusterControl, master: Buffer): () => Directory {
  let current: Directory | undefined;
  let stale = true;
  view.onChange(() => {
    stale = true;
  });
  return () => {
    if (!current || stale) {
      stale = false;
      current = new Directory(master, view.users(), view.keys(), current);
    }
    return current;
  };
}
