// Texts of the roles, members and users: [en, nl, de].
export const admin = {
} satisfies Record<string, [string, string, string]>;
