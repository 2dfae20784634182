/**
 * Reply classes and the rules that classify a reply's text (docs/ANALYTICS.md, "Reply
 * sentiment"), in English, German, French and Spanish. Pure; the AI writer's endpoint, when one
 * is configured, is asked only when no rule matched (its answer is validated against
 * `REPLY_CLASSES`, and the rules' fallback stands when it fails).
 *
 * Order matters: a reply can say several things ("I'm out until Monday, please remove me"),
 * and the class that must be acted on wins — an unsubscribe request over everything (it is a
 * legal obligation), then an auto-reply (nobody read the message), then "wrong person", then a
 * refusal, then "later", then interest.
 */

export const REPLY_CLASSES = ['interested', 'not_interested', 'not_now', 'out_of_office', 'wrong_person', 'unsubscribe'] as const;
export type ReplyClass = (typeof REPLY_CLASSES)[number];

export function isReplyClass(value: unknown): value is ReplyClass {
  return typeof value === 'string' && (REPLY_CLASSES as readonly string[]).includes(value);
}

/** Patterns per class, most specific first within a class; matched case-blind on folded text. */
const RULES: ReadonlyArray<readonly [ReplyClass, readonly RegExp[]]> = [
  [
    'unsubscribe',
    [
      /\bunsubscribe\b/, /\b(remove|take) me (from|off)\b/, /\bopt(-| )?out\b/, /\bstop (emailing|contacting|messaging|texting|sending)\b/,
      /\b(do not|don't|dont) (email|contact|message|write to) me\b/, /\bno more (emails|messages)\b/, /^\s*stop\s*[.!]?\s*$/,
      // de
      /\babmelden\b/, /\bentfernen sie mich\b/, /\bnehmen sie mich (aus|von)\b/, /\bkeine (weiteren )?(e-?mails|nachrichten)\b/, /\bschreiben sie mir nicht mehr\b/, /\bloschen sie meine\b/,
      // fr
      /\bdesabonner\b/, /\bdesinscri(re|vez|ption)\b/, /\bretirez[- ]moi\b/, /\bsupprimez[- ]moi\b/, /\bne (plus )?m'?ecrivez plus\b/, /\bne me contactez plus\b/,
      // es
      /\bdarme de baja\b/, /\bdar(me)? de baja\b/, /\belimin(e|en|ar)me\b/, /\bquit(e|en|ar)me de\b/, /\bno me (escriban|escriba|contacte|contacten|envie|envien) mas\b/, /\bcancelar (la )?suscripcion\b/,
    ],
  ],
  [
    'out_of_office',
    [
      /\bout of (the )?office\b/, /\bauto(matic)?[- ]?reply\b/, /\bi am (currently )?(away|on (vacation|holiday|leave|parental leave))\b/, /\bi'?m (currently )?(away|on (vacation|holiday|leave))\b/,
      /\b(limited|no) access to (my )?e-?mail\b/, /\bwill (be back|return) (on|in)\b/, /\breturning on\b/,
      // de
      /\babwesenheitsnotiz\b/, /\bnicht im buro\b/, /\bbin (bis|ab) .{0,40}(nicht erreichbar|im urlaub|abwesend)\b/, /\bim urlaub\b/, /\bautomatische antwort\b/, /\bab dem .{0,30} wieder (im buro|erreichbar)\b/,
      // fr
      /\babsent(e)? du bureau\b/, /\bje suis (actuellement )?(absent|absente|en conges|en vacances)\b/, /\breponse automatique\b/, /\bde retour le\b/,
      // es
      /\bfuera de la oficina\b/, /\bestoy (de vacaciones|fuera)\b/, /\brespuesta automatica\b/, /\bvolvere el\b/, /\bde regreso el\b/,
    ],
  ],
  [
    'wrong_person',
    [
      /\bwrong (person|contact|guy|address)\b/, /\bnot the right (person|contact)\b/, /\bno longer (works|with|at)\b/, /\b(left|have left) the company\b/,
      /\bnot (responsible|in charge) (for|of)\b/, /\byou (should|want to|need to) (talk|speak|reach out) to\b/, /\bi don'?t (handle|deal with)\b/,
      // de
      /\bfalsche(n)? (person|ansprechpartner)\b/, /\bnicht (mehr )?(zustandig|im unternehmen|bei uns)\b/, /\bnicht der richtige ansprechpartner\b/, /\bwenden sie sich an\b/,
      // fr
      /\bpas la bonne personne\b/, /\bne travaille plus\b/, /\bne suis pas (en charge|responsable)\b/, /\badressez-vous a\b/,
      // es
      /\bpersona equivocada\b/, /\bno soy la persona\b/, /\bya no trabaja\b/, /\bno soy (el|la) responsable\b/, /\bdeberia hablar con\b/,
    ],
  ],
  [
    'not_interested',
    [
      /\bnot interested\b/, /\bno interest\b/, /\bno,? thanks?\b/, /\bno thank you\b/, /\bnot for us\b/, /\bwe'?re (all )?(set|good)\b/, /\bwe (already )?(have|use) (a|an|our own)\b/, /\bplease don'?t follow up\b/, /\bnot a fit\b/, /\bpass on this\b/,
      // de
      /\bkein(e|en)? interesse\b/, /\bnicht interessiert\b/, /\bnein,? danke\b/, /\bbrauchen wir nicht\b/, /\bhaben bereits\b/,
      // fr
      /\bpas interesse(e|s)?\b/, /\bnon,? merci\b/, /\bcela ne nous interesse pas\b/, /\bca ne nous interesse pas\b/, /\bnous avons deja\b/,
      // es
      /\bno (me |nos )?interesa\b/, /\bno estamos interesados\b/, /\bno,? gracias\b/, /\bya tenemos\b/,
    ],
  ],
  [
    'not_now',
    [
      /\bnot (right )?now\b/, /\bnot at (this|the moment)\b/, /\b(reach|check) (back|in) (in|next|after)\b/, /\bnext (quarter|year|month)\b/, /\b(later|maybe) (this|next) year\b/,
      /\bno budget\b/, /\bbad time\b/, /\btoo busy\b/, /\bcircle back\b/, /\bfollow up (in|next|after)\b/, /\bin a few (months|weeks)\b/,
      // de
      /\bnicht (jetzt|im moment|aktuell|derzeit)\b/, /\bmelden sie sich (im|in|nachstes|nach)\b/, /\bnachste(s|n)? (quartal|jahr|monat)\b/, /\bspater (nochmal|wieder)\b/, /\bkein budget\b/,
      // fr
      /\bpas (maintenant|pour le moment|en ce moment)\b/, /\brecontactez[- ]moi\b/, /\b(le )?trimestre prochain\b/, /\bl'annee prochaine\b/, /\bplus tard\b/,
      // es
      /\bahora no\b/, /\bno (es|por) (buen momento|el momento|ahora)\b/, /\bel proximo (trimestre|ano|mes)\b/, /\bmas adelante\b/, /\bescribame (en|mas)\b/,
    ],
  ],
  [
    'interested',
    [
      /\binterested\b/, /\b(sounds|looks) (good|great|interesting)\b/, /\blet'?s (talk|chat|meet|schedule|set up|do)\b/, /\b(book|schedule|set up) (a|some) (call|meeting|time|demo)\b/, /\bsend (me )?(more )?(info|information|details|pricing)\b/,
      /\bhow much\b/, /\bwhen are you (free|available)\b/, /\btell me more\b/, /\byes\b/, /\bcall me\b/, /\bdemo\b/,
      // de
      /\binteressiert\b/, /\binteressant\b/, /\bklingt gut\b/, /\bgerne\b/, /\btermin\b/, /\bmehr (infos|informationen)\b/, /\brufen sie (mich )?an\b/,
      // fr
      /\binteresse\b/, /\binteressant\b/, /\bvolontiers\b/, /\bavec plaisir\b/, /\brendez-vous\b/, /\bplus d'informations\b/, /\bappelez[- ]moi\b/, /\bquand etes-vous disponible\b/,
      // es
      /\binteresad[oa]\b/, /\bme interesa\b/, /\bsuena bien\b/, /\bcon gusto\b/, /\breunion\b/, /\bmas informacion\b/, /\bllamame\b/, /\bcuando (esta|estas) disponible\b/,
    ],
  ],
];

/** What the lead wrote: the reply with the quoted history (our own message, mostly) cut off. */
export function ownWords(text: string): string {
  return text.split(/\n(?:>|On .{0,200} wrote:|Am .{0,200} schrieb|Le .{0,200} a écrit|El .{0,200} escribió|-{2,} ?Original)/i)[0] ?? text;
}

/**
 * Lower-case, accents removed, quoted history cut off: the classes are read from what the lead
 * wrote, not from our own message quoted below it.
 */
export function foldReply(text: string): string {
  return ownWords(text)
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[’‘]/g, "'")
    .replace(/ß/g, 'ss')
    .toLowerCase();
}

export interface RuleVerdict {
  class: ReplyClass;
  /** The pattern that decided, for the audit; null when none did and the default was used. */
  rule: string | null;
}

/**
 * The rules' class of a reply. Nothing matched: `interested` with `rule: null` — a person who
 * wrote back without refusing is a lead to answer — and the caller may ask the AI instead.
 */
export function classifyByRules(text: string, subject?: string): RuleVerdict {
  const folded = foldReply(`${subject ? `${subject}\n` : ''}${text}`);
  for (const [replyClass, patterns] of RULES) {
    const hit = patterns.find((pattern) => pattern.test(folded));
    if (hit) return { class: replyClass, rule: hit.source };
  }
  return { class: 'interested', rule: null };
}
