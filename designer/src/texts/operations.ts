// Texts of the schedules, outbox and settings: [en, nl, de].
export const operations = {
} satisfies Record<string, [string, string, string]>;
