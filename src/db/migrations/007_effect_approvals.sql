-- Approvals bound to one effect: a person approved exactly this intent key with these terms
-- (fingerprint). Written by the effect's activity before it claims the key, so the ledger's audit
-- shows who approved what was done; a re-decided call with other terms carries another approval.
CREATE TABLE effect_approvals (
  key text NOT NULL,
  fingerprint text NOT NULL,
  scope text NOT NULL,
  reason text NOT NULL,
  approved_by text,
  note text,
  approved_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (key, fingerprint)
);
CREATE INDEX effect_approvals_scope ON effect_approvals (scope);
