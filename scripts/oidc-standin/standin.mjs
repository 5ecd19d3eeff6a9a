// Local stand-ins for ID-porten and Feide (the npm package oidc-provider), for the demo
// and the browser journeys: no internet needed. Each requires PKCE (S256) and returns
// pid, acr, amr and sid in the id_token, as the real ones do.
//
//   node scripts/oidc-standin/standin.mjs CONFIG.json
//
// CONFIG.json: {"providers": [{"name", "title", "port", "issuer", "levels", "default_level",
//   "client": {client_id, client_secret, redirect_uris, post_logout_redirect_uris,
//              backchannel_logout_uri}, "persons": [{"id", "label", "claims"}]}]}
// Prints "ready NAME ISSUER" for each provider when it listens.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import Provider, { interactionPolicy } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
}[c]));

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function page(title, body) {
  return `<!DOCTYPE html><html lang="nb"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title>
<style>body{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
label{display:block;margin:.5rem 0}button{font-size:1rem;padding:.5rem 1rem;margin-top:1rem}</style>
</head><body><main>${body}</main></body></html>`;
}

// As ID-porten does: a login in the same browser (single sign-on) is reused only when it
// was at the level asked for, or higher; otherwise the person logs in again.
function policyFor(spec) {
  const { Check, base } = interactionPolicy;
  const policy = base();
  policy.get('login').checks.add(new Check('acr_too_low', 'the level asked for is higher', (ctx) => {
    const asked = ctx.oidc.params.acr_values;
    const had = ctx.oidc.acr;
    // Right after the test person chose a level, that level is returned, even a lower one
    // (so that kontaktbok's own check of acr can be tried).
    if (!asked || !had || ctx.oidc.result?.login) return Check.NO_NEED_TO_PROMPT;
    return spec.levels.indexOf(had) < spec.levels.indexOf(asked)
      ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
  }));
  return policy;
}

function start(spec) {
  const persons = new Map(spec.persons.map((p) => [p.id, p]));
  const provider = new Provider(spec.issuer, {
    clients: [{
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
      backchannel_logout_session_required: true,
      ...spec.client,
    }],
    pkce: { required: () => true },
    acrValues: spec.levels,
    conformIdTokenClaims: false,
    claims: {
      openid: ['sub', 'pid', 'https://n.feide.no/claims/eduPersonPrincipalName', 'feideid'],
      profile: ['name', 'locale'],
      email: ['email'],
      'userid-feide': ['https://n.feide.no/claims/eduPersonPrincipalName'],
    },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = page(`${spec.title}: log out`, `<h1>${escape(spec.title)} (test): log out</h1>
${form}<p>Log out of ${escape(spec.title)} too?</p>
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, log out</button>`);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = page(`${spec.title}: logged out`, `<h1>${escape(spec.title)} (test)</h1>
<p>You are logged out.</p>`);
        },
      },
    },
    interactions: {
      policy: policyFor(spec),
      url: (ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    async findAccount(ctx, id) {
      const person = persons.get(id);
      if (!person) return undefined;
      return { accountId: id, async claims() { return { sub: id, ...person.claims }; } };
    },
    async loadExistingGrant(ctx) {
      // Like the real ones: no consent screen for a registered client.
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '));
      await grant.save();
      return grant;
    },
  });

  provider.use(async (ctx, next) => {
    const match = ctx.path.match(/^\/interaction\/([^/]+)$/);
    if (!match) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (ctx.method === 'GET') {
      const asked = details.params.acr_values || spec.default_level;
      const people = spec.persons.map((p, i) => `<label><input type="radio" name="person"
        value="${escape(p.id)}"${i === 0 ? ' checked' : ''}> ${escape(p.label)}</label>`).join('');
      const levels = spec.levels.map((level) => `<option value="${escape(level)}"${
        level === asked ? ' selected' : ''}>${escape(level)}</option>`).join('');
      ctx.type = 'html';
      ctx.body = page(spec.title, `<h1>${escape(spec.title)} (test)</h1>
<p>Asked for: <code>${escape(asked || '-')}</code></p>
<form method="post"><fieldset><legend>Test person</legend>${people}</fieldset>
<label>Level (acr) <select name="acr">${levels}</select></label>
<button type="submit">Log in</button></form>`);
      return undefined;
    }
    const form = await readForm(ctx.req);
    const person = form.get('person');
    if (!persons.has(person)) {
      ctx.status = 400;
      ctx.body = 'unknown test person';
      return undefined;
    }
    await provider.interactionFinished(ctx.req, ctx.res, {
      login: { accountId: person, acr: form.get('acr') || spec.default_level, amr: ['TestID'] },
    }, { mergeWithLastSubmission: false });
    return undefined;
  });

  provider.on('server_error', (ctx, error) => console.error(`${spec.name}: ${error.stack}`));
  const server = provider.listen(spec.port, '127.0.0.1', () => {
    console.log(`ready ${spec.name} ${spec.issuer}`);
  });
  return server;
}

const servers = config.providers.map(start);
const stop = () => { servers.forEach((s) => s.close()); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
