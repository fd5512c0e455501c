// Texts of the history entries, problems and statuses: [en, nl, de].
export const history = {
} satisfies Record<string, [string, string, string]>;
