// simple-oauth2 (v5): client credentials with Basic credentials form-encoded
// (strict) and raw (loose), in the body, and against Hurdlr's endpoint with
// its userId.
import { ClientCredentials } from 'simple-oauth2'
import { base, id, secret, check, assert } from './lib.mjs'

const cases = [
  ['header, strict (form-encoded) credentials', { authorizationMethod: 'header', credentialsEncodingMode: 'strict' }],
  ['header, loose (raw) credentials', { authorizationMethod: 'header', credentialsEncodingMode: 'loose' }],
  ['credentials in the body', { authorizationMethod: 'body' }],
]
for (const [name, options] of cases) {
  await check(`oauth2 client_credentials, ${name}`, async () => {
    const cc = new ClientCredentials({ client: { id, secret }, auth: { tokenHost: base, tokenPath: '/std/oauth2/token' }, options })
    const t = await cc.getToken({})
    assert(t.token.access_token, 'no access_token')
  })
}

await check('Hurdlr client_credentials with userId', async () => {
  const cc = new ClientCredentials({
    client: { id: 'demo-client', secret: 'demo-secret' },
    auth: { tokenHost: base, tokenPath: '/rest/v5/accountant/token' },
    options: { authorizationMethod: 'body' },
  })
  const t = await cc.getToken({ userId: 'demo-user' })
  assert(/^[0-9a-f]{64}\.[0-9a-f]{32}$/.test(t.token.access_token), `token ${t.token.access_token}`)
  assert(t.token.scope === 'token', `scope ${t.token.scope}`)
})
