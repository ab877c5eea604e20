// A real OpenID Connect provider (panva/oidc-provider, OpenID Certified) for Agora's integration
// tests. Usage:
//
//   node server.mjs <client_id> <client_secret> <redirect_uri>
//   OIDC_ACCOUNTS='{"alice":{"email":"alice@example.com","email_verified":true,"name":"Alice"}}'
//
// It listens on 127.0.0.1 on a free port and prints `listening <port>` once ready, so the caller
// never races for a port. Logins go through the development interactions (devInteractions): the
// test POSTs `prompt=login&login=<account id>&password=<anything>` and then `prompt=consent` to
// /interaction/<uid>, like a browser submitting the two forms.
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const [clientId, clientSecret, redirectUri] = process.argv.slice(2);
if (!clientId || !clientSecret || !redirectUri) {
  console.error('usage: node server.mjs <client_id> <client_secret> <redirect_uri>');
  process.exit(2);
}
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS ?? '{}');

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const provider = new Provider(`http://127.0.0.1:${port}`, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    // Every authorization code request must carry an S256 PKCE challenge.
    pkce: { required: () => true },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    features: { devInteractions: { enabled: true } },
    async findAccount(ctx, id) {
      const account = accounts[id];
      if (!account) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, email: account.email, email_verified: account.email_verified, name: account.name };
        },
      };
    },
  });
  server.on('request', provider.callback());
  console.log(`listening ${port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
