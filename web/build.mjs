// The web app's stylesheet: Designsystemet's Digdir theme, then its components, in one file
// (both MIT-licensed; their notices are kept). Run by `make` (npm run build) and the image.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";

const target = process.argv[2] ?? "../workers/api/web/static/designsystemet.css";
const parts = [
  "node_modules/@digdir/designsystemet-theme/brand/digdir.css",
  "node_modules/@digdir/designsystemet-css/dist/src/index.css",
];
const notice = (pkg) => {
  const meta = JSON.parse(readFileSync(`node_modules/${pkg}/package.json`, "utf8"));
  return `/* ${meta.name} ${meta.version}, ${meta.license} licence: node_modules/${pkg}/LICENSE */\n`;
};
const css = [
  notice("@digdir/designsystemet-theme"),
  readFileSync(parts[0], "utf8").replace(/^@charset "UTF-8";\s*/, ""),
  notice("@digdir/designsystemet-css"),
  readFileSync(parts[1], "utf8"),
].join("\n");
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, '@charset "UTF-8";\n' + css);
console.log(`wrote ${target} (${css.length} bytes)`);
