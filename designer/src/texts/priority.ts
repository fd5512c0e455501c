// Texts of priority: [en, nl, de]. Filled by the work on that area.
export const priorityTexts = {
};
