/** Vite's `?raw` imports (file text as a string), used by the dashboards test inside workerd. */
declare module "*?raw" {
  const text: string;
  export default text;
}
