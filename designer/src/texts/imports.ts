// Texts of imports: [en, nl, de]. Filled by the work on that area.
export const importsTexts = {
};
