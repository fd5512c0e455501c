// Texts of portalflows: [en, nl, de]. Filled by the work on that area.
export const portalflowsTexts = {
};
