// Texts of procedures: [en, nl, de]. Filled by the work on that area.
export const proceduresTexts = {
};
