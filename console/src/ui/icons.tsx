// Icons as inline SVG (no icon font, nothing fetched): 20×20, stroke in currentColor.
import type { JSX } from 'preact';

const paths: Record<string, string> = {
  folder: 'M2.5 5.5a1 1 0 0 1 1-1h4l1.5 2h7.5a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1h-13a1 1 0 0 1-1-1z',
  file: 'M5 2.5h6.5l3.5 3.5v11a.5.5 0 0 1-.5.5h-9.5a.5.5 0 0 1-.5-.5v-14a.5.5 0 0 1 .5-.5zM11.5 2.5v3.5h3.5',
  image: 'M3 4h14v12h-14zM3 13l4-4 3 3 2-2 5 5M13 7.5a1 1 0 1 0 0 .01',
  text: 'M5 2.5h6.5l3.5 3.5v11.5h-10zM7.5 9.5h5M7.5 12h5M7.5 14.5h3',
  pdf: 'M5 2.5h6.5l3.5 3.5v11.5h-10zM7 13.5h6M7 10.5h6',
  upload: 'M10 13V3.5M6 7.5l4-4 4 4M3.5 13v3.5h13V13',
  download: 'M10 3.5V13M6 9l4 4 4-4M3.5 13v3.5h13V13',
  share: 'M8.5 11.5l3-3M7 9.5l-2 2a2.5 2.5 0 0 0 3.5 3.5l2-2M13 10.5l2-2a2.5 2.5 0 0 0-3.5-3.5l-2 2',
  trash: 'M3.5 5.5h13M8 5.5v-2h4v2M5 5.5l1 11h8l1-11M8.5 8.5v5M11.5 8.5v5',
  rename: 'M3.5 16.5h3l9-9-3-3-9 9zM11 6l3 3',
  plus: 'M10 4v12M4 10h12',
  folderPlus: 'M2.5 5.5a1 1 0 0 1 1-1h4l1.5 2h7.5a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1h-13a1 1 0 0 1-1-1zM10 9v5M7.5 11.5h5',
  refresh: 'M16 10a6 6 0 1 1-2-4.5M16 3.5v3h-3',
  chevron: 'M7.5 5l5 5-5 5',
  close: 'M5 5l10 10M15 5l-10 10',
  pause: 'M7 5v10M13 5v10',
  play: 'M6.5 4.5l9 5.5-9 5.5z',
  retry: 'M4 10a6 6 0 1 0 2-4.5M4 3.5v3h3',
  search: 'M8.5 14a5.5 5.5 0 1 0 0-11 5.5 5.5 0 0 0 0 11zM12.5 12.5l4 4',
  bucket: 'M3.5 5.5h13l-1.5 11h-10zM3.5 5.5c0-1.5 3-2.5 6.5-2.5s6.5 1 6.5 2.5',
  server: 'M3.5 3.5h13v5h-13zM3.5 11.5h13v5h-13zM6 6h.01M6 14h.01',
  user: 'M10 10a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7zM3.5 17.5c.5-3.5 3-5 6.5-5s6 1.5 6.5 5',
  logout: 'M8 3.5h-4.5v13h4.5M13 6.5l3.5 3.5-3.5 3.5M16.5 10h-9',
  copy: 'M7 7h9.5v9.5h-9.5zM13 7v-3.5h-9.5v9.5h3.5',
  check: 'M4 10.5l4 4 8-9',
  alert: 'M10 3l8 14h-16zM10 8.5v4M10 14.5v.01',
  up: 'M10 16V4M5 9l5-5 5 5',
  down: 'M10 4v12M5 11l5 5 5-5',
};

export type IconName = keyof typeof paths;

export function Icon({ name, size = 18, label }: { name: IconName; size?: number; label?: string }): JSX.Element {
  return (
    <svg
      class="icon"
      width={size}
      height={size}
      viewBox="0 0 20 20"
      fill="none"
      stroke="currentColor"
      stroke-width="1.6"
      stroke-linecap="round"
      stroke-linejoin="round"
      role={label ? 'img' : undefined}
      aria-label={label}
      aria-hidden={label ? undefined : 'true'}
    >
      <path d={paths[name]} />
    </svg>
  );
}
