// oauth4webapi (v3): RFC 8414 discovery under a prefix and client
// credentials with client_secret_basic.
import * as oauth from 'oauth4webapi'
import { base, id, secret, check, assert } from './lib.mjs'

const issuer = new URL(base + '/std')
const insecure = { [oauth.allowInsecureRequests]: true }
let as

await check('discovery under a prefix (RFC 8414 §3)', async () => {
  const res = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure })
  as = await oauth.processDiscoveryResponse(issuer, res)
  return as.issuer
})

await check('client_credentials, client_secret_basic, secret with + % : and space', async () => {
  const c = { client_id: id }
  const res = await oauth.clientCredentialsGrantRequest(as, c, oauth.ClientSecretBasic(secret), new URLSearchParams(), insecure)
  const t = await oauth.processClientCredentialsResponse(as, c, res)
  assert(t.access_token, 'no access_token')
})
