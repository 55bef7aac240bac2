// openid-client (v6): RFC 8414 discovery of an issuer with a path (the
// oauth2 dialect under prefix /std), client_secret_basic and
// client_secret_post with a secret holding + % : and a space, the
// authorization code flow with PKCE, refresh, introspection, revocation,
// and the error a wrong secret gives.
import * as client from 'openid-client'
import { base, id, secret, check, assert, login } from './lib.mjs'

const issuer = new URL(base + '/std')
const opts = { algorithm: 'oauth2', execute: [client.allowInsecureRequests] }
let config

await check('discovery under a prefix (RFC 8414 §3)', async () => {
  config = await client.discovery(issuer, id, undefined, client.ClientSecretBasic(secret), opts)
  const iss = config.serverMetadata().issuer
  assert(iss === issuer.href, `issuer ${iss}, want ${issuer.href}`)
  return iss
})

let token
await check('client_credentials, client_secret_basic, secret with + % : and space', async () => {
  token = await client.clientCredentialsGrant(config)
  assert(token.access_token, 'no access_token')
  return token.token_type
})

await check('client_credentials, client_secret_post', async () => {
  const post = await client.discovery(issuer, id, undefined, client.ClientSecretPost(secret), opts)
  const t = await client.clientCredentialsGrant(post)
  assert(t.access_token, 'no access_token')
})

await check('introspection and revocation', async () => {
  const before = await client.tokenIntrospection(config, token.access_token)
  assert(before.active === true, 'fresh token not active')
  await client.tokenRevocation(config, token.access_token)
  const after = await client.tokenIntrospection(config, token.access_token)
  assert(after.active === false, 'revoked token still active')
})

await check('authorization code with PKCE S256, then refresh', async () => {
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: 'http://127.0.0.1:9/cb', scope: 'read', state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  })
  const callback = await login(url, 'johndoe', 'demo-password')
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state })
  assert(tokens.refresh_token, 'no refresh_token')
  const fresh = await client.refreshTokenGrant(config, tokens.refresh_token)
  assert(fresh.refresh_token && fresh.refresh_token !== tokens.refresh_token, 'refresh did not rotate')
})

// RFC 6749 §5.2: a client that used Basic gets a Basic challenge, which
// openid-client raises as a WWWAuthenticateChallengeError carrying the
// challenge's error parameter; a client that posted its secret gets the
// body's error.
for (const [name, auth] of [['client_secret_basic', client.ClientSecretBasic('wrong')], ['client_secret_post', client.ClientSecretPost('wrong')]]) {
  await check(`wrong secret (${name}) gives error invalid_client`, async () => {
    const bad = await client.discovery(issuer, id, undefined, auth, opts)
    try {
      await client.clientCredentialsGrant(bad)
    } catch (err) {
      const code = err.error ?? err.cause?.[0]?.parameters?.error
      assert(code === 'invalid_client', `${err.name}: error ${code}`)
      return `${err.name}, error ${code}`
    }
    throw new Error('a wrong secret got a token')
  })
}
