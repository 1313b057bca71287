// Scores results of the http-cache-tests suite: of the required tests that
// apply to a shared cache (not browser-only), how many passed, and how many
// passed with every test they depend on passing too, which is how the
// suite's results page counts. Usage: node cache-tests-score.mjs SUITE_DIR RESULTS.json...
import fs from 'fs'
import path from 'path'
import { pathToFileURL } from 'url'

const [suiteDir, ...files] = process.argv.slice(2)
const load = async f => (await import(pathToFileURL(path.join(suiteDir, 'tests', f)).href)).default
const suites = await load('index.mjs')
suites.push(await load('surrogate-control.mjs'))
const byId = {}
for (const s of suites) for (const t of s.tests) byId[t.id] = t

const passed = (id, res, deps) => {
  const t = byId[id]
  if (res[id] !== true) return false
  return !deps || !t.depends_on || t.depends_on.every(d => passed(d, res, true))
}

for (const f of files) {
  const res = JSON.parse(fs.readFileSync(f))
  let required = 0; let raw = 0; let withDeps = 0
  const failed = []
  for (const [id, t] of Object.entries(byId)) {
    if (t.browser_only || !(t.kind === undefined || t.kind === 'required') || res[id] === undefined) continue
    required++
    if (passed(id, res, false)) raw++; else failed.push(id)
    if (passed(id, res, true)) withDeps++
  }
  console.log(`${path.basename(f)}: ${raw} of ${required} required passed; ${withDeps} counting prerequisites`)
  if (process.env.SHOW_FAILED) console.log('  ' + failed.join('\n  '))
}
