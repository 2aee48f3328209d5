// An audit entry in words: its detail (JSON the server stored, never
// personal data) read into the parameters of its sentence, and the target
// shown as the id it is, or a teammate's name when we know them.
import { useSession } from "../stores/session";

export interface AuditEntry {
  id: string;
  actor_id: string;
  actor_name?: string | null;
  action: string;
  target: string;
  detail: string;
  created_at: number;
}

export function auditDetail(e: Pick<AuditEntry, "detail">): Record<string, string> {
  try {
    const d = JSON.parse(e.detail) as Record<string, unknown>;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(d)) out[k] = Array.isArray(v) ? v.join(", ") : String(v);
    return out;
  } catch {
    return {};
  }
}

export function describeAudit(e: AuditEntry): { params: Record<string, string>; target: string } {
  const target = e.target.startsWith("ag_") ? useSession().agentName(e.target) : e.target;
  return { params: auditDetail(e), target };
}
