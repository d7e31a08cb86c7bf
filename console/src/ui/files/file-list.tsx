// The file list: a virtualised listbox (only the rows in view are in the DOM, so 100,000 keys
// scroll as smoothly as 10), Finder-like selection (click, ⌘/Ctrl-click, Shift-click, the check
// box on touch screens) and the keyboard: arrows, Home/End, PageUp/Down, Space, Enter opens,
// Delete, F2 renames, Ctrl/⌘-A, Backspace goes up. Focus stays on the list; the active row is
// announced through aria-activedescendant and always scrolled into view.
import type { JSX } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ObjectEntry } from '../../../../node-runtime/src/console/api.ts';
import { formatBytes, formatDateTime } from '../../format.ts';
import { nextOrder, windowOf, type SortKey, type SortOrder } from '../../listing.ts';
import { previewKind } from '../../paths.ts';
import { Icon, type IconName } from '../icons.tsx';

export const ROW_HEIGHT = 44;

export interface Selection {
  keys: Set<string>;
  active: number;
  anchor: number;
}

export interface FileListProps {
  entries: ObjectEntry[];
  label: string;
  displayName(e: ObjectEntry): string;
  selection: Selection;
  onSelection(s: Selection): void;
  order: SortOrder;
  onOrder(o: SortOrder): void;
  onOpen(e: ObjectEntry): void;
  onDelete(): void;
  onRename(): void;
  onParent(): void;
  onNearEnd(): void;
  footer: JSX.Element;
}

function iconOf(e: ObjectEntry): IconName {
  if (e.folder) return 'folder';
  const kind = previewKind(e.key);
  return kind === 'image' ? 'image' : kind === 'pdf' ? 'pdf' : kind === 'text' ? 'text' : 'file';
}

export function FileList(p: FileListProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  const frame = useRef(0);
  const n = p.entries.length;
  const { keys, active } = p.selection;

  useLayoutEffect(() => {
    const el = scroller.current!;
    const ro = new ResizeObserver(() => setViewport(el.clientHeight));
    ro.observe(el);
    setViewport(el.clientHeight);
    return () => ro.disconnect();
  }, []);

  const { first, last } = windowOf(scrollTop, viewport, ROW_HEIGHT, n);
  // Ask for the next page while a few screens of rows are still left.
  useEffect(() => {
    if (last >= n - 200) p.onNearEnd();
  }, [last, n]);

  function onScroll() {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      setScrollTop(scroller.current!.scrollTop);
    });
  }

  function reveal(i: number) {
    const el = scroller.current!;
    if (i * ROW_HEIGHT < el.scrollTop) el.scrollTop = i * ROW_HEIGHT;
    else if ((i + 1) * ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = (i + 1) * ROW_HEIGHT - el.clientHeight;
  }

  function rangeKeys(a: number, b: number): Set<string> {
    const out = new Set<string>();
    for (let i = Math.min(a, b); i <= Math.max(a, b); i++) if (p.entries[i]) out.add(p.entries[i].key);
    return out;
  }

  function moveTo(i: number, extend: boolean) {
    if (n === 0) return;
    const to = Math.max(0, Math.min(n - 1, i));
    const anchor = extend ? p.selection.anchor : to;
    p.onSelection({ keys: extend ? rangeKeys(anchor, to) : new Set([p.entries[to].key]), active: to, anchor });
    reveal(to);
  }

  function onKeyDown(e: KeyboardEvent) {
    const page = Math.max(1, Math.floor(viewport / ROW_HEIGHT) - 1);
    const cur = active < 0 ? -1 : active;
    const mod = e.ctrlKey || e.metaKey;
    let handled = true;
    if (e.key === 'ArrowDown') moveTo(cur + 1, e.shiftKey);
    else if (e.key === 'ArrowUp' && e.altKey) p.onParent();
    else if (e.key === 'ArrowUp') moveTo(cur < 0 ? 0 : cur - 1, e.shiftKey);
    else if (e.key === 'Home') moveTo(0, e.shiftKey);
    else if (e.key === 'End') moveTo(n - 1, e.shiftKey);
    else if (e.key === 'PageDown') moveTo(cur + page, e.shiftKey);
    else if (e.key === 'PageUp') moveTo(cur - page, e.shiftKey);
    else if (e.key === ' ' && cur >= 0) {
      const next = new Set(keys);
      const k = p.entries[cur].key;
      if (next.has(k)) next.delete(k);
      else next.add(k);
      p.onSelection({ keys: next, active: cur, anchor: cur });
    } else if (e.key === 'Enter' && cur >= 0) p.onOpen(p.entries[cur]);
    else if ((e.key === 'Delete' || (e.key === 'Backspace' && mod)) && keys.size) p.onDelete();
    else if (e.key === 'F2' && keys.size === 1) p.onRename();
    else if (e.key === 'Backspace') p.onParent();
    else if (mod && e.key.toLowerCase() === 'a') p.onSelection({ keys: rangeKeys(0, n - 1), active: cur, anchor: 0 });
    else if (e.key === 'Escape' && keys.size) p.onSelection({ keys: new Set(), active: cur, anchor: cur });
    else handled = false;
    if (handled) e.preventDefault();
  }

  function onRowClick(e: MouseEvent, i: number) {
    const entry = p.entries[i];
    const target = e.target as HTMLElement;
    if (target.closest('.row-name')) {
      p.onOpen(entry);
      return;
    }
    let next: Set<string>;
    let anchor = i;
    if (target.closest('.row-check') || e.ctrlKey || e.metaKey) {
      next = new Set(keys);
      if (next.has(entry.key)) next.delete(entry.key);
      else next.add(entry.key);
    } else if (e.shiftKey) {
      anchor = p.selection.anchor;
      next = rangeKeys(anchor, i);
    } else next = new Set([entry.key]);
    p.onSelection({ keys: next, active: i, anchor });
  }

  const sortButton = (key: SortKey, label: string, cls: string) => {
    const on = p.order.key === key;
    // Plain buttons (the rows are a listbox, not a grid): the state is part of the button's name.
    return (
      <div class={`col ${cls}`}>
        <button type="button" class="sort-button" onClick={() => p.onOrder(nextOrder(p.order, key))}>
          {label}
          {on && (
            <>
              <Icon name={p.order.descending ? 'down' : 'up'} size={14} />
              <span class="visually-hidden">, sorted {p.order.descending ? 'descending' : 'ascending'}</span>
            </>
          )}
        </button>
      </div>
    );
  };

  const rows: JSX.Element[] = [];
  for (let i = first; i < last; i++) {
    const e = p.entries[i];
    const selected = keys.has(e.key);
    rows.push(
      <div
        key={e.key}
        id={`row-${i}`}
        role="option"
        aria-selected={selected}
        aria-posinset={i + 1}
        aria-setsize={n}
        class={`row${selected ? ' selected' : ''}${i === active ? ' active' : ''}`}
        style={{ transform: `translateY(${i * ROW_HEIGHT}px)` }}
        onClick={(ev) => onRowClick(ev, i)}
        onDblClick={() => p.onOpen(e)}
      >
        <span class="row-check" aria-hidden="true">
          {selected && <Icon name="check" size={14} />}
        </span>
        <span class="col name">
          <Icon name={iconOf(e)} />
          <span class="row-name" title={p.displayName(e)}>
            {p.displayName(e)}
          </span>
        </span>
        <span class="col size">{e.folder ? '' : formatBytes(e.size)}</span>
        <span class="col modified">{formatDateTime(e.lastModified)}</span>
      </div>,
    );
  }

  return (
    <div class="file-list">
      <div class="list-head">
        <div class="row-check" aria-hidden="true" />
        {sortButton('name', 'Name', 'name')}
        {sortButton('size', 'Size', 'size')}
        {sortButton('modified', 'Modified', 'modified')}
      </div>
      <div
        ref={scroller}
        class="list-body"
        tabIndex={0}
        role="listbox"
        aria-multiselectable="true"
        aria-label={p.label}
        aria-activedescendant={active >= 0 && active < n ? `row-${active}` : undefined}
        onScroll={onScroll}
        onKeyDown={onKeyDown}
        onFocus={() => {
          if (active < 0 && n > 0) p.onSelection({ keys, active: 0, anchor: 0 });
        }}
      >
        <div class="list-spacer" style={{ height: `${n * ROW_HEIGHT}px` }}>
          {rows}
        </div>
      </div>
      {p.footer}
    </div>
  );
}
