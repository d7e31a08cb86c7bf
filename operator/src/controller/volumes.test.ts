import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { claimView, planVolumes, type ClaimView } from './volumes.ts';

const Gi = 2 ** 30;
const claim = (name: string, request: number, capacity: number | undefined, storageClassName = 'grows', conditions: string[] = []): ClaimView => ({
  name,
  requestBytes: request * Gi,
  capacityBytes: capacity === undefined ? undefined : capacity * Gi,
  storageClassName,
  conditions,
});
const classes = (c: string) => (c === 'grows' ? true : c === 'fixed' ? false : undefined);

test('every claim at the size: True; a larger size grows the claims of an expandable class', () => {
  assert.equal(planVolumes('10Gi', [claim('data-demo-nodes-0', 10, 10)], classes).condition, {
    type: 'VolumesResized',
    status: 'True',
    reason: 'AtRequestedSize',
    message: 'every node volume has 10Gi',
  });
  const p = planVolumes('20Gi', [claim('data-demo-nodes-10', 10, 10), claim('data-demo-nodes-2', 10, 10), claim('data-demo-nodes-9', 10, undefined)], classes);
  assert.equal(p.grow, ['data-demo-nodes-2', 'data-demo-nodes-10'], 'in ordinal order; an unbound claim waits');
  assert.equal([p.condition.status, p.condition.reason], ['False', 'Resizing']);
});

test('asked for, not there yet: Resizing says which stage each claim is in', () => {
  const p = planVolumes(
    '20Gi',
    [claim('a', 20, 10, 'grows', ['FileSystemResizePending']), claim('b', 20, 10, 'grows', ['Resizing']), claim('c', 20, 20)],
    classes,
  );
  assert.equal(p.grow, []);
  assert.equal(p.condition.reason, 'Resizing');
  assert.match(p.condition.message, 'a: FileSystemResizePending (the node grows the file system); b: Resizing (the storage provider grows the volume)');
});

test('what cannot be done is said: no expansion in the class, no class, no such class, no shrinking', () => {
  const p = planVolumes('20Gi', [claim('a', 10, 10, 'fixed'), claim('b', 10, 10, ''), claim('c', 10, 10, 'gone'), claim('d', 10, 10)], classes);
  assert.equal(p.grow, ['d'], 'the others still grow');
  assert.equal(p.condition.reason, 'ExpansionNotAllowed');
  assert.match(
    p.condition.message,
    'a: its StorageClass fixed does not allow volume expansion (allowVolumeExpansion is not true); b: it has no StorageClass; c: its StorageClass gone does not exist',
  );
  const s = planVolumes('5Gi', [claim('a', 10, 10)], classes);
  assert.equal([s.condition.reason, s.grow], ['ShrinkNotSupported', []]);
});

test('claimView reads the API object; capacity only once bound', () => {
  const v = claimView({
    metadata: { name: 'x' },
    spec: { storageClassName: 'grows', resources: { requests: { storage: '1Gi' } } },
    status: {
      phase: 'Bound',
      capacity: { storage: '1Gi' },
      conditions: [
        { type: 'FileSystemResizePending', status: 'True' },
        { type: 'Resizing', status: 'False' },
      ],
    },
  });
  assert.equal(v, { name: 'x', requestBytes: Gi, capacityBytes: Gi, storageClassName: 'grows', conditions: ['FileSystemResizePending'] });
  assert.is(claimView({ metadata: { name: 'y' }, spec: {}, status: { phase: 'Pending' } }).capacityBytes, undefined);
});

test.run();
