// Gives the web app's wasm imports short names, in the wasm and in wasm-bindgen's JS glue alike,
// then names both files by a hash of their new content and updates index.html (names, integrity
// hashes). Run by scripts/build-frontend on dist/ after trunk:
// `node scripts/shorten-wasm-imports.mjs dist`.
//
// wasm-bindgen names every import `__wbg_<function>_<16 hex digits>`; the 240 or so names are
// written twice (the wasm's import section, the glue's import object), about 8 KB each, and the
// hex digits barely compress: 7 KB of gzip for nothing. The new names are `a`, `b`, ... `ba`, ...
// Anything unexpected in the glue stops the build instead of shipping a bundle that cannot start:
// every renamed import must be exactly one `name:` key of the import object, written nowhere else.
import { createHash } from "node:crypto";
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dist = process.argv[2] ?? "dist";
const fail = (why) => {
    console.error(`shorten-wasm-imports: ${why}`);
    process.exit(1);
};

const indexPath = join(dist, "index.html");
const index = readFileSync(indexPath, "utf8");
const attribute = (name) =>
    (index.match(new RegExp(`${name}="\\./([^"]+)"`)) ?? fail(`no ${name} in ${indexPath}`))[1];
const jsName = attribute("data-duet-module");
const wasmName = attribute("data-duet-wasm");
const wasm = readFileSync(join(dist, wasmName));
let js = readFileSync(join(dist, jsName), "utf8");

// --- The wasm: LEB128 numbers and names ------------------------------------------------------
const readUnsigned = (bytes, at) => {
    let value = 0;
    let shift = 0;
    for (;;) {
        const byte = bytes[at++];
        value += (byte & 0x7f) * 2 ** shift;
        shift += 7;
        if (byte < 0x80) return [value, at];
    }
};
const unsigned = (value) => {
    const bytes = [];
    do {
        let byte = value % 128;
        value = Math.floor(value / 128);
        if (value > 0) byte |= 0x80;
        bytes.push(byte);
    } while (value > 0);
    return Buffer.from(bytes);
};
const readName = (bytes, at) => {
    const [length, start] = readUnsigned(bytes, at);
    return [bytes.toString("utf8", start, start + length), start + length];
};
const name = (text) => {
    const bytes = Buffer.from(text, "utf8");
    return Buffer.concat([unsigned(bytes.length), bytes]);
};

// `a`..`z`, `A`..`Z`, then two letters: valid JS keys, never `__proto__`.
const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const shortName = (index) => {
    let text = "";
    do {
        text = letters[index % letters.length] + text;
        index = Math.floor(index / letters.length);
    } while (index > 0);
    return text;
};

// The import object's module, as the glue names it: `"./frontend_bg.js": import0`.
const importModule = (js.match(/\n\s*"([^"]+)": import0,?\n/) ?? fail(`no import object in ${jsName}`))[1];
const occurrences = (text) => js.split(text).length - 1;

if (wasm.readUInt32LE(0) !== 0x6d736100) fail(`${wasmName} is not a wasm module`);
const parts = [wasm.subarray(0, 8)];
let at = 8;
let renamed = 0;
while (at < wasm.length) {
    const id = wasm[at];
    const [size, bodyStart] = readUnsigned(wasm, at + 1);
    const bodyEnd = bodyStart + size;
    if (id !== 2) {
        parts.push(wasm.subarray(at, bodyEnd));
        at = bodyEnd;
        continue;
    }
    // The import section: module, field, then the import's kind and type, copied as they are.
    const [count, first] = readUnsigned(wasm, bodyStart);
    const entries = [unsigned(count)];
    let cursor = first;
    for (let entry = 0; entry < count; entry++) {
        const [module, afterModule] = readName(wasm, cursor);
        const [field, afterField] = readName(wasm, afterModule);
        const kind = wasm[afterField];
        let end = afterField + 1;
        if (kind === 0) [, end] = readUnsigned(wasm, end); // function: type index
        else if (kind === 1) { // table: reference type, limits
            end += 1;
            const flags = wasm[end++];
            [, end] = readUnsigned(wasm, end);
            if (flags & 1) [, end] = readUnsigned(wasm, end);
        } else if (kind === 2) { // memory: limits
            const flags = wasm[end++];
            [, end] = readUnsigned(wasm, end);
            if (flags & 1) [, end] = readUnsigned(wasm, end);
        } else if (kind === 3) end += 2; // global: value type, mutability
        else fail(`import ${module}.${field} has an unknown kind ${kind}`);
        let newField = field;
        if (module === importModule) {
            const key = `\n        ${field}: `;
            if (occurrences(key) !== 1 || occurrences(field) !== 1) {
                fail(`${field} is not exactly one key of ${jsName}'s import object`);
            }
            newField = shortName(renamed++);
            js = js.replace(key, `\n        ${newField}: `);
        }
        entries.push(name(module), name(newField), wasm.subarray(afterField, end));
        cursor = end;
    }
    if (cursor !== bodyEnd) fail(`${wasmName}'s import section did not parse to its end`);
    const body = Buffer.concat(entries);
    parts.push(Buffer.from([2]), unsigned(body.length), body);
    at = bodyEnd;
}
if (renamed === 0) fail(`no import of ${importModule} in ${wasmName}`);
const newWasm = Buffer.concat(parts);

// --- New names and index.html ---------------------------------------------------------------
// Trunk's `<name>-<hash>` comes from cargo's wasm, before this step: the same name could then
// stand for the glue and wasm of before and after it, and the server lets browsers cache hashed
// files for good. So both files get a hash of their final content instead (16 hex digits, the
// shape `backend/src/static_files.rs` recognises), and index.html their names and integrity.
const jsBytes = Buffer.from(js, "utf8");
const oldBase = jsName.replace(/\.js$/, "");
if (wasmName !== `${oldBase}_bg.wasm` || !/-[0-9a-f]{1,16}$/.test(oldBase)) {
    fail(`unexpected file names ${jsName}, ${wasmName}`);
}
const contentHash = createHash("sha256").update(jsBytes).update(newWasm).digest("hex").slice(0, 16);
const newBase = oldBase.replace(/-[0-9a-f]+$/, `-${contentHash}`);
const newJsName = `${newBase}.js`;
const newWasmName = `${newBase}_bg.wasm`;
if (index.split(oldBase).length - 1 !== 4) fail(`${indexPath} does not name ${oldBase} exactly four times`);
writeFileSync(join(dist, newWasmName), newWasm);
writeFileSync(join(dist, newJsName), jsBytes);
if (newBase !== oldBase) {
    unlinkSync(join(dist, wasmName));
    unlinkSync(join(dist, jsName));
}

const integrity = (bytes) => `sha384-${createHash("sha384").update(bytes).digest("base64")}`;
let newIndex = index.split(oldBase).join(newBase);
for (const [file, bytes] of [[newJsName, jsBytes], [newWasmName, newWasm]]) {
    const link = new RegExp(`(href="\\./${file.replace(/[.]/g, "\\.")}"[^>]*integrity=")sha384-[^"]+"`, "g");
    if ((newIndex.match(link) ?? []).length !== 1) fail(`no single integrity attribute for ${file} in ${indexPath}`);
    newIndex = newIndex.replace(link, `$1${integrity(bytes)}"`);
}
writeFileSync(indexPath, newIndex);
console.error(`shorten-wasm-imports: ${renamed} imports renamed (${wasm.length} -> ${newWasm.length} wasm bytes), ${newBase}`);
