/// <reference types="vite/client" />
declare const __AIRLOCK_VERSION__: string;
declare const __PYODIDE_VERSION__: string;
declare module '*?iife' {
  const source: string;
  export default source;
}
