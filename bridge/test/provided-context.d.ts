// What global-setup.js hands every test file through project.provide / inject.
declare module 'vitest' {
  export interface ProvidedContext {
    stack: import('./helpers.js').Stack
  }
}
export {}
