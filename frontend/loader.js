// Starts the app. Trunk writes the content-hashed names of the wasm-bindgen module and the wasm
// file onto this script's element (Trunk.toml, pattern_script), so the loader is a file of its
// own rather than an inline script, and the Content-Security-Policy needs no 'unsafe-inline' and
// no per-build hash: script-src 'self' 'wasm-unsafe-eval' is enough.
const loader = document.querySelector("script[data-duet-module]");
const moduleUrl = new URL(loader.dataset.duetModule, document.baseURI);
const wasmUrl = new URL(loader.dataset.duetWasm, document.baseURI);
const { default: init } = await import(moduleUrl.href);
await init({ module_or_path: wasmUrl.href });
