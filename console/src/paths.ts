// Keys, folders and the app's URLs (pure). Folders are key prefixes ending in '/', as in S3 tools.

/** The last segment of a key or folder: 'a/b/' → 'b', 'a/c.txt' → 'c.txt'. */
export function nameOf(key: string): string {
  const trimmed = key.endsWith('/') ? key.slice(0, -1) : key;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** The folder that holds a key or folder: 'a/b/c.txt' → 'a/b/', 'a/' → ''. */
export function parentOf(key: string): string {
  const trimmed = key.endsWith('/') ? key.slice(0, -1) : key;
  const i = trimmed.lastIndexOf('/');
  return i < 0 ? '' : trimmed.slice(0, i + 1);
}

export interface Crumb {
  name: string;
  prefix: string;
}

/** Breadcrumbs of a folder: 'a/b/' → [{a, 'a/'}, {b, 'a/b/'}]. */
export function crumbs(prefix: string): Crumb[] {
  const out: Crumb[] = [];
  let at = 0;
  for (;;) {
    const i = prefix.indexOf('/', at);
    if (i < 0) break;
    out.push({ name: prefix.slice(at, i), prefix: prefix.slice(0, i + 1) });
    at = i + 1;
  }
  return out;
}

/** Why a file or folder name is not usable, or undefined when it is. */
export function nameProblem(name: string): string | undefined {
  if (!name.trim()) return 'The name is empty.';
  if (name.includes('/')) return 'A name cannot contain "/".';
  if (name === '.' || name === '..') return 'A name cannot be "." or "..".';
  if (new TextEncoder().encode(name).length > 255) return 'The name is too long.';
  return undefined;
}

export type PreviewKind = 'image' | 'text' | 'pdf';

const IMAGE = new Set(['png', 'jpg', 'jpeg', 'gif', 'webp', 'avif', 'bmp', 'ico']);
const TEXT = new Set([
  'txt',
  'md',
  'csv',
  'tsv',
  'json',
  'yaml',
  'yml',
  'log',
  'xml',
  'toml',
  'ini',
  'conf',
  'ts',
  'tsx',
  'js',
  'mjs',
  'css',
  'html',
  'sh',
  'py',
  'go',
  'rs',
  'java',
  'c',
  'h',
  'sql',
  'env',
]);

/** What the preview can show for a key (by its extension; SVG is shown as text, never run). */
export function previewKind(key: string): PreviewKind | undefined {
  const name = nameOf(key).toLowerCase();
  const dot = name.lastIndexOf('.');
  const ext = dot < 0 ? '' : name.slice(dot + 1);
  if (IMAGE.has(ext)) return 'image';
  if (ext === 'pdf') return 'pdf';
  if (TEXT.has(ext) || ext === 'svg' || name === 'readme' || name === 'license') return 'text';
  return undefined;
}

/** The app's address of a folder: /b/<bucket>/<segments...>/ with each segment escaped. */
export function folderPath(bucket: string, prefix: string): string {
  return `/b/${encodeURIComponent(bucket)}/${crumbs(prefix)
    .map((c) => encodeURIComponent(c.name) + '/')
    .join('')}`;
}

/** The bucket and folder of an app path; undefined when it is not a folder address. */
export function parseFolderPath(path: string): { bucket: string; prefix: string } | undefined {
  const m = /^\/b\/([^/]+)\/?(.*)$/.exec(path);
  if (!m) return undefined;
  try {
    const rest = m[2];
    const segments = rest ? rest.replace(/\/$/, '').split('/').map(decodeURIComponent) : [];
    return { bucket: decodeURIComponent(m[1]), prefix: segments.map((s) => s + '/').join('') };
  } catch {
    return undefined;
  }
}
