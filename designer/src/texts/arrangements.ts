// Texts of reviewed payment arrangements (M5): [en, nl, de].
export const arrangementsTexts = {
};
