import * as z from 'zod';

/** Roles a caller can hold; access levels of tools map onto them below. */
export const RoleSchema = z.enum(['viewer', 'operator', 'approver', 'admin']);
export type Role = z.infer<typeof RoleSchema>;

/** What a tool needs from its caller. */
export type Access = 'read' | 'write' | 'approve' | 'admin';

/** The caller of one request, after authentication. */
export interface Identity {
  /** Stable id: the token's `sub`, `apikey:<id>`, or `local`. */
  subject: string;
  /** Display name: the token's name/email claim, the API key's name, or the OS user. */
  name: string;
  roles: Role[];
  /** How the caller proved who they are; `slack` for a signed Slack interaction mapped to an approver. */
  method: 'oauth' | 'apiKey' | 'local' | 'slack';
  clientId?: string;
}

const GRANTS: Record<Role, readonly Access[]> = {
  viewer: ['read'],
  operator: ['read', 'write'],
  // Approvers review others' changes; they do not make changes unless they also hold operator.
  approver: ['read', 'approve'],
  admin: ['read', 'write', 'approve', 'admin'],
};

export function canAccess(roles: readonly Role[], access: Access): boolean {
  return roles.some((r) => GRANTS[r].includes(access));
}

/** The least privileged role that grants an access level, for error messages. */
export function roleFor(access: Access): Role {
  return ({ read: 'viewer', write: 'operator', approve: 'approver', admin: 'admin' } as const)[access];
}
