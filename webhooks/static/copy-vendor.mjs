// Copies the minified chart library out of node_modules so the service serves it from
// static/vendor/ (offline, no CDN); run by `npm ci` through the postinstall script.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const vendor = join(here, "vendor");
mkdirSync(vendor, { recursive: true });
copyFileSync(join(here, "node_modules/echarts/dist/echarts.min.js"), join(vendor, "echarts.min.js"));
copyFileSync(join(here, "node_modules/echarts/LICENSE"), join(vendor, "echarts.LICENSE"));
console.log("copied echarts.min.js into static/vendor/");
