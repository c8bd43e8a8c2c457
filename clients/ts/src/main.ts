// A frontend team's first program against dockgate: types generated from openapi/openapi.json
// (openapi-typescript), requests through openapi-fetch, compiled with --strict and
// --noUncheckedIndexedAccess, with no casts and no `any`. .ci/run runs it against a live server.
//
//   DOCKGATE_URL=http://127.0.0.1:8080 DOCKGATE_EMAIL=... DOCKGATE_PASSWORD=... node dist/main.js

import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.js";

type UserView = components["schemas"]["UserView"];
type PatchUser = components["schemas"]["PatchUser"];

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`${name} is not set`);
  }
  return value;
}

function check(condition: boolean, what: string): void {
  if (!condition) {
    throw new Error(`failed: ${what}`);
  }
  console.log(`ok: ${what}`);
}

const baseUrl = env("DOCKGATE_URL");
const api = createClient<paths>({ baseUrl });

// Sign in, and send the access token with every later request.
const signIn = await api.POST("/v1/auth/login", {
  body: { email: env("DOCKGATE_EMAIL"), password: env("DOCKGATE_PASSWORD") },
});
if (signIn.data === undefined) {
  throw new Error(`sign-in failed: ${signIn.error.type} ${signIn.error.detail}`);
}
// A sign-in answers tokens, or the next step (MFA, a password change, an enrolment).
if (!("access_token" in signIn.data)) {
  throw new Error("sign-in needs another step (MFA, a password change or an enrolment)");
}
const token: string = signIn.data.access_token;
check(signIn.data.token_type === "Bearer", "the token is a bearer token");
const auth: Middleware = {
  onRequest({ request }) {
    request.headers.set("authorization", `Bearer ${token}`);
    return request;
  },
};
api.use(auth);

const me = await api.GET("/v1/me");
if (me.data === undefined) {
  throw new Error(`/v1/me failed: ${me.error.detail}`);
}
check(me.data.kind === "staff", `signed in as ${me.data.email ?? me.data.name}`);

// A customer with a warehouse address, a user and an invitation.
const code = `C-${Date.now()}`;
const customer = await api.POST("/v1/customers", { body: { name: "Typed Client GmbH", code } });
if (customer.data === undefined) {
  throw new Error(`creating the customer failed: ${customer.error.detail}`);
}
const customerId: string = customer.data.id;
check(customer.data.status === "active", "a new customer is active");

const address = await api.POST("/v1/customers/{customer_id}/warehouse-addresses", {
  params: { path: { customer_id: customerId } },
  body: { label: "Main", line1: "Hafenstraße 1", city: "Hamburg", country: "DE" },
});
if (address.data === undefined) {
  throw new Error(`creating the address failed: ${address.error.detail}`);
}
check(address.data.is_default, "the first address is the default");
// What was read can be sent back: the country read is the enum the create takes.
const sameCountry: components["schemas"]["CreateAddress"]["country"] = address.data.country;
check(sameCountry === "DE", "a read country is the country type the API takes");

const created = await api.POST("/v1/customers/{customer_id}/users", {
  params: { path: { customer_id: customerId } },
  body: { name: "Jana Berg", email: `jana.${Date.now()}@typed.example`, password: "jana picks a long passphrase" },
});
if (created.data === undefined) {
  throw new Error(`creating the user failed: ${created.error.detail}`);
}
const userId: string = created.data.id;

const invited = await api.POST("/v1/customers/{customer_id}/invitations", {
  params: { path: { customer_id: customerId } },
  body: { emails: [`piet.${Date.now()}@typed.example`] },
});
if (invited.data === undefined) {
  throw new Error(`inviting failed: ${invited.error.detail}`);
}
const firstResult = invited.data.results[0];
check(firstResult !== undefined && firstResult.outcome === "invited", "the invitation went out");

// Read a user and send it back as a PATCH, with its ETag: no value needs a cast.
const read = await api.GET("/v1/customers/{customer_id}/users/{user_id}", {
  params: { path: { customer_id: customerId, user_id: userId } },
});
if (read.data === undefined) {
  throw new Error(`reading the user failed: ${read.error.detail}`);
}
const user: UserView = read.data;
const etag = read.response.headers.get("ETag") ?? "*";
const patch: PatchUser = {
  name: `${user.name} (typed)`,
  phone: user.phone,
  role: user.role,
  permissions: user.permissions,
  group_ids: user.group_ids,
  warehouse_address_id: user.warehouse_address_id,
  cost_center_id: user.cost_center_id,
  external_id: user.external_id,
};
const patched = await api.PATCH("/v1/customers/{customer_id}/users/{user_id}", {
  params: { path: { customer_id: customerId, user_id: userId }, header: { "If-Match": etag } },
  body: patch,
});
if (patched.data === undefined) {
  throw new Error(`patching the user failed: ${patched.error.detail}`);
}
check(patched.data.name === patch.name, "the user came back with the new name");

// Page through the customer's users, one at a time: next_cursor is always there (null at the end).
let cursor: string | null = null;
let seen = 0;
let pages = 0;
do {
  const page: Awaited<ReturnType<typeof listUsers>> = await listUsers(cursor);
  if (page.data === undefined) {
    throw new Error(`listing users failed: ${page.error.detail}`);
  }
  seen += page.data.items.length;
  pages += 1;
  cursor = page.data.next_cursor;
} while (cursor !== null);
check(seen === 2 && pages >= 2, `paged through ${seen} users (the new one and the invited one) in ${pages} pages`);

function listUsers(after: string | null) {
  return api.GET("/v1/customers/{customer_id}/users", {
    params: { path: { customer_id: customerId }, query: after === null ? { limit: 1 } : { limit: 1, cursor: after } },
  });
}

// The audit log: what the PATCH changed, as a typed {field: {from, to}} entry.
const events = await api.GET("/v1/audit-events", {
  params: { query: { target_id: userId, action: "user.updated" } },
});
if (events.data === undefined) {
  throw new Error(`reading the audit log failed: ${events.error.detail}`);
}
const update = events.data.items[0];
const nameChange = update?.changes["name"];
check(nameChange !== undefined && nameChange.to === patch.name, "the audit log says the name changed to the new one");
console.log("the typed client ran against", baseUrl);
