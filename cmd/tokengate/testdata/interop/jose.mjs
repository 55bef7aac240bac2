// jose (v6): an Acceleration JWT, minted after the gateway clock was moved
// ahead (the Go test does that first), verifies against the published JWKS
// with an iat check on the real clock (maxTokenAge), as PyJWT does.
import * as jose from 'jose'
import { base, id, secret, check, assert } from './lib.mjs'

await check('Acceleration JWT verifies on the real clock after the gateway clock moved', async () => {
  const res = await fetch(`${base}/api/v1/auth/oauth2/token?grant_type=client_credentials&user_id=demo-user`, {
    method: 'POST',
    headers: { accept: 'application/json', authorization: 'Basic ' + btoa(`${id}:${secret}`) },
  })
  const body = await res.json()
  assert(res.status === 200, `token: ${res.status} ${JSON.stringify(body)}`)
  const jwks = jose.createRemoteJWKSet(new URL(base + '/.well-known/jwks.json'))
  const { payload } = await jose.jwtVerify(body.access_token, jwks, {
    issuer: 'https://tokengate.local/oauth2/default', audience: 'api://tenant', algorithms: ['RS256'], maxTokenAge: '5m',
  })
  return `iat ${payload.iat}, exp ${payload.exp}`
})
