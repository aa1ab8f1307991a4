// The web app's stylesheet: the Inter typeface (self-hosted: the pages load nothing from a
// CDN), Designsystemet's Digdir theme, then its components, in one file. Their licences
// (OFL-1.1, MIT, MIT) are named in it. Run by `make` (npm run build) and by the image.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const target = process.argv[2] ?? "../workers/api/web/static/designsystemet.css";
const fonts = join(dirname(target), "fonts");
const meta = (pkg) => JSON.parse(readFileSync(`node_modules/${pkg}/package.json`, "utf8"));
const notice = (pkg) => {
  const m = meta(pkg);
  return `/* ${m.name} ${m.version}, licence ${m.license} (node_modules/${pkg}/LICENSE) */\n`;
};

// Latin and Latin Extended cover Norwegian (æ, ø, å) and the names of most households.
const faces = [
  ["latin", "U+0000-00FF,U+0131,U+0152-0153,U+02BB-02BC,U+02C6,U+02DA,U+02DC,U+0304,U+0308,U+0329,U+2000-206F,U+20AC,U+2122,U+2191,U+2193,U+2212,U+2215,U+FEFF,U+FFFD"],
  ["latin-ext", "U+0100-02BA,U+02BD-02C5,U+02C7-02CC,U+02CE-02D7,U+02DD-02FF,U+0304,U+0308,U+0329,U+1D00-1DBF,U+1E00-1E9F,U+1EF2-1EFF,U+2020,U+20A0-20AB,U+20AD-20C0,U+2113,U+2C60-2C7F,U+A720-A7FF"],
];
mkdirSync(fonts, { recursive: true });
const fontCss = faces
  .map(([subset, range]) => {
    const file = `inter-${subset}-wght-normal.woff2`;
    copyFileSync(`node_modules/@fontsource-variable/inter/files/${file}`, join(fonts, file));
    return `@font-face{font-family:Inter;font-style:normal;font-display:swap;font-weight:100 900;src:url(fonts/${file}) format("woff2");unicode-range:${range}}`;
  })
  .join("\n");

const css = [
  notice("@fontsource-variable/inter"),
  fontCss,
  notice("@digdir/designsystemet-theme"),
  readFileSync("node_modules/@digdir/designsystemet-theme/brand/digdir.css", "utf8").replace(
    /^@charset "UTF-8";\s*/,
    "",
  ),
  notice("@digdir/designsystemet-css"),
  readFileSync("node_modules/@digdir/designsystemet-css/dist/src/index.css", "utf8"),
].join("\n");
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, '@charset "UTF-8";\n' + css);
console.log(`wrote ${target} (${css.length} bytes) and ${faces.length} fonts`);
