// The documents helper: repeated elements, text kept verbatim, shape errors as MalformedXML.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isS3Error } from '../../util/errors.ts';
import { child, children, onlyChildren, parseDocument, textOf, textsOf } from './document.ts';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isS3Error(e)) return `${e.status} ${e.code}`;
    throw e;
  }
  return 'no error';
}

test('repeated elements are lists whether they occur once or more; text is kept verbatim with entities decoded', () => {
  const root = parseDocument('<?xml version="1.0"?>\n<R xmlns="urn:x">\n  <Item><Name> a&amp;b </Name></Item>\n  <One>0001</One>\n</R>', 'R', ['Item']);
  assert.is(children(root, 'Item').length, 1);
  assert.is(textOf(children(root, 'Item')[0], 'Name'), ' a&b ');
  assert.is(textOf(root, 'One'), '0001');
  assert.equal(textsOf(parseDocument('<R><V>1</V><V/><V>3</V></R>', 'R', ['V']), 'V'), ['1', '', '3']);
  assert.equal(child(parseDocument('<R><E/></R>', 'R', []), 'E'), {});
  assert.is(child(root, 'Missing'), undefined);
  assert.equal(textsOf(root, 'Missing'), []);
});

test('shape errors: wrong root, two roots, text where elements belong, an element where text belongs, a single element twice', () => {
  assert.is(
    code(() => parseDocument('<Other/>', 'R', [])),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parseDocument('', 'R', [])),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parseDocument('<R>text</R>', 'R', [])),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parseDocument('<R><A>1</A></R><R/>', 'R', [])),
    '400 MalformedXML',
  );
  assert.is(
    code(() => textOf(parseDocument('<R><A><B>1</B></A></R>', 'R', []), 'A')),
    '400 MalformedXML',
  );
  assert.is(
    code(() => textOf(parseDocument('<R><A>1</A><A>2</A></R>', 'R', []), 'A')),
    '400 MalformedXML',
  );
  assert.is(
    code(() => child(parseDocument('<R><E>x</E></R>', 'R', []), 'E')),
    '400 MalformedXML',
  );
  assert.is(
    code(() => onlyChildren(parseDocument('<R><A/><Z/></R>', 'R', []), ['A'])),
    '400 MalformedXML',
  );
  assert.is(
    code(() => onlyChildren(parseDocument('<R>\n  <A/>\n</R>', 'R', []), ['A'])),
    'no error',
  );
});

test.run();
