// The page: who is signed in, the header, and hash routing to one view at a time.
// Every view gets an element of its own (a view still loading when the user moves on
// fills a detached one) and an AbortSignal that fires when the user leaves it, which
// closes its event streams and stops its timers.

import { get, isAbort, session, whenUnauthorized } from "./api.js";
import { h } from "./dom.js";
import { adminView } from "./views/admin.js";
import { playgroundView } from "./views/playground.js";
import { signInView } from "./views/signin.js";
import { taskView } from "./views/task.js";
import { tasksView } from "./views/tasks.js";

const main = document.getElementById("view");
const nav = document.querySelector(".topbar nav");
const accountBox = document.querySelector(".topbar .account");

let account = null; // {keyId, name, isAdmin, credits} of the signed-in key
let current = null; // AbortController of the view on screen

const routes = [
  { pattern: /^#\/tasks\/([^/]+)$/, view: (ctx, id) => taskView(ctx, decodeURIComponent(id)) },
  { pattern: /^#\/tasks$/, view: tasksView },
  {
    pattern: /^#\/playground(?:\/(.+))?$/,
    view: (ctx, model) => playgroundView(ctx, model && decodeURIComponent(model)),
  },
  { pattern: /^#\/admin$/, view: adminView, admin: true },
];

function showAccount() {
  nav.hidden = accountBox.hidden = !account;
  if (!account) return;
  nav.querySelector("[data-admin]").hidden = !account.isAdmin;
  accountBox
    .querySelector(".who")
    .replaceChildren(
      account.name || account.keyId,
      account.isAdmin ? h("span", { class: "badge admin" }, "admin") : "",
    );
  showCredits(account.credits);
}

function showCredits(credits) {
  accountBox.querySelector(".credits").textContent = `${credits.toLocaleString()} credits`;
}

async function refreshCredits() {
  showCredits(await get("/api/v1/chat/credit"));
}

function signOut(message) {
  session.key = null;
  account = null;
  showAccount();
  route(message);
}

async function route(signInMessage) {
  current?.abort();
  current = new AbortController();
  const ctx = { main: h("div"), signal: current.signal, refreshCredits, account: null };
  main.replaceChildren(ctx.main);
  if (!session.key) {
    signInView(ctx, signInMessage, (signedIn) => {
      account = signedIn;
      showAccount();
      route();
    });
    return;
  }
  try {
    // Read again on every navigation: credits move, and an admin may have changed the key.
    account = ctx.account = await get("/api/v1/account", {}, { signal: ctx.signal });
    showAccount();
    const found = routes
      .filter((r) => account.isAdmin || !r.admin)
      .map((r) => ({ ...r, match: location.hash.match(r.pattern) }))
      .find((r) => r.match);
    if (!found) {
      location.replace("#/tasks"); // fires hashchange, which routes again
      return;
    }
    for (const link of nav.querySelectorAll("a")) {
      const active = location.hash.startsWith(link.getAttribute("href"));
      link.toggleAttribute("aria-current", active);
    }
    await found.view(ctx, ...found.match.slice(1));
  } catch (error) {
    if (isAbort(error) || ctx.signal.aborted) return;
    ctx.main.replaceChildren(h("p", { class: "alert", role: "alert" }, error.message));
  }
}

whenUnauthorized(() => signOut("The key was refused (revoked?). Sign in again."));
document.querySelector(".sign-out").addEventListener("click", () => signOut());
window.addEventListener("hashchange", () => route());
route();
