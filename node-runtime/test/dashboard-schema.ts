// Validate a Grafana dashboard JSON against Grafana's own packaged schema. @grafana/schema ships
// the dashboard schema as TypeScript types generated from Grafana's CUE definitions (no JSON
// Schema is published on npm), so the check compiles `<dashboard> satisfies Dashboard` in memory
// with the TypeScript compiler: wrong field types, unknown fields and missing required fields
// are reported as the compiler's messages. Used by tests.
import ts from 'typescript';
import { fileURLToPath } from 'node:url';

// A virtual file inside the repository, so `@grafana/schema` resolves from its node_modules.
const virtualFile = fileURLToPath(new URL('./__dashboard_schema_check__.ts', import.meta.url));

/** Compiler messages for a dashboard JSON text that does not fit Grafana's `Dashboard` type ([] when it fits). */
export function checkDashboardSchema(dashboardJson: string): string[] {
  JSON.parse(dashboardJson); // plain JSON first: a syntax error should read as one
  // Grafana's string enums (ThresholdsMode, MappingType, ...) are TypeScript enums, to which the
  // JSON's string literals are not assignable; \`\${E}\` turns each enum into the union of its values.
  const source = [
    `import type { Dashboard } from '@grafana/schema';`,
    'type Json<T> = T extends string ? `${T}` : T extends readonly (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;',
    `export const dashboard = ${dashboardJson} satisfies Json<Dashboard>;`,
  ].join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError, create) =>
    name === virtualFile ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, onError, create);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === virtualFile || fileExists(name);
  const program = ts.createProgram([virtualFile], options, host);
  const diagnostics = [...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics()];
  return diagnostics.map((d) => {
    const where = d.file && d.start !== undefined ? describeLocation(d.file, d.start) : '';
    return `${where}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

// Point at the dashboard JSON line the compiler complains about.
function describeLocation(file: ts.SourceFile, pos: number): string {
  const { line } = file.getLineAndCharacterOfPosition(pos);
  const text = file.text.split('\n')[line]?.trim().slice(0, 80) ?? '';
  return `dashboard JSON line ${line - 1} (${text}): `; // the JSON starts on the third source line
}
