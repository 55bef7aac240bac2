// openid-client (v6) as an OpenID Connect relying party of the oauth2
// dialect at the root: discovery of the bare issuer URL
// (/.well-known/openid-configuration), the authorization code flow with
// PKCE and scope "openid profile email", the id_token verified against the
// JWKS (openid-client's non-repudiation checks and jose), UserInfo; the
// public client demo-public without a secret; the device flow; token
// exchange of an access token for one with another audience.
import * as client from 'openid-client'
import * as jose from 'jose'
import { base, check, assert, login, approveDevice } from './lib.mjs'

const issuer = new URL(base)
const opts = { execute: [client.allowInsecureRequests] }
const redirect = 'http://localhost:8081/callback'

// codeFlow runs the authorization code flow with PKCE and a nonce and
// returns the tokens, the id_token verified by openid-client.
async function codeFlow(config) {
  client.enableNonRepudiationChecks(config)
  const verifier = client.randomPKCECodeVerifier()
  const nonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirect, scope: 'openid profile email', nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  })
  const callback = await login(url, 'johndoe', 'demo-password')
  return client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedNonce: nonce, idTokenExpected: true })
}

let config
await check('discovery of the issuer URL (OpenID Connect Discovery 1.0)', async () => {
  config = await client.discovery(issuer, 'demo-client', 'demo-secret', undefined, opts)
  const m = config.serverMetadata()
  assert(m.issuer === issuer.href.replace(/\/$/, ''), `issuer ${m.issuer}`)
  assert(m.jwks_uri && m.userinfo_endpoint, 'no jwks_uri or userinfo_endpoint')
  return m.issuer
})

let tokens
await check('code flow with PKCE, scope openid profile email, id_token verified', async () => {
  tokens = await codeFlow(config)
  const claims = tokens.claims()
  assert(claims.sub === 'demo-user', `sub ${claims.sub}`)
  const jwks = jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri))
  const { payload, protectedHeader } = await jose.jwtVerify(tokens.id_token, jwks, { issuer: config.serverMetadata().issuer, audience: 'demo-client' })
  return `${protectedHeader.alg} kid ${protectedHeader.kid}, sub ${payload.sub}`
})

await check('userinfo', async () => {
  const info = await client.fetchUserInfo(config, tokens.access_token, 'demo-user')
  assert(info.email === 'john.doe@example.com' && info.name === 'John Doe', JSON.stringify(info))
  return info.preferred_username
})

await check('public client demo-public, no secret', async () => {
  const pub = await client.discovery(issuer, 'demo-public', undefined, client.None(), opts)
  const t = await codeFlow(pub)
  assert(t.claims().aud === 'demo-public' && t.refresh_token, JSON.stringify(t.claims()))
  const info = await client.fetchUserInfo(pub, t.access_token, 'demo-user')
  return info.sub
})

await check('device flow: the user enters the code on the login page', async () => {
  const pub = await client.discovery(issuer, 'demo-public', undefined, client.None(), opts)
  const da = await client.initiateDeviceAuthorization(pub, { scope: 'openid' })
  await approveDevice(da.verification_uri_complete, 'johndoe', 'demo-password')
  const t = await client.pollDeviceAuthorizationGrant(pub, da)
  assert(t.access_token && t.claims()?.sub === 'demo-user', 'no tokens for the device')
  return da.user_code
})

await check('token exchange: an access token for one with another audience', async () => {
  const t = await client.genericGrantRequest(config, 'urn:ietf:params:oauth:grant-type:token-exchange', {
    subject_token: tokens.access_token, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    audience: 'https://api.example',
  })
  assert(t.issued_token_type === 'urn:ietf:params:oauth:token-type:access_token', t.issued_token_type)
  const info = await client.tokenIntrospection(config, t.access_token)
  assert(info.active === true && info.aud === 'https://api.example', JSON.stringify(info))
  return info.aud
})
