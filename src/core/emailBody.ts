/**
 * Email bodies as HTML (docs/SEQUENCES.md, "HTML and Markdown"): Markdown turned into an HTML
 * template, the plain-text part derived from HTML, links checked and rewritten, the open pixel.
 * Pure string work (marked, html-to-text), no IO; the author's markup is trusted as written,
 * lead data is escaped by the template engine (templates.ts, `html` mode).
 */
import { convert } from 'html-to-text';
import { Marked } from 'marked';

export { EMAIL_FORMATS, type EmailFormat } from './emailFormats.ts';

/** Schemes a link in an email may use: http(s) (tracked when click tracking is on), mailto and tel (never rewritten). */
export const ALLOWED_LINK_SCHEMES = ['http', 'https', 'mailto', 'tel'] as const;

const marked = new Marked({ gfm: true, breaks: false, async: false });

/**
 * Liquid tags are set aside while Markdown is converted, so Markdown never rewrites them
 * (`{{ a_b }}` is not emphasis, a `{{ url }}` link target stays one) and lead data, printed
 * later, can never become Markdown (`[x](javascript:…)` in a lead's field stays text).
 */
const LIQUID = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g;
const placeholder = (i: number) => `zzliquid${i}zz`;
const PLACEHOLDER = /zzliquid(\d+)zz/g;

const converted = new Map<string, string>();
const MAX_CONVERTED = 500;

/** A Markdown template → an HTML template (its Liquid tags untouched), cached by text. */
export function markdownToHtmlTemplate(markdown: string): string {
  let html = converted.get(markdown);
  if (html === undefined) {
    const tags: string[] = [];
    const shielded = markdown.replace(LIQUID, (tag) => placeholder(tags.push(tag) - 1));
    html = (marked.parse(shielded) as string).replace(PLACEHOLDER, (whole, i: string) => tags[Number(i)] ?? whole);
    if (converted.size >= MAX_CONVERTED) converted.clear();
    converted.set(markdown, html);
  }
  return html;
}

/** The plain-text part of an HTML email: readable, links kept as `text [url]`. */
export function htmlToText(html: string): string {
  return convert(html, {
    wordwrap: 78,
    selectors: [
      { selector: 'img', format: 'skip' },
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    ],
  }).trim();
}

const ANCHOR = /<a\b[^>]*>/gi;
const HREF = /(\bhref\s*=\s*)("([^"]*)"|'([^']*)'|([^\s"'>]+))/i;

/** `&amp;` and friends in an attribute value → the characters they stand for. */
function decodeAttribute(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|amp|quot|apos|lt|gt);/gi, (whole, entity: string) => {
    const lower = entity.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(parseInt(lower.slice(1), 10));
    return ({ amp: '&', quot: '"', apos: "'", lt: '<', gt: '>' } as Record<string, string>)[lower] ?? whole;
  });
}

function encodeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Every `href` of every `<a>` in an HTML text, decoded. */
export function linksOf(html: string): string[] {
  const links: string[] = [];
  for (const anchor of html.match(ANCHOR) ?? []) {
    const match = HREF.exec(anchor);
    if (match) links.push(decodeAttribute(match[3] ?? match[4] ?? match[5] ?? '').trim());
  }
  return links;
}

/** The link's scheme in lower case (`https`, `javascript`), or undefined for a relative link or `#`. */
export function schemeOf(url: string): string | undefined {
  const match = /^\s*([a-z][a-z0-9+.-]*):/i.exec(url);
  return match ? match[1]!.toLowerCase() : undefined;
}

export function isHttpLink(url: string): boolean {
  const scheme = schemeOf(url);
  return scheme === 'http' || scheme === 'https';
}

/**
 * Sentences for links an HTML template may never carry: a scheme other than http(s), mailto or
 * tel (`javascript:`, `data:`, `file:` …). A link printed by Liquid (`{{ lead.website }}`) is
 * judged when it is rendered, never rewritten unless it is http(s).
 */
export function linkProblems(htmlTemplate: string): string[] {
  const problems: string[] = [];
  for (const link of linksOf(htmlTemplate)) {
    if (link.startsWith('{{') || link.startsWith('{%')) continue;
    const scheme = schemeOf(link);
    if (scheme && !(ALLOWED_LINK_SCHEMES as readonly string[]).includes(scheme)) {
      problems.push(
        `The link "${link.slice(0, 80)}" uses "${scheme}:", which an email must not carry; links may be http(s), mailto or tel.`,
      );
    }
  }
  return problems;
}

/**
 * Each http(s) `href` of every `<a>` replaced by what `rewrite` answers (the click redirect);
 * other links, and anchors without an href, stay exactly as written.
 */
export function rewriteLinks(html: string, rewrite: (url: string) => string): string {
  return html.replace(ANCHOR, (anchor) =>
    anchor.replace(HREF, (whole, prefix: string, _quoted: string, double?: string, single?: string, bare?: string) => {
      const url = decodeAttribute(double ?? single ?? bare ?? '').trim();
      if (!isHttpLink(url)) return whole;
      return `${prefix}"${encodeAttribute(rewrite(url))}"`;
    }),
  );
}

/** A 1×1 image at `url`, placed at the end of the body (before `</body>` when there is one). */
export function withOpenPixel(html: string, url: string): string {
  const pixel = `<img src="${encodeAttribute(url)}" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px">`;
  const close = html.search(/<\/body\s*>/i);
  return close >= 0 ? `${html.slice(0, close)}${pixel}${html.slice(close)}` : `${html}${pixel}`;
}

/** Bare http(s) URLs in plain text; trailing punctuation of the sentence is not part of one. */
const BARE_URL = /\bhttps?:\/\/[^\s<>"]+/gi;
const TRAILING = '.,;:!?\'")]}';

/** A URL found in text without the sentence's punctuation after it; a `)` it opened itself stays (`…/Foo_(bar)`). */
function trimUrl(url: string): string {
  let end = url.length;
  while (end > 0 && TRAILING.includes(url[end - 1]!)) {
    if (url[end - 1] === ')') {
      const head = url.slice(0, end);
      const opened = head.split('(').length - 1;
      const closed = head.split(')').length - 1;
      if (opened >= closed) break;
    }
    end--;
  }
  return url.slice(0, end);
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** One line of plain text as HTML: escaped, its bare http(s) URLs made links. */
function lineToHtml(line: string): string {
  let out = '';
  let at = 0;
  for (const match of line.matchAll(BARE_URL)) {
    const url = trimUrl(match[0]);
    if (/^https?:\/\/$/i.test(url)) continue;
    const start = match.index!;
    out += escapeHtml(line.slice(at, start));
    out += `<a href="${encodeAttribute(url)}">${escapeHtml(url)}</a>`;
    at = start + url.length;
  }
  return out + escapeHtml(line.slice(at));
}

/**
 * The HTML part of a plain-text email (docs/SEQUENCES.md, "HTML and Markdown"): every character
 * escaped (the text is data, never markup), blank lines as paragraphs, single line breaks as
 * `<br>`, bare http(s) URLs as links (so click tracking can rewrite them), nothing styled: it
 * reads like the text it came from.
 */
export function textToHtml(text: string): string {
  const paragraphs = text
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n+/)
    .map((p) => p.replace(/^\n+|\n+$/g, ''))
    .filter((p) => p.trim() !== '');
  const body = paragraphs.map((p) => `<p>${p.split('\n').map(lineToHtml).join('<br>\n')}</p>`).join('\n');
  return `<div dir="auto">\n${body}\n</div>`;
}
