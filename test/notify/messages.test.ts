/**
 * Message wording and rendering: escaping, local times, the honest "left-valid" note, redaction, and
 * SMTP errors stripped of credentials.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { bookingConfirmed, bookingRevoked, type BookingFacts } from '../../src/notify/messages.js';
import { render, localWindow, redactHtml, redactText } from '../../src/notify/render.js';
import { safeSmtpError } from '../../src/notify/transport.js';
import { Outbox } from '../../src/notify/outbox.js';
import { SecretBox } from '../../src/security/crypto.js';
import { openStore, type Store } from '../../src/store/db.js';

const at = (iso: string, zone: string) => DateTime.fromISO(iso, { zone }).toMillis();

const facts = (over: Partial<BookingFacts> = {}): BookingFacts => ({
  bookingId: 'bk_1',
  title: null,
  spaceName: 'Studio <A>',
  locationName: 'HQ & Annex',
  timeZone: 'Europe/London',
  startsAt: at('2026-07-01T09:00', 'Europe/London'),
  endsAt: at('2026-07-01T11:00', 'Europe/London'),
  personName: 'Zoë "Z" <script>',
  pins: [{ integrationName: 'Doors', pin: '482913' }],
  doors: [{ targetName: 'Front door', from: at('2026-07-01T08:45', 'Europe/London'), until: at('2026-07-01T11:15', 'Europe/London') }],
  stillPending: false,
  ...over,
});

describe('notification messages', () => {
  it('escapes every value in the HTML part and keeps the text part readable', () => {
    const m = render(bookingConfirmed(facts()));
    expect(m.html).toContain('Zoë &quot;Z&quot; &lt;script&gt;');
    expect(m.html).toContain('Studio &lt;A&gt;, HQ &amp; Annex');
    expect(m.html).not.toContain('<script>');
    expect(m.text).toContain('Hello Zoë "Z" <script>,');
    expect(m.text).toContain('When: Wed 1 Jul 2026, 09:00 – 11:00 (Europe/London)');
    expect(m.text).toContain('PIN: 482913');
  });

  it('masks PINs and codes in the redacted copy only', () => {
    const m = render(bookingConfirmed(facts({ doors: [{ targetName: 'Locker', from: 0, until: 3_600_000, credential: { kind: 'pin', secret: '7788', instructions: 'Press the lock then the code', validFrom: null, validUntil: null, firstUseBefore: null } }] })));
    const redacted = { text: redactText(m.text, m.secrets), html: redactHtml(m.html, m.secrets) };
    expect(m.text).toContain('7788');
    expect(redacted.text).not.toContain('7788');
    expect(redacted.text).not.toContain('482913');
    expect(redacted.html).not.toContain('482913');
    expect(redacted.text).toContain('PIN: ••••••');
  });

  it('says honestly that an offline code keeps working until it expires after a cancellation, and must not be used', () => {
    const until = at('2026-07-02T00:00', 'Europe/London');
    const m = render(bookingRevoked(facts({ doors: [{ targetName: 'Garden gate', from: 0, until, leftValidUntil: until }] })));
    expect(m.subject).toMatch(/^Booking cancelled: Studio <A>/);
    expect(m.text).toMatch(/The code for Garden gate works offline .* keeps working until Thu 2 Jul 2026, 00:00 \(Europe\/London\), but you must not use it\./);
    expect(m.text).not.toContain('482913');
  });

  it('notes when access is still being set up', () => {
    expect(render(bookingConfirmed(facts({ stillPending: true }))).text).toContain('NOTE: Your access is still being set up');
    expect(render(bookingConfirmed(facts())).text).not.toContain('NOTE:');
  });

  it('writes windows across midnight and DST in the zone given', () => {
    expect(localWindow(at('2026-10-24T22:00', 'Europe/London'), at('2026-10-25T02:00', 'Europe/London'), 'Europe/London')).toBe(
      'Sat 24 Oct 2026, 22:00 – Sun 25 Oct 2026, 02:00 (Europe/London)',
    );
    expect(localWindow(Date.UTC(2026, 6, 1, 13), Date.UTC(2026, 6, 1, 14), 'America/New_York')).toBe('Wed 1 Jul 2026, 09:00 – 10:00 (America/New_York)');
  });

  it('strips SMTP credentials from errors', () => {
    const err = Object.assign(new Error('Invalid login for smtp://mailer:hunter2@mail.example.com: 535 hunter2 rejected'), { code: 'EAUTH', responseCode: 535 });
    const text = safeSmtpError(err, ['hunter2']);
    expect(text).toMatch(/^EAUTH 535: /);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('mailer:');
  });
});

describe('the outbox: a sealed body and its redacted copies', () => {
  const box = new SecretBox(randomBytes(32));
  let store: Store;
  let outbox: Outbox;
  beforeEach(async () => {
    store = openStore(':memory:');
    await store.migrate();
    outbox = new Outbox(store.db, box);
  });
  afterEach(() => store.close());

  it('seals the parts once with their secrets, and masks them when the row is read', async () => {
    const message = render(bookingConfirmed(facts()));
    expect(await outbox.add({ organisationId: null, personId: null, toAddress: 'z@example.com', kind: 'booking.confirmed', dedupeKey: 'k1', message }, false)).toBe(true);
    const row = await store.db.selectFrom('notifications').selectAll().executeTakeFirstOrThrow();
    expect(Object.keys(JSON.parse(box.open(row.bodySealed))).sort()).toEqual(['html', 'secrets', 'text']);
    const body = outbox.open(row);
    expect(body).toEqual({ text: message.text, html: message.html, redactedText: redactText(message.text, message.secrets), redactedHtml: redactHtml(message.html, message.secrets) });
    expect(body.redactedText).not.toContain('482913');
    expect(body.redactedHtml).not.toContain('482913');
    expect(body.text).toContain('482913');
  });

  it('reads rows written before, with the redacted copies stored', () => {
    const old = { text: 'PIN 482913', html: '<p>PIN 482913</p>', redactedText: 'PIN ••••••', redactedHtml: '<p>PIN ••••••</p>' };
    expect(outbox.open({ bodySealed: box.seal(JSON.stringify(old)) })).toEqual(old);
  });
});
