// Texts of clients: [en, nl, de]. Filled by the work on that area.
export const clientsTexts = {
};
