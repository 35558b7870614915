/** The per-request (2026-07-28 era) protocol revisions this server serves; the SDK's SUPPORTED_PROTOCOL_VERSIONS lists the 2025 era's. */
export const MODERN_PROTOCOL_VERSIONS: readonly string[] = ['2026-07-28'];
