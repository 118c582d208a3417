// The readability guest's script: Mozilla Readability over linkedom's DOM.
// The guest evaluates it once, at start-up (in the snapshot when there is
// one), and then calls globalThis.strataHandle(input) per request.
//
// Input: "<page URL>\n<HTML>" (like the C extractor's). Output: a JSON
// object with Readability's metadata and the article's text.
import "./shims.js";
import { parseHTML } from "linkedom";
import { Readability } from "@mozilla/readability";

function handle(input) {
  const newline = input.indexOf("\n");
  const url = newline < 0 ? "" : input.slice(0, newline).trim();
  const html = newline < 0 ? input : input.slice(newline + 1);
  const { document } = parseHTML(html);
  if (url) {
    // Readability resolves relative links against these.
    Object.defineProperty(document, "documentURI", { value: url });
    Object.defineProperty(document, "baseURI", { value: resolveBase(document, url) });
  }
  const article = new Readability(document).parse();
  if (!article) return JSON.stringify({ title: null, error: "no article found" });
  return JSON.stringify({
    title: article.title,
    byline: article.byline,
    excerpt: article.excerpt,
    siteName: article.siteName,
    lang: article.lang,
    publishedTime: article.publishedTime,
    length: article.length,
    text: article.textContent,
  });
}

// <base href> may be relative to the page's URL.
function resolveBase(document, url) {
  const base = document.querySelector("base[href]");
  if (!base) return url;
  try {
    return new URL(base.getAttribute("href"), url).href;
  } catch {
    return url;
  }
}

globalThis.strataHandle = handle;
