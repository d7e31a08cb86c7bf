// Types of stripped-sources.js (plain JavaScript: see there why).
export declare const appRoot: string;
export declare function strippedDir(env?: NodeJS.ProcessEnv): string;
export declare function strippedPath(dir: string, root: string, file: string, source: string): string;
export declare function useStrippedSources(dir?: string, root?: string): void;
export declare function stripSources(dir?: string, root?: string): number;
