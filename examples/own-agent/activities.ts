import { effect, type Keyed } from 'onceflow/activity';

export async function openTicket({ intent, input }: Keyed<{ ticket_ref: string; title: string }>) {
  return effect(intent, async ({ key }) => {
    const res = await fetch(`${process.env.TICKETS_URL}/tickets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(input),
    });
    if (!res.ok) throw new Error(`tickets API answered ${res.status}`); // retried by Temporal, same key
    return (await res.json()) as { id: string };
  });
}
