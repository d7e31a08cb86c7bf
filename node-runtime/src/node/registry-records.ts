// The users and keys a process starts with, written to the registry through whichever view it has.
import type { ClusterControl, KeyRecord, StoredKey, UserRecord } from '../cluster/types.ts';

export type RegistryRecords = (current: { key(id: string): StoredKey | undefined; user(id: string): UserRecord | undefined }) => {
  users: UserRecord[];
  keys: KeyRecord[];
};

/** Write the records to the registry (built from what it holds now; unchanged records cost nothing). */
export async function writeRecords(view: ClusterControl, records: RegistryRecords): Promise<void> {
  const { users, keys } = records({ key: (id) => view.key(id), user: (id) => view.user(id) });
  for (const u of users) await view.putUser(u);
  for (const k of keys) await view.putKey(k);
}
