// Texts of the all tasks, instances, starting flows: [en, nl, de].
export const work = {
} satisfies Record<string, [string, string, string]>;
