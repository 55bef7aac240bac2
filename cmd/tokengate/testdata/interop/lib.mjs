// Shared by the interop scripts: each check prints one JSON line
// {"check", "ok", "detail"} that the Go test (cmd/tokengate/interop_test.go) reads.
export const base = process.env.TG_URL
export const id = process.env.TG_CLIENT_ID
export const secret = process.env.TG_CLIENT_SECRET

export async function check(name, fn) {
  try {
    const detail = await fn()
    console.log(JSON.stringify({ check: name, ok: true, detail: String(detail ?? '') }))
  } catch (err) {
    const detail = [err?.name, err?.code, err?.error, err?.message].filter(Boolean).join(': ')
    console.log(JSON.stringify({ check: name, ok: false, detail }))
  }
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg)
}

// login drives the gateway's login page like a browser and returns the
// redirect Location (the callback URL with code and state).
export async function login(authorizationURL, username, password) {
  const res = await submitPage(authorizationURL, { username, password })
  assert(res.status === 303, `login answered ${res.status}`)
  return new URL(res.headers.get('location'))
}

// approveDevice opens a device authorization's verification_uri_complete
// like a browser, signs in and allows the device.
export async function approveDevice(verificationURIComplete, username, password) {
  const userCode = new URL(verificationURIComplete).searchParams.get('user_code')
  const res = await submitPage(verificationURIComplete, { user_code: userCode, username, password })
  const done = await res.text()
  assert(res.status === 200 && done.includes('role="status"'), `the verification page answered ${res.status}: ${done}`)
}

// submitPage opens one of the gateway's form pages, fills in fields and
// allows, keeping the page's cookie (its CSRF token is bound to it).
async function submitPage(pageURL, fields) {
  const page = await fetch(pageURL, { redirect: 'manual' })
  const html = await page.text()
  assert(page.status === 200, `the page answered ${page.status}: ${html}`)
  const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
  const form = new URLSearchParams()
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(m[1], unescapeHTML(m[2]))
  }
  for (const [k, v] of Object.entries(fields)) form.set(k, v)
  form.set('decision', 'allow')
  const action = new URL(html.match(/<form method="post" action="([^"]+)"/)[1], pageURL)
  return fetch(action, { method: 'POST', body: form, headers: { cookie }, redirect: 'manual' })
}

function unescapeHTML(s) {
  return s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    .replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&amp;', '&')
}

