// Parses every ```mermaid block of the Markdown files given with Mermaid's own parser
// (mermaid.parse, the same code that renders them), in one headless Debian chromium page.
// Prints one line per block that does not parse and exits 1 if any; prints the count parsed.
// usage: node parse.mjs CHROMIUM FILE.md...
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import puppeteer from 'puppeteer';

const require = createRequire(import.meta.url);
const [chromium, ...files] = process.argv.slice(2);
if (!chromium || files.length === 0) {
  console.error('usage: node parse.mjs CHROMIUM FILE.md...');
  process.exit(2);
}
const blocks = [];
for (const file of files) {
  const lines = readFileSync(file, 'utf8').split('\n');
  let cur = null;
  lines.forEach((line, i) => {
    if (cur === null && line === '```mermaid') cur = { file, line: i + 1, text: [] };
    else if (cur !== null && line === '```') { blocks.push({ ...cur, text: cur.text.join('\n') }); cur = null; }
    else if (cur !== null) cur.text.push(line);
  });
  if (cur !== null) blocks.push({ ...cur, text: null });  // a fence never closed
}
const browser = await puppeteer.launch({
  executablePath: chromium,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
let failed = 0;
try {
  const page = await browser.newPage();
  await page.setContent('<!doctype html><html><body></body></html>');
  await page.addScriptTag({ path: require.resolve('mermaid/dist/mermaid.min.js') });
  await page.evaluate(() => window.mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' }));
  for (const b of blocks) {
    const err = b.text === null ? 'code fence not closed'
      : await page.evaluate(async (text) => {
          try { await window.mermaid.parse(text); return null; } catch (e) { return String(e && e.message || e); }
        }, b.text);
    if (err !== null) {
      failed++;
      console.log(`${b.file}:${b.line}: ${err.split('\n').slice(0, 4).join(' | ')}`);
    }
  }
} finally {
  await browser.close();
}
console.log(`${blocks.length - failed} of ${blocks.length} diagrams parse`);
process.exit(failed === 0 && blocks.length > 0 ? 0 : 1);
