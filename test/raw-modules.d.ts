// Vite's `?raw` imports: the file's text, used for the .eml fixtures.
declare module '*?raw' {
  const content: string
  export default content
}
