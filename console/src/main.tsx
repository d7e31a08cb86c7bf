// The console's entry point (bundled by console/build.ts).
import { render } from 'preact';
import { App } from './ui/app.tsx';

render(<App />, document.getElementById('app')!);
