// What was dropped: files and whole folders (walked through the File System Entry API), each with
// its path relative to the drop, so a dropped folder keeps its tree under the current folder.
export interface PickedFile {
  path: string;
  file: File;
}

export async function droppedFiles(data: DataTransfer): Promise<PickedFile[]> {
  const entries = [...data.items].map((i) => (i.kind === 'file' ? i.webkitGetAsEntry?.() : null));
  if (entries.some((e) => e)) {
    const out: PickedFile[] = [];
    for (const e of entries) if (e) await walk(e, '', out);
    return out;
  }
  return [...data.files].map((file) => ({ path: file.name, file }));
}

async function walk(entry: FileSystemEntry, base: string, out: PickedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ path: base + entry.name, file });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries answers in batches (100 in Chromium) until it returns none.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, `${base}${entry.name}/`, out);
  }
}

/** Files from an <input type=file> (with webkitdirectory they carry their relative path). */
export function pickedFiles(list: FileList): PickedFile[] {
  return [...list].map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}
