// The file browser of one bucket: breadcrumbs, toolbar, the (virtualised) list of a folder, of a
// prefix search or of a search by tag under the folder, the selection's actions, drag-and-drop
// uploads, and the dialogs. Every action is an API call made as the signed-in user; the list is
// edited in place rather than reloaded, so a folder of 100,000 keys keeps its place after an upload
// or a delete.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ObjectEntry } from '../../../../node-runtime/src/console/api.ts';
import { api } from '../../api.ts';
import { formatCount } from '../../format.ts';
import { visibleEntries, type SortOrder } from '../../listing.ts';
import { crumbs, folderPath, nameOf, parentOf } from '../../paths.ts';
import { linkClick, navigate } from '../../router.ts';
import { droppedFiles, pickedFiles, type PickedFile } from '../../uploads/drop.ts';
import type { Uploads } from '../app.tsx';
import { ErrorBanner, Spinner } from '../feedback.tsx';
import { Icon } from '../icons.tsx';
import { DeleteDialog, NewFolderDialog, RenameDialog, ShareDialog } from './dialogs.tsx';
import { FileList, type Selection } from './file-list.tsx';
import { PreviewDialog } from './preview.tsx';
import { LOAD_ALL_CAP, type Search, useFolder } from './use-folder.ts';

type Dialog =
  | { kind: 'folder' }
  | { kind: 'rename'; entry: ObjectEntry }
  | { kind: 'delete'; keys: string[] }
  | { kind: 'share'; entry: ObjectEntry }
  | { kind: 'preview'; entry: ObjectEntry };

const emptySelection = (): Selection => ({ keys: new Set(), active: -1, anchor: -1 });

export function FileBrowser({ bucket, prefix, uploads }: { bucket: string; prefix: string; uploads: Uploads }) {
  const [query, setQuery] = useState('');
  const [search, setSearch] = useState<Search | undefined>();
  const [searchBy, setSearchBy] = useState<Search['by']>('prefix');
  const [order, setOrder] = useState<SortOrder>({ key: 'name', descending: false });
  const [selection, setSelection] = useState<Selection>(emptySelection);
  const [dialog, setDialog] = useState<Dialog | undefined>();
  const [notice, setNotice] = useState('');
  const [actionError, setActionError] = useState('');
  const [dragging, setDragging] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLDivElement>(null);
  const folder = useFolder(bucket, prefix, search);
  const folderNow = useRef(folder);
  folderNow.current = folder;

  // A new folder or search starts with a clean slate.
  useEffect(() => {
    setSelection(emptySelection());
    setQuery('');
    setSearch(undefined);
    setActionError('');
  }, [prefix]);
  useEffect(() => setSelection(emptySelection()), [search]);

  // Typing filters the names loaded; in tag mode the text is a tag, searched on Enter.
  const filter = search === undefined && searchBy === 'prefix' ? query : '';
  const rows = useMemo(() => visibleEntries(folder.entries, order, filter), [folder.version, order, filter]);
  // Sorting by size or date, or filtering, needs the whole folder, not the first pages.
  useEffect(() => {
    if (order.key !== 'name' || order.descending || filter) folder.loadAll();
  }, [order, filter, folder.version]);

  // Finished uploads appear in place (a file here, or the folder it went into).
  useEffect(() => {
    const onDone = (item: { bucket: string; key: string; size: number }) => {
      if (item.bucket !== bucket || search !== undefined || !item.key.startsWith(prefix)) return;
      const folder = folderNow.current;
      const rest = item.key.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash >= 0) {
        const key = prefix + rest.slice(0, slash + 1);
        if (!folder.entries.some((e) => e.key === key)) folder.upsert({ key, folder: true, size: 0 });
      } else folder.upsert({ key: item.key, folder: false, size: item.size, lastModified: new Date().toISOString() });
    };
    uploads.onFileDone.add(onDone);
    return () => {
      uploads.onFileDone.delete(onDone);
    };
  }, [bucket, prefix, search]);

  const selected = rows.filter((e) => selection.keys.has(e.key));
  const single = selected.length === 1 ? selected[0] : undefined;
  const displayName = (e: ObjectEntry) => (search !== undefined ? e.key.slice(prefix.length) : nameOf(e.key));

  function open(e: ObjectEntry) {
    if (e.folder) navigate(folderPath(bucket, e.key));
    else setDialog({ kind: 'preview', entry: e });
  }

  function upload(files: PickedFile[]) {
    if (files.length === 0) return;
    uploads.queue.add(
      bucket,
      files.map((f) => ({ key: prefix + f.path, file: f.file })),
    );
  }

  function download(e: ObjectEntry) {
    const a = document.createElement('a');
    a.href = api.contentUrl(bucket, e.key, 'attachment');
    a.download = nameOf(e.key);
    document.body.append(a);
    a.click();
    a.remove();
  }

  function closeDialog() {
    setDialog(undefined);
    listRef.current?.querySelector<HTMLElement>('.list-body')?.focus();
  }

  async function onDrop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    if (e.dataTransfer) upload(await droppedFiles(e.dataTransfer));
  }

  const tagScan = folder.tagScan;
  const status =
    tagScan && !(folder.loading && tagScan.scanned === 0) ? (
      `${formatCount(rows.length)} found in ${formatCount(tagScan.scanned)} key${tagScan.scanned === 1 ? '' : 's'} searched` +
      (folder.complete ? '' : folder.loading ? ' · searching…' : ' · paused')
    ) : folder.loading && folder.entries.length === 0 ? (
      <Spinner />
    ) : (
      `${formatCount(rows.length)}${filter ? ` of ${formatCount(folder.entries.length)}` : ''} item${rows.length === 1 ? '' : 's'}` +
      (folder.complete
        ? ''
        : folder.entries.length >= LOAD_ALL_CAP
          ? ` · showing the first ${formatCount(LOAD_ALL_CAP)}`
          : folder.loading
            ? ' · loading more…'
            : ' · more when you scroll')
    );

  return (
    <section
      class={`browser${dragging ? ' dragging' : ''}`}
      aria-label={`Files in ${bucket}`}
      onDragEnter={(e) => {
        if (e.dataTransfer?.types.includes('Files')) {
          e.preventDefault();
          setDragging(true);
        }
      }}
      onDragOver={(e) => {
        if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
      }}
      onDragLeave={(e) => {
        if (e.target === e.currentTarget || !(e.currentTarget as Node).contains(e.relatedTarget as Node)) setDragging(false);
      }}
      onDrop={onDrop}
    >
      <nav class="breadcrumbs" aria-label="Folder">
        <ol>
          <li>
            <a href="/buckets" onClick={linkClick('/buckets')}>
              Buckets
            </a>
          </li>
          <li>
            <a href={folderPath(bucket, '')} onClick={linkClick(folderPath(bucket, ''))} aria-current={prefix === '' ? 'page' : undefined}>
              {bucket}
            </a>
          </li>
          {crumbs(prefix).map((c) => (
            <li key={c.prefix}>
              <a href={folderPath(bucket, c.prefix)} onClick={linkClick(folderPath(bucket, c.prefix))} aria-current={c.prefix === prefix ? 'page' : undefined}>
                {c.name || '(empty)'}
              </a>
            </li>
          ))}
        </ol>
      </nav>

      <div class="toolbar" role="toolbar" aria-label="Folder actions">
        <button type="button" class="button" onClick={() => setDialog({ kind: 'folder' })}>
          <Icon name="folderPlus" />
          <span class="hide-narrow">New folder</span>
        </button>
        <button type="button" class="button primary" onClick={() => fileInput.current!.click()}>
          <Icon name="upload" />
          <span class="hide-narrow">Upload files</span>
        </button>
        <button type="button" class="button" onClick={() => folderInput.current!.click()}>
          <Icon name="folder" />
          <span class="hide-narrow">Upload folder</span>
        </button>
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          data-testid="upload-files"
          onChange={(e) => {
            upload(pickedFiles(e.currentTarget.files!));
            e.currentTarget.value = '';
          }}
        />
        <input
          ref={folderInput}
          type="file"
          multiple
          hidden
          data-testid="upload-folder"
          {...{ webkitdirectory: true }}
          onChange={(e) => {
            upload(pickedFiles(e.currentTarget.files!));
            e.currentTarget.value = '';
          }}
        />
        <form
          class="search"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            if (searchBy === 'prefix') setSearch(query ? { by: 'prefix', text: query } : undefined);
            else if (!query.trim()) setActionError('Enter a tag to search for: key=value, or key alone for any value.');
            else {
              setActionError('');
              setSearch({ by: 'tag', text: query.trim() });
            }
          }}
        >
          <Icon name="search" />
          <input
            type="search"
            placeholder={searchBy === 'tag' ? 'key=value or key, then Enter' : 'Filter · Enter: prefix search'}
            aria-label={
              searchBy === 'tag'
                ? 'Tag to search for in this folder and its subfolders (key=value, or key)'
                : 'Filter this folder, or press Enter to search by prefix'
            }
            value={query}
            onInput={(e) => setQuery(e.currentTarget.value)}
          />
          <select aria-label="Search by" value={searchBy} onChange={(e) => setSearchBy(e.currentTarget.value as Search['by'])}>
            <option value="prefix">Name</option>
            <option value="tag">Tag</option>
          </select>
        </form>
        <button type="button" class="button" onClick={folder.reload} aria-label="Refresh">
          <Icon name="refresh" />
        </button>
      </div>

      {search !== undefined && (
        <p class="search-note" role="status">
          {search.by === 'prefix' ? (
            <span>
              Keys starting with “{prefix}
              {search.text}”
            </span>
          ) : (
            <span>
              Objects tagged “{search.text}” in {bucket}/{prefix} and its subfolders
              {tagScan?.unreadable ? ` · ${formatCount(tagScan.unreadable)} whose tags you may not read` : ''}
            </span>
          )}{' '}
          {tagScan?.waiting && (
            <button type="button" class="button small" onClick={folder.searchOn}>
              <Icon name="search" size={14} />
              Search on
            </button>
          )}
          <button
            type="button"
            class="button small"
            onClick={() => {
              setSearch(undefined);
              setQuery('');
            }}
          >
            <Icon name="close" size={14} />
            Clear search
          </button>
        </p>
      )}

      <div class="selection-bar" role="toolbar" aria-label="Selection actions">
        <span class="selection-count" aria-live="polite">
          {selected.length ? `${formatCount(selected.length)} selected` : 'Nothing selected'}
        </span>
        <button type="button" class="button small" disabled={!single || single.folder} onClick={() => single && download(single)}>
          <Icon name="download" size={16} />
          <span class="hide-narrow">Download</span>
        </button>
        <button type="button" class="button small" disabled={!single || single.folder} onClick={() => single && setDialog({ kind: 'share', entry: single })}>
          <Icon name="share" size={16} />
          <span class="hide-narrow">Share</span>
        </button>
        <button type="button" class="button small" disabled={!single} onClick={() => single && setDialog({ kind: 'rename', entry: single })}>
          <Icon name="rename" size={16} />
          <span class="hide-narrow">Rename</span>
        </button>
        <button
          type="button"
          class="button small danger-text"
          disabled={!selected.length}
          onClick={() => setDialog({ kind: 'delete', keys: selected.map((e) => e.key) })}
        >
          <Icon name="trash" size={16} />
          <span class="hide-narrow">Delete</span>
        </button>
      </div>

      {folder.error && <ErrorBanner message={folder.error} onRetry={folder.errorFinal ? undefined : folder.entries.length ? folder.loadMore : folder.reload} />}
      {actionError && <ErrorBanner message={actionError} onDismiss={() => setActionError('')} />}
      <p class="visually-hidden" role="status" aria-live="polite">
        {notice}
      </p>

      <div ref={listRef} class="list-wrap">
        <FileList
          entries={rows}
          label={`Files in ${bucket}/${prefix}`}
          displayName={displayName}
          selection={selection}
          onSelection={setSelection}
          order={order}
          onOrder={setOrder}
          onOpen={open}
          onNearEnd={folder.loadMore}
          onDelete={() => selected.length && setDialog({ kind: 'delete', keys: selected.map((e) => e.key) })}
          onRename={() => single && setDialog({ kind: 'rename', entry: single })}
          onParent={() => {
            if (prefix) navigate(folderPath(bucket, parentOf(prefix)));
          }}
          footer={<div class="list-foot">{status}</div>}
        />
        {!folder.loading && folder.complete && folder.entries.length === 0 && !folder.error && (
          <div class="list-empty">
            <Icon name="upload" size={32} />
            <p>
              {search?.by === 'tag'
                ? 'Nothing in this folder or its subfolders carries that tag.'
                : search
                  ? 'No keys start with that.'
                  : 'This folder is empty. Drop files here or use Upload.'}
            </p>
          </div>
        )}
        {dragging && (
          <div class="drop-overlay" aria-hidden="true">
            <Icon name="upload" size={40} />
            <p>
              Drop to upload to {bucket}/{prefix}
            </p>
          </div>
        )}
      </div>

      {dialog?.kind === 'folder' && (
        <NewFolderDialog
          bucket={bucket}
          prefix={prefix}
          onClose={closeDialog}
          onCreated={(key) => {
            folder.upsert({ key, folder: true, size: 0 });
            setNotice(`Folder ${nameOf(key)} created`);
            closeDialog();
          }}
        />
      )}
      {dialog?.kind === 'rename' && (
        <RenameDialog
          bucket={bucket}
          entry={dialog.entry}
          onClose={closeDialog}
          onMoved={(to) => {
            folder.remove([dialog.entry.key]);
            if (parentOf(to) === prefix) folder.upsert({ ...dialog.entry, key: to });
            setSelection(emptySelection());
            setNotice(`Moved to ${to}`);
            closeDialog();
          }}
        />
      )}
      {dialog?.kind === 'delete' && (
        <DeleteDialog
          bucket={bucket}
          keys={dialog.keys}
          onClose={closeDialog}
          onDeleted={(keys, failed) => {
            folder.remove(keys.filter((k) => !failed.includes(k)));
            setSelection(emptySelection());
            if (failed.length) setActionError(`${failed.length} item(s) could not be deleted.`);
            setNotice(`Deleted ${keys.length - failed.length} item(s)`);
            closeDialog();
          }}
        />
      )}
      {dialog?.kind === 'share' && <ShareDialog bucket={bucket} entry={dialog.entry} onClose={closeDialog} />}
      {dialog?.kind === 'preview' && (
        <PreviewDialog bucket={bucket} entry={dialog.entry} onClose={closeDialog} onShare={() => setDialog({ kind: 'share', entry: dialog.entry })} />
      )}
    </section>
  );
}
