import { describe, expect, it } from 'vitest';
import { autoReplyReason, bounceOf, isBulkMail, isDeliveryReport, parseDeliveryStatus, stripQuoted } from './inboundMail.ts';

const headers = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([k, v]) => [k.toLowerCase(), [v]]));

const REPORT = `Reporting-MTA: dns; mx.lead.test
Arrival-Date: Wed, 2 Dec 2026 10:00:00 +0100

Final-Recipient: rfc822; ann@lead.test
Original-Recipient: rfc822;ann@lead.test
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <ann@lead.test>: Recipient address
 rejected: User unknown
`;

describe('delivery status notifications', () => {
  it('reads each recipient and tells hard from soft', () => {
    const recipients = parseDeliveryStatus(REPORT);
    expect(recipients).toEqual([
      { recipient: 'ann@lead.test', action: 'failed', status: '5.1.1', diagnostic: '550 5.1.1 <ann@lead.test>: Recipient address rejected: User unknown' },
    ]);
    expect(bounceOf(recipients)).toMatchObject({ bounceType: 'hard', status: '5.1.1', recipient: 'ann@lead.test' });
    expect(bounceOf(parseDeliveryStatus(REPORT.replace('5.1.1', '4.2.2').replace('Action: failed', 'Action: delayed')))).toMatchObject({ bounceType: 'soft', status: '4.2.2' });
    expect(bounceOf(parseDeliveryStatus(REPORT.replace('Status: 5.1.1', 'Status: 4.4.7')))).toMatchObject({ bounceType: 'soft' });
    expect(bounceOf(parseDeliveryStatus(REPORT.replace('Action: failed', 'Action: delivered').replace('5.1.1', '2.0.0')))).toBeUndefined();
  });

  it('knows a delivery report by its content type', () => {
    expect(isDeliveryReport('multipart/report; report-type=delivery-status; boundary="x"')).toBe(true);
    expect(isDeliveryReport('multipart/report; report-type=disposition-notification')).toBe(false);
  });
});

describe('auto-replies', () => {
  it('knows RFC 3834 and the common headers', () => {
    expect(autoReplyReason(headers({ 'Auto-Submitted': 'auto-replied' }), 'Re: hello', 'Thanks')).toBe('auto-submitted');
    expect(autoReplyReason(headers({ 'Auto-Submitted': 'no' }), 'Re: hello', 'Thanks')).toBeUndefined();
    expect(autoReplyReason(headers({ 'X-Autoreply': 'yes' }), 'Re: hello', '')).toBe('x-autoreply');
    expect(autoReplyReason(headers({ Precedence: 'auto_reply' }), 'Re: hello', '')).toBe('precedence');
  });

  it.each(['Automatic reply: Quick question', 'Out of Office: Quick question', 'Abwesenheitsnotiz: Frage', 'Automatische Antwort: Frage', 'Réponse automatique : Question', 'Respuesta automática: Pregunta', 'Fuera de la oficina'])(
    'knows the subject %s',
    (subject) => expect(autoReplyReason(new Map(), subject, 'x')).toBe('subject'),
  );

  it('knows an opening line, but not a holiday mentioned in a real answer', () => {
    expect(autoReplyReason(new Map(), 'Re: Quick question', 'Thank you for your email. I am currently out of the office until Monday.')).toBe('text');
    expect(autoReplyReason(new Map(), 'Re: Frage', 'Ich bin bis 14.12. nicht im Büro.')).toBe('text');
    expect(autoReplyReason(new Map(), 'Re: Quick question', `Sounds great, let's talk.${' '.repeat(500)}I am out of the office next week though.`)).toBeUndefined();
  });

  it('tells bulk mail apart', () => {
    expect(isBulkMail(headers({ 'List-Unsubscribe': '<mailto:x@y>' }))).toBe(true);
    expect(isBulkMail(headers({ Precedence: 'bulk' }))).toBe(true);
    expect(isBulkMail(headers({}))).toBe(false);
  });
});

describe('stripQuoted', () => {
  it.each([
    ['Sounds good, call me Tuesday.\n\nOn Mon, 30 Nov 2026 at 10:00, Rep <rep@acme.test> wrote:\n> Hi Ann', 'Sounds good, call me Tuesday.'],
    ['Gerne!\n\nAm 30.11.2026 um 10:00 schrieb Rep <rep@acme.test>:\n> Hallo', 'Gerne!'],
    ['Avec plaisir.\n\nLe lun. 30 nov. 2026 à 10:00, Rep <rep@acme.test> a écrit :\n> Bonjour', 'Avec plaisir.'],
    ['Claro.\n\nEl lun, 30 nov 2026 a las 10:00, Rep (<rep@acme.test>) escribió:\n> Hola', 'Claro.'],
    ['Yes please.\n\n-----Original Message-----\nFrom: Rep\nSent: Monday', 'Yes please.'],
    ['Yes please.\n________________________________\nFrom: Rep <rep@acme.test>\nSent: Monday', 'Yes please.'],
    ['Interested.\nOn Mon, 30 Nov 2026 at 10:00, Rep <rep@acme.test>\nwrote:\n> Hi', 'Interested.'],
    ['> only a quote', '> only a quote'],
  ])('%j', (text, expected) => expect(stripQuoted(text)).toBe(expected));
});
