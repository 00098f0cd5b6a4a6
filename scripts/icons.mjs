// The installable app's PNG icons, rendered at build time (`make assets`) from the
// one drawing in the repository, static/icons/app.svg, into static/vendor/icons/
// (git-ignored, like the other built files). resvg-js comes from the npm registry
// with its prebuilt renderer (package-lock.json).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Resvg } from "@resvg/resvg-js";

const svg = readFileSync("static/icons/app.svg");
mkdirSync("static/vendor/icons", { recursive: true });
for (const size of [192, 512]) {
  const png = new Resvg(svg, { fitTo: { mode: "width", value: size } }).render().asPng();
  writeFileSync(`static/vendor/icons/icon-${size}.png`, png);
  console.log(`static/vendor/icons/icon-${size}.png (${size}x${size}, ${png.length} bytes)`);
}
