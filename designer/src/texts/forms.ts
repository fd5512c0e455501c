// Texts of the node forms, pickers and rules: [en, nl, de].
export const forms = {
} satisfies Record<string, [string, string, string]>;
