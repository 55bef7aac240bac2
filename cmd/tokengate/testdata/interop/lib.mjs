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
  const page = await fetch(authorizationURL, { redirect: 'manual' })
  const html = await page.text()
  assert(page.status === 200, `login page answered ${page.status}: ${html}`)
  const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
  const form = new URLSearchParams()
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(m[1], unescapeHTML(m[2]))
  }
  form.set('username', username)
  form.set('password', password)
  form.set('decision', 'allow')
  const action = new URL(html.match(/<form method="post" action="([^"]+)"/)[1], authorizationURL)
  const res = await fetch(action, { method: 'POST', body: form, headers: { cookie }, redirect: 'manual' })
  assert(res.status === 303, `login answered ${res.status}`)
  return new URL(res.headers.get('location'))
}

function unescapeHTML(s) {
  return s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    .replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&amp;', '&')
}
