// Texts of dunning: [en, nl, de]. Filled by the work on that area.
export const dunningTexts = {
};
