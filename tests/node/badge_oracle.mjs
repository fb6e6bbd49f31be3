// Test oracle: renders badges with the real badge-maker so tests/test_svg.py can compare.
// Usage: node badge_oracle.mjs NODE_MODULES_DIR < {"badges": [...], "internal": [...], "widths": [[text, font], ...]}
// "badges" are makeBadge specs (the public API: logoBase64, no logo width); "internal" specs go to
// badge-maker's own lib/make-badge.js, as shields.io's server calls it (logo, logoWidth).
// "icons" are simple-icons slugs: their {title, hex, svg} come back (for the built-in logos).
// Prints {"badges": [svg...], "internal": [svg...], "widths": [number...], "icons": {...}} on stdout.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const modules = resolve(process.argv[2])
const { makeBadge } = await import(
  pathToFileURL(join(modules, 'badge-maker', 'lib', 'index.js')).href
)
const { default: makeBadgeInternal } = await import(
  pathToFileURL(join(modules, 'badge-maker', 'lib', 'make-badge.js')).href
)
const measure = createRequire(join(modules, 'noop.js'))('anafanafo')

const request = JSON.parse(readFileSync(0, 'utf8'))
const icons = {}
if (request.icons && request.icons.length) {
  const simpleIcons = await import(pathToFileURL(join(modules, 'simple-icons', 'index.mjs')).href)
  for (const icon of Object.values(simpleIcons)) {
    if (icon && request.icons.includes(icon.slug)) {
      icons[icon.slug] = { title: icon.title, hex: icon.hex, svg: icon.svg }
    }
  }
}
const badges = (request.badges || []).map(spec => makeBadge(spec))
const internal = (request.internal || []).map(spec => makeBadgeInternal(spec))
const widths = (request.widths || []).map(([text, font]) => measure(text, { font }))
process.stdout.write(JSON.stringify({ badges, internal, widths, icons }))
