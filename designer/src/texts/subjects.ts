// Texts of the subjects list and subject page: [en, nl, de].
export const subjects = {
} satisfies Record<string, [string, string, string]>;
