import type nodemailer from 'nodemailer';
import { BusinessError, effect, undoing, type EffectResult, type Keyed } from 'onceflow/activity';
import type { CorrectionEmailInput, Correction, EmailInput, SentEmail } from '../types.js';

/** The Message-ID an intent key gives an email: the same action always carries the same ID. */
export function messageIdFor(key: string): string {
  return `<${key}@onceflow>`;
}

/**
 * Activities against SMTP (a real relay or the sandbox), through nodemailer. SMTP cannot dedup, so
 * the ledger is the only guard; after a crash the tools' `verify` recovery asks the mailbox's lookup
 * API whether the Message-ID arrived, and escalates to a person when there is no lookup.
 */
export function createEmailActivities(
  mailer: nodemailer.Transporter,
  options: { from: string; lookupUrl: string | undefined },
) {
  async function delivered(messageId: string): Promise<SentEmail | undefined> {
    if (!options.lookupUrl) return undefined;
    const url = new URL('/messages', options.lookupUrl);
    url.searchParams.set('message_id', messageId);
    const response = await fetch(url);
    if (!response.ok) throw new Error(`email lookup answered ${response.status}`);
    const body = (await response.json()) as { data: { to?: string[] }[] };
    const first = body.data[0];
    return first ? { messageId, accepted: first.to ?? [] } : undefined;
  }

  async function send(input: EmailInput, messageId: string, key: string): Promise<SentEmail> {
    try {
      const info = (await mailer.sendMail({
        from: options.from,
        to: input.to,
        subject: input.subject,
        text: input.text,
        messageId,
        headers: { 'X-Onceflow-Key': key },
      })) as { accepted: (string | { address: string })[] };
      return { messageId, accepted: info.accepted.map((a) => (typeof a === 'string' ? a : a.address)) };
    } catch (err) {
      // 5xx is the server's final word on this message; 4xx and dropped connections are worth a retry.
      const {
        responseCode: code,
        response,
        command,
      } = err as {
        responseCode?: number;
        response?: string;
        command?: string;
      };
      if (code !== undefined && code >= 500) {
        throw new BusinessError('EMAIL_REJECTED', `SMTP ${code}: ${(err as Error).message}`, {
          smtp_code: code,
          smtp_response: response ?? null,
          smtp_command: command ?? null,
        });
      }
      throw err;
    }
  }

  // Without a lookup there is no way to verify, and effect() escalates instead.
  const verifying = <T>(messageId: string, asResult: (sent: SentEmail) => T) =>
    options.lookupUrl
      ? {
          verify: async () => {
            const found = await delivered(messageId);
            return found ? { found: true as const, result: asResult(found) } : { found: false as const };
          },
        }
      : {};

  return {
    /** Sends one email with Message-ID derived from its intent key. Irreversible. */
    async sendEmail({ intent, input }: Keyed<EmailInput>): Promise<EffectResult<SentEmail>> {
      const messageId = messageIdFor(intent.key);
      return effect(
        intent,
        () => send(input, messageId, intent.key),
        verifying(messageId, (sent) => sent),
      );
    },

    /**
     * Compensation of sendEmail: a correcting email, sent only when the original's recorded outcome
     * says it was sent, or it is unknown and the mailbox lookup finds it. Never attempted, or
     * rejected, is nothing to correct.
     */
    async sendCorrectionEmail({
      intent,
      input,
    }: Keyed<CorrectionEmailInput>): Promise<EffectResult<Correction>> {
      const messageId = messageIdFor(intent.key);
      const { originalKey, ...email } = input;
      const correct = undoing(
        intent,
        (): Correction => ({ status: 'nothing_to_correct', messageId: null }),
        async (original): Promise<Correction> => {
          // An original whose outcome is unknown may have gone out: ask the mailbox when there is a
          // lookup; without one, a needless correction beats a missing one.
          const unsent =
            original.status === 'unknown' &&
            options.lookupUrl !== undefined &&
            !(await delivered(messageIdFor(originalKey)));
          if (unsent) {
            return { status: 'nothing_to_correct', messageId: null };
          }
          await send(email, messageId, intent.key);
          return { status: 'sent', messageId };
        },
      );
      return effect(
        intent,
        () => correct(),
        verifying(messageId, (): Correction => ({ status: 'sent', messageId })),
      );
    },
  };
}

export type EmailActivities = ReturnType<typeof createEmailActivities>;
